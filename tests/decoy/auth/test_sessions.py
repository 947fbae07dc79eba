"""Server-side sessions: the cookie names a session row that signing out, deactivation, a second-factor
reset and a password change end for good; a replayed cookie then signs no one in, on pages or the API."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from tests.decoy.auth.support import COOKIE, actions, admin_post, sessions_of, tokens_of
from tests.support import AuthActions, csrf_from


def _cookie(client):
    return client.get_cookie(COOKIE).value


def _replay(client, value):
    client.set_cookie(COOKIE, value)


def test_a_cookie_replayed_after_logout_signs_no_one_in(app, client, factory, auth):
    factory.user("dora", "detective")
    auth.login("dora")
    page = client.get("/account/tokens")
    assert page.status_code == 200
    stolen, csrf = _cookie(client), csrf_from(page.get_data(as_text=True))
    assert auth.logout().status_code == 302
    _replay(client, stolen)

    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    _replay(client, stolen)
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"
    _replay(client, stolen)
    response = client.post("/account/tokens", data={"name": "after logout", "days": 30, "csrf_token": csrf})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    _replay(client, stolen)
    response = client.post("/api/v1/operations", json={"name": "after logout"}, headers={"X-CSRFToken": csrf})
    assert response.status_code == 401
    assert tokens_of(app, "dora") == []


def test_the_cookie_names_a_session_row_not_an_account(app, client, factory, auth):
    dora = factory.user("dora", "detective")
    auth.login("dora")
    with client.session_transaction() as cookie:
        key = cookie["_user_id"]
        assert "epoch" not in cookie and "login_at" not in cookie
    assert key != str(dora.id) and len(key) >= 40
    (row,) = sessions_of(app, "dora")
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in row.key_hash
    assert row.ended_at is None and row.user_id == dora.id


def test_a_cookie_naming_no_session_signs_no_one_in(client, factory, auth):
    factory.user("dora", "detective")
    auth.login("dora")
    with client.session_transaction() as cookie:
        cookie["_user_id"] = "not-a-session-key"
    response = client.get("/")
    assert response.status_code == 302 and "expired=1" in response.headers["Location"]
    with client.session_transaction() as cookie:
        assert "_user_id" not in cookie


def test_logout_ends_the_session_row_with_its_audit_entry(app, client, factory, auth):
    factory.user("dora", "detective")
    auth.login("dora")
    (row,) = sessions_of(app, "dora")
    success = actions(app, "login.success")[-1]
    assert success["details"]["session"] == row.id
    auth.logout()
    (row,) = sessions_of(app, "dora")
    assert row.ended_at is not None and row.end_reason == "logout"
    ended = actions(app, "session.end")
    assert [(entry["actor"], entry["object"]["id"], entry["details"]["reason"]) for entry in ended] == [
        ("dora", row.id, "logout")
    ]


def test_signing_out_ends_only_that_session(app, factory, clock):
    factory.user("dora", "detective")
    laptop, phone = app.test_client(), app.test_client()
    on_laptop, on_phone = AuthActions(laptop, factory, clock), AuthActions(phone, factory, clock)
    on_laptop.login("dora")
    on_phone.login("dora")
    on_laptop.logout()
    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 200


def test_deactivation_ends_every_session_and_reactivation_revives_none(app, factory, clock):
    factory.user("root", "admin")
    dora = factory.user("dora", "detective")
    laptop, phone, desk = app.test_client(), app.test_client(), app.test_client()
    AuthActions(laptop, factory, clock).login("dora")
    AuthActions(phone, factory, clock).login("dora")
    stolen = _cookie(phone)
    admin = AuthActions(desk, factory, clock)
    admin.login("root")
    admin_post(desk, admin, f"/admin/users/{dora.id}/deactivate")
    assert [row.end_reason for row in sessions_of(app, "dora")] == ["deactivated", "deactivated"]
    ended = actions(app, "session.end")
    assert {entry["actor"] for entry in ended} == {"root"} and len(ended) == 2
    admin_post(desk, admin, f"/admin/users/{dora.id}/activate")
    assert laptop.get("/").status_code == 302
    _replay(phone, stolen)
    assert phone.get("/api/v1/me").status_code == 401


def test_a_second_factor_reset_ends_every_session(app, factory, clock):
    factory.user("root", "admin")
    dora = factory.user("dora", "detective")
    laptop, desk = app.test_client(), app.test_client()
    AuthActions(laptop, factory, clock).login("dora")
    assert laptop.get("/").status_code == 200
    admin = AuthActions(desk, factory, clock)
    admin.login("root")
    admin_post(desk, admin, f"/admin/users/{dora.id}/reset-second-factor")
    assert laptop.get("/").status_code == 302
    assert [row.end_reason for row in sessions_of(app, "dora")] == ["second_factor_reset"]


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, factory, clock):
    factory.user("dora", "detective")
    laptop, phone = app.test_client(), app.test_client()
    here, there = AuthActions(laptop, factory, clock), AuthActions(phone, factory, clock)
    here.login("dora")
    there.login("dora")
    clock.advance(seconds=30)
    current = here.password_of("dora")
    response = laptop.post("/account/tokens", data={
        "password-current_password": current, "password-code": here.code("dora"),
        "password-new_password": "a fresh password of mine", "password-repeat": "a fresh password of mine",
        "password-csrf_token": here.csrf(),
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302
    kept, ended = sessions_of(app, "dora")
    assert kept.ended_at is None and ended.end_reason == "password_change"


def test_idle_and_absolute_limits_are_kept_on_the_server(app, client, factory, auth, clock):
    factory.user("dora", "detective")
    auth.login("dora")
    stale = _cookie(client)
    clock.advance(minutes=29)
    assert client.get("/").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/")
    assert response.status_code == 302 and "expired=1" in response.headers["Location"]
    _replay(client, stale)  # the cookie holds no times: replaying it changes nothing
    assert client.get("/api/v1/me").status_code == 401

    auth.login("dora")
    signed_in = clock.now()
    for _ in range(30):
        clock.advance(minutes=29)
        if client.get("/").status_code != 200:
            break
    assert timedelta(hours=12) < clock.now() - signed_in <= timedelta(hours=12, minutes=29)
    assert client.get("/").status_code == 302
    rows = sessions_of(app, "dora")
    # Timed-out sessions are over by their times; their rows name no reason they did not end for.
    assert [row.end_reason for row in rows] == [None, None]


def test_the_last_seen_time_is_written_at_most_once_a_minute(app, client, factory, auth, clock):
    factory.user("dora", "detective")
    auth.login("dora")
    (row,) = sessions_of(app, "dora")
    started = row.last_seen_at
    clock.advance(seconds=50)
    client.get("/")
    assert sessions_of(app, "dora")[0].last_seen_at == started
    clock.advance(seconds=20)
    client.get("/")
    assert sessions_of(app, "dora")[0].last_seen_at == clock.now()


def test_each_sign_in_is_a_new_session(app, client, factory, auth):
    factory.user("dora", "detective")
    auth.login("dora")
    first = _cookie(client)
    auth.logout()
    auth.login("dora")
    assert _cookie(client) != first
    keys = [row.key_hash for row in sessions_of(app, "dora")]
    assert len(set(keys)) == 2 and all(re.fullmatch(r"[0-9a-f]{64}", key) for key in keys)
