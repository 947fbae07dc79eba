"""Deactivating an account and resetting a second factor each ask for confirmation first (GET: the
account, what will happen, a danger button and Cancel; POST: done). An administrator's own second factor
is reset by another administrator while there is one; the sole administrator is warned."""

from __future__ import annotations

import re

from tests.decoy.auth.support import account, actions, admin_post, reset_code_in
from tests.support import AuthActions


def _enrolled(app, factory, clock, username):
    """A person who has signed in once (their second factor confirmed)."""
    person = factory.user(username, "detective")
    AuthActions(app.test_client(), factory, clock).login(username)
    return person


def _admin(app, factory, clock, username="root"):
    desk = app.test_client()
    admin = AuthActions(desk, factory, clock)
    admin.login(username)
    return desk, admin


def test_the_accounts_page_links_to_confirmation_pages_and_changes_nothing_by_itself(app, factory, clock):
    factory.user("root", "admin")
    dora = _enrolled(app, factory, clock, "dora")
    desk, _admin_actions = _admin(app, factory, clock)
    page = desk.get("/admin/users").get_data(as_text=True)
    assert f'<a href="/admin/users/{dora.id}/reset-second-factor">' in page
    assert f'<a href="/admin/users/{dora.id}/deactivate">' in page
    assert f'action="/admin/users/{dora.id}/reset-second-factor"' not in page
    assert f'action="/admin/users/{dora.id}/deactivate"' not in page
    before = len(actions(app, "second_factor.reset"))
    confirm = desk.get(f"/admin/users/{dora.id}/reset-second-factor")
    assert confirm.status_code == 200
    assert len(actions(app, "second_factor.reset")) == before
    assert account(app, "dora").totp_confirmed


def test_the_reset_confirmation_summarises_the_account_and_what_happens(app, factory, clock):
    factory.user("root", "admin")
    dora = _enrolled(app, factory, clock, "dora")
    desk, admin = _admin(app, factory, clock)
    html = desk.get(f"/admin/users/{dora.id}/reset-second-factor").get_data(as_text=True)
    assert "<h1>Reset the second factor of dora?</h1>" in html
    summary = re.search(r'<dl class="summary" id="account-summary".*?</dl>', html, re.S).group(0)
    assert "<dd>dora</dd>" in summary and "<dd>detective</dd>" in summary and "<dd>confirmed</dd>" in summary
    assert "Every session of the account ends at once." in html
    assert "A one-time reset code is shown to you once" in html
    assert '<button type="submit" class="danger">Reset the second factor</button>' in html
    assert '<a href="/admin/users">Cancel</a>' in html
    done = admin_post(desk, admin, f"/admin/users/{dora.id}/reset-second-factor")
    assert done.status_code == 200 and reset_code_in(done)
    assert not account(app, "dora").totp_confirmed


def test_the_deactivation_confirmation_says_what_happens_then_deactivates(app, factory, clock):
    factory.user("root", "admin")
    dora = factory.user("dora", "detective")
    desk, admin = _admin(app, factory, clock)
    html = desk.get(f"/admin/users/{dora.id}/deactivate").get_data(as_text=True)
    assert "<h1>Deactivate dora?</h1>" in html
    assert "revoked for good" in html and "Every session of the account ends at once" in html
    assert '<button type="submit" class="danger">Deactivate the account</button>' in html
    assert account(app, "dora").is_active
    assert admin_post(desk, admin, f"/admin/users/{dora.id}/deactivate").status_code == 302
    assert not account(app, "dora").is_active


def test_an_admin_cannot_reset_their_own_second_factor_while_another_admin_can(app, factory, clock):
    root = factory.user("root", "admin")
    factory.user("ada", "admin")
    desk, admin = _admin(app, factory, clock)
    page = desk.get(f"/admin/users/{root.id}/reset-second-factor")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "ask another administrator to reset your second factor" in html
    assert 'class="danger"' not in html
    refused = admin_post(desk, admin, f"/admin/users/{root.id}/reset-second-factor")
    assert refused.status_code == 403
    assert "ask another administrator" in refused.get_data(as_text=True)
    assert account(app, "root").totp_confirmed and not actions(app, "second_factor.reset")
    assert desk.get("/admin/users").status_code == 200  # the session goes on


def test_the_sole_admin_is_warned_before_resetting_their_own_second_factor(app, factory, clock):
    root = factory.user("root", "admin")
    factory.user("old", "admin")
    desk, admin = _admin(app, factory, clock)
    old = account(app, "old")
    admin_post(desk, admin, f"/admin/users/{old.id}/deactivate")
    html = desk.get(f"/admin/users/{root.id}/reset-second-factor").get_data(as_text=True)
    assert "you are the only active administrator" in html and 'id="own-account-warning"' in html
    assert 'class="danger"' in html
    done = admin_post(desk, admin, f"/admin/users/{root.id}/reset-second-factor")
    assert done.status_code == 200 and reset_code_in(done)
    assert desk.get("/admin/users").status_code == 302  # signed out: the session ended


def test_an_admin_cannot_deactivate_their_own_account(app, factory, clock):
    root = factory.user("root", "admin")
    desk, admin = _admin(app, factory, clock)
    assert f'href="/admin/users/{root.id}/deactivate"' not in desk.get("/admin/users").get_data(as_text=True)
    html = desk.get(f"/admin/users/{root.id}/deactivate").get_data(as_text=True)
    assert "you cannot deactivate it" in html and 'class="danger"' not in html
    assert admin_post(desk, admin, f"/admin/users/{root.id}/deactivate").status_code == 403
    assert account(app, "root").is_active
