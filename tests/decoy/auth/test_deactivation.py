"""Deactivation revokes an account's tokens for good, with their audit entries, in its own transaction;
reactivation brings none of them back."""

from __future__ import annotations

import pytest

from decoy.admin import services as accounts
from decoy.auth import services, tokens
from decoy.db import session_scope
from tests.decoy.auth.support import actions, admin_post, tokens_of
from tests.support import AuthActions


def _calendar_token(app, username):
    with app.app_context(), session_scope(app) as session:
        user = services.find_user(session, username)
        _token, clear = tokens.create_token(session=session, user=user, name="phone", purpose="calendar")
    return clear


def test_reactivation_does_not_revive_the_old_tokens(app, client, factory, clock):
    factory.user("root", "admin")
    dora = factory.user("dora", "detective")
    api_token, calendar_token = factory.token("dora"), _calendar_token(app, "dora")
    bearer = {"Authorization": f"Bearer {api_token}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    assert client.get(f"/reviews.ics?token={calendar_token}").status_code == 200

    desk = app.test_client()
    admin = AuthActions(desk, factory, clock)
    admin.login("root")
    admin_post(desk, admin, f"/admin/users/{dora.id}/deactivate")
    assert all(token.revoked_at == clock.now() for token in tokens_of(app, "dora"))
    revoked = actions(app, "token.revoke")
    assert [(entry["actor"], entry["object"]["id"], entry["details"]["reason"]) for entry in revoked] == [
        ("root", token.id, "deactivated") for token in tokens_of(app, "dora")
    ]

    assert admin_post(desk, admin, f"/admin/users/{dora.id}/activate").status_code == 302
    response = client.get("/api/v1/me", headers=bearer)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"
    assert client.get(f"/reviews.ics?token={calendar_token}").status_code == 401
    # A token made after reactivation works: the account is active again, its old tokens are not.
    fresh = {"Authorization": f"Bearer {factory.token('dora')}"}
    assert client.get("/api/v1/me", headers=fresh).status_code == 200
    assert "Its earlier API tokens stay revoked" in desk.get("/admin/users").get_data(as_text=True)


def test_deactivation_and_its_revocations_commit_together_or_not_at_all(app, factory):
    factory.user("root", "admin")
    dora = factory.user("dora", "detective")
    factory.token("dora")
    before = len(actions(app, "token.revoke"))
    with app.app_context():
        with pytest.raises(RuntimeError), session_scope(app) as session:
            accounts.set_active(session=session, actor="root", user_id=dora.id, active=False)
            raise RuntimeError("the request fails after the deactivation")
    assert [token.revoked_at for token in tokens_of(app, "dora")] == [None]
    assert len(actions(app, "token.revoke")) == before
    with app.app_context(), session_scope(app) as session:
        accounts.set_active(session=session, actor="root", user_id=dora.id, active=False)
    assert tokens_of(app, "dora")[0].revoked_at is not None
    assert len(actions(app, "account.deactivate")) == len(actions(app, "token.revoke")) == 1


def test_an_already_revoked_token_keeps_its_revocation(app, factory, clock):
    factory.user("root", "admin")
    dora = factory.user("dora", "detective")
    factory.token("dora")
    with app.app_context(), session_scope(app) as session:
        (token,) = [row for row in tokens.tokens_of(session, services.find_user(session, "dora"))]
        tokens.revoke_token(session=session, user=services.find_user(session, "dora"), token_id=token.id)
    first = tokens_of(app, "dora")[0].revoked_at
    clock.advance(minutes=5)
    with app.app_context(), session_scope(app) as session:
        accounts.set_active(session=session, actor="root", user_id=dora.id, active=False)
    assert tokens_of(app, "dora")[0].revoked_at == first
    assert [entry["actor"] for entry in actions(app, "token.revoke")] == ["dora"]
