"""Own passwords: the password an administrator sets only reaches the page where the person chooses their
own; after a second-factor reset, enrolling again needs the person's own password and the one-time reset
code, so that an administrator cannot take an account over; a password change needs the current password
and a current code."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import text

from decoy.db import get_engine
from tests.decoy.auth.support import account, actions, admin_post, reset_code_in, sessions_of
from tests.support import PASSWORD, AuthActions, csrf_from

INITIAL = "initial password from the admin"


def _create_on_screen(client, admin, username, roles=("detective",)):
    response = client.post("/admin/users", data={
        "username": username, "password": INITIAL, "roles": list(roles),
        "csrf_token": admin.csrf("/admin/users")})
    assert response.status_code == 302, response.get_data(as_text=True)


def _secret_on_enrol_page(client):
    page = client.get("/login/enrol").get_data(as_text=True)
    match = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page)
    return match.group(1) if match else None


def _enrol(client, secret, clock):
    page = client.get("/login/enrol").get_data(as_text=True)
    return client.post("/login/enrol", data={"code": pyotp.TOTP(secret).at(clock.now()),
                                             "csrf_token": csrf_from(page)})


def test_the_initial_password_only_reaches_the_page_to_choose_ones_own(app, factory, clock):
    factory.user("root", "admin")
    desk, person = app.test_client(), app.test_client()
    admin = AuthActions(desk, factory, clock)
    admin.login("root")
    _create_on_screen(desk, admin, "erin")
    erin = AuthActions(person, factory, clock)

    assert erin.password_step("erin", INITIAL).headers["Location"].endswith("/login/enrol")
    assert _secret_on_enrol_page(person) is None
    assert person.get("/login/code").headers["Location"].endswith("/login/enrol")
    assert person.get("/").status_code == 302
    assert person.get("/api/v1/me").status_code == 401

    assert erin.choose_password_step("erin's own secret words").status_code == 302
    secret = _secret_on_enrol_page(person)
    assert _enrol(person, secret, clock).status_code == 200
    assert person.get("/").status_code == 200
    chosen = [entry["details"]["reason"] for entry in actions(app, "account.password_set")
              if entry["actor"] == "erin"]
    assert chosen == ["first sign-in"]

    erin.logout()
    assert erin.password_step("erin", INITIAL).status_code == 401
    assert erin.password_step("erin", "erin's own secret words").status_code == 302


def test_the_own_password_must_be_new_long_enough_and_typed_twice_alike(client, factory, auth):
    factory.user("dora", "detective")
    auth.password_step("dora")
    for new, repeat, message in [
        (PASSWORD, PASSWORD, "other than the current one"),
        ("short one", "short one", "at least 12 characters"),
        ("a long new password", "a long new passwort", "two passwords differ"),
    ]:
        response = auth.choose_password_step(new, repeat=repeat)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert account(client.application, "dora").must_set_password


def test_after_a_reset_the_admin_cannot_take_the_account_over(app, factory, clock):
    """The administrator knows the initial password and the reset code, never the person's own password."""
    factory.user("root", "admin")
    desk, phone = app.test_client(), app.test_client()
    admin = AuthActions(desk, factory, clock)
    admin.login("root")
    _create_on_screen(desk, admin, "erin")
    erin = AuthActions(phone, factory, clock)
    erin.password_step("erin", INITIAL)
    erin.choose_password_step("erin's own secret words")
    factory.secrets["erin"] = _secret_on_enrol_page(phone)
    _enrol(phone, factory.secrets["erin"], clock)
    erin.passwords["erin"] = "erin's own secret words"
    erin.logout()

    erin_id = account(app, "erin").id
    reset_code = reset_code_in(admin_post(desk, admin, f"/admin/users/{erin_id}/reset-second-factor"))
    admin.logout()

    # The administrator, with everything they know: the initial password is no longer the account's.
    takeover = AuthActions(app.test_client(), factory, clock)
    assert takeover.password_step("erin", INITIAL).status_code == 401
    assert takeover.client.get("/login/enrol").headers["Location"].endswith("/login")

    # Someone with the person's password but not the reset code sees no secret and cannot go on.
    clock.advance(seconds=60)
    thief = AuthActions(app.test_client(), factory, clock)
    assert thief.password_step("erin", "erin's own secret words").status_code == 302
    assert _secret_on_enrol_page(thief.client) is None
    assert thief.choose_password_step("a password of the thief", "0000-0000-0000-0000").status_code == 401
    assert [entry["details"]["stage"] for entry in actions(app, "login.failure")][-1] == "reset_code"
    assert _secret_on_enrol_page(thief.client) is None

    # The person: own password and reset code, then a new password and a new authenticator.
    assert erin.password_step("erin").status_code == 302
    assert erin.choose_password_step("erin's own secret words", reset_code).status_code == 400  # not new
    assert erin.choose_password_step("erin's newer secret words", reset_code).status_code == 302
    new_secret = _secret_on_enrol_page(phone)
    assert new_secret and new_secret != factory.secrets["erin"]
    assert _enrol(phone, new_secret, clock).status_code == 200
    assert phone.get("/").status_code == 200
    assert account(app, "erin").reset_code_hash is None
    chosen = [entry["details"]["reason"] for entry in actions(app, "account.password_set")
              if entry["actor"] == "erin"]
    assert chosen == ["first sign-in", "second factor reset"]
    assert takeover.password_step("erin", "erin's own secret words").status_code == 401  # replaced


def test_a_reset_code_works_once_and_a_new_reset_replaces_it(app, factory, clock):
    factory.user("root", "admin")
    dora = factory.user("dora", "detective")
    desk, phone = app.test_client(), app.test_client()
    person = AuthActions(phone, factory, clock)
    person.login("dora")
    person.logout()
    admin = AuthActions(desk, factory, clock)
    admin.login("root")
    first = reset_code_in(admin_post(desk, admin, f"/admin/users/{dora.id}/reset-second-factor"))
    second = reset_code_in(admin_post(desk, admin, f"/admin/users/{dora.id}/reset-second-factor"))
    assert first != second
    person.password_step("dora")
    assert person.choose_password_step("dora's second password", first).status_code == 401
    assert person.choose_password_step("dora's second password", second.upper()).status_code == 302
    assert [entry["actor"] for entry in actions(app, "second_factor.reset")] == ["root", "root"]


def test_a_password_change_needs_the_current_password_and_a_current_code(app, client, factory, auth, clock):
    factory.user("dora", "detective")
    auth.login("dora")
    current = auth.password_of("dora")

    def change(current_password, code, new="a changed password", repeat=None):
        return client.post("/account/tokens", data={
            "password-current_password": current_password, "password-code": code,
            "password-new_password": new, "password-repeat": new if repeat is None else repeat,
            "password-csrf_token": auth.csrf()})

    clock.advance(seconds=30)
    wrong = "000000" if auth.code("dora") != "000000" else "111111"
    for current_password, code, stage in [("not my password!", auth.code("dora"), "password"),
                                          (current, wrong, "second_factor")]:
        response = change(current_password, code)
        assert response.status_code == 400
        assert "current password or the code is wrong" in response.get_data(as_text=True)
        assert actions(app, "login.failure")[-1]["details"]["stage"] == stage
    assert change(current, auth.code("dora"), new="short").status_code == 400
    same = change(current, auth.code("dora"), new=current)
    assert same.status_code == 400 and "other than the current one" in same.get_data(as_text=True)
    assert account(app, "dora").failed_attempts == 2

    response = change(current, auth.code("dora"))
    assert response.status_code == 302
    assert "Your password is changed" in client.get("/account/tokens").get_data(as_text=True)
    assert account(app, "dora").failed_attempts == 0
    assert [entry["actor"] for entry in actions(app, "account.password_change")] == ["dora"]
    clock.advance(seconds=30)
    assert change(current, auth.code("dora"), new="yet another password").status_code == 400
    auth.logout()
    assert auth.password_step("dora", current).status_code == 401
    assert auth.password_step("dora", "a changed password").status_code == 302


def test_the_account_page_shows_the_password_form(client, factory, auth):
    factory.user("dora", "detective")
    auth.login("dora")
    page = client.get("/account/tokens").get_data(as_text=True)
    for name in ("current_password", "code", "new_password", "repeat"):
        assert f'name="password-{name}"' in page
    assert 'autocomplete="current-password"' in page and 'autocomplete="new-password"' in page


def test_an_enrolled_account_that_never_chose_a_password_chooses_it_with_the_code(app, client, factory, auth,
                                                                                  clock):
    """Accounts from before own passwords (migration 0009 marks them) replace theirs at the code step."""
    factory.user("dora", "detective")
    auth.login("dora")
    auth.logout()
    with get_engine(app).begin() as connection:
        connection.execute(text("UPDATE user_account SET must_set_password = true"))
    in_use = auth.password_of("dora")
    clock.advance(seconds=30)
    response = auth.password_step("dora")
    assert response.headers["Location"].endswith("/login/code")
    page = client.get("/login/code").get_data(as_text=True)
    assert 'name="new_password"' in page
    clock_code = auth.code("dora")
    assert auth.code_step(clock_code).status_code == 400  # the new password is required
    assert client.get("/").status_code == 302
    response = auth.code_step(clock_code, new_password="dora's own words", repeat="dora's own words")
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert not account(app, "dora").must_set_password
    auth.logout()
    assert auth.password_step("dora", in_use).status_code == 401
    assert len(sessions_of(app, "dora")) == 2
