"""Login with two factors, the first sign-in, lockout, recovery codes, sessions and deactivation."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from sqlalchemy import text

from tests.support import PASSWORD, csrf_from


def test_password_alone_does_not_sign_in(client, factory, auth):
    factory.user("dora", "detective")
    response = auth.password_step("dora")
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    assert "/login" in client.get("/").headers["Location"]


def test_first_login_chooses_a_password_enrols_then_both_factors_sign_in(client, factory, auth):
    factory.user("dora", "detective")
    response = auth.password_step("dora")
    assert response.headers["Location"].endswith("/login/enrol")
    page = client.get("/login/enrol").get_data(as_text=True)
    # The secret is shown only once the person has replaced the password someone else set.
    assert factory.secrets["dora"] not in page and "<svg" not in page
    assert 'name="new_password"' in page
    own = auth.own_password(PASSWORD)
    assert auth.choose_password_step(own).headers["Location"].endswith("/login/enrol")
    page = client.get("/login/enrol").get_data(as_text=True)
    assert factory.secrets["dora"] in page
    assert "<svg" in page
    response = auth.code_step(auth.code("dora"), "/login/enrol")
    assert response.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", response.get_data(as_text=True))
    assert len(codes) == 10
    assert client.get("/").status_code == 200


def test_reused_code_is_refused(client, factory, auth, clock):
    factory.user("dora", "detective")
    auth.login("dora")
    used = auth.code("dora")
    auth.logout()
    auth.password_step("dora")
    response = auth.code_step(used)
    assert response.status_code == 401
    assert client.get("/").status_code == 302


def test_wrong_code_is_refused(client, factory, auth, clock):
    factory.user("dora", "detective")
    auth.login("dora")
    auth.logout()
    clock.advance(seconds=60)
    auth.password_step("dora")
    wrong = "000000" if auth.code("dora") != "000000" else "111111"
    assert auth.code_step(wrong).status_code == 401


def test_lockout_engages_after_five_failures_and_expires(client, factory, auth, clock):
    factory.user("dora", "detective")
    auth.login("dora")
    auth.logout()
    for _ in range(5):
        assert auth.password_step("dora", "wrong password here").status_code == 401
    clock.advance(seconds=30)
    assert auth.password_step("dora").status_code == 401
    clock.advance(minutes=14)
    assert auth.password_step("dora").status_code == 401
    clock.advance(minutes=2)
    response = auth.password_step("dora")
    assert response.status_code == 302
    assert auth.code_step(auth.code("dora")).status_code == 302
    assert client.get("/").status_code == 200


def test_wrong_codes_also_lock(client, factory, auth, clock):
    factory.user("dora", "detective")
    auth.login("dora")
    auth.logout()
    auth.password_step("dora")
    for _ in range(5):
        auth.code_step("999999" if auth.code("dora") != "999999" else "888888")
    clock.advance(seconds=30)
    assert auth.password_step("dora").status_code == 401


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, factory, auth):
    factory.user("dora", "detective")
    unknown = auth.password_step("nobody", "whatever password")
    wrong = auth.password_step("dora", "whatever password")
    assert unknown.status_code == wrong.status_code == 401
    strip = re.compile(r'value="[^"]*"')
    assert strip.sub("", unknown.get_data(as_text=True)) == strip.sub("", wrong.get_data(as_text=True))


def test_recovery_code_works_once(client, factory, auth, clock):
    factory.user("dora", "detective")
    auth.password_step("dora")
    own = auth.own_password(PASSWORD)
    auth.choose_password_step(own)
    auth.passwords["dora"] = own
    page = auth.code_step(auth.code("dora"), "/login/enrol").get_data(as_text=True)
    code = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", page)[0]
    auth.logout()
    auth.password_step("dora")
    assert auth.code_step(code).status_code == 302
    assert client.get("/").status_code == 200
    auth.logout()
    auth.password_step("dora")
    assert auth.code_step(code).status_code == 401


def test_deactivated_account_cannot_log_in_and_its_tokens_stop(app, client, factory, auth):
    factory.user("root", "admin")
    dora = factory.user("dora", "detective")
    token = factory.token("dora")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    auth.login("root")
    csrf = auth.csrf("/admin/users")
    assert client.post(f"/admin/users/{dora.id}/deactivate", data={"csrf_token": csrf}).status_code == 302
    auth.logout()
    assert auth.password_step("dora").status_code == 401
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


def test_deactivation_ends_a_running_session(app, factory, clock):
    admin_client, dora_client = app.test_client(), app.test_client()
    from tests.support import AuthActions

    factory.user("root", "admin")
    dora = factory.user("dora", "detective")
    AuthActions(dora_client, factory, clock).login("dora")
    assert dora_client.get("/").status_code == 200
    admin = AuthActions(admin_client, factory, clock)
    admin.login("root")
    admin_client.post(f"/admin/users/{dora.id}/deactivate", data={"csrf_token": admin.csrf("/admin/users")})
    assert dora_client.get("/").status_code == 302


def test_idle_timeout_and_absolute_limit(client, factory, auth, clock):
    factory.user("dora", "detective")
    auth.login("dora")
    clock.advance(minutes=29)
    assert client.get("/").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/")
    assert response.status_code == 302 and "expired=1" in response.headers["Location"]
    auth.login("dora")
    for _ in range(25):
        clock.advance(minutes=29)
        if client.get("/").status_code != 200:
            break
    assert clock.now() - timedelta(hours=12) < clock.now()
    assert client.get("/").status_code == 302


def test_session_is_regenerated_at_login(client, factory, auth):
    factory.user("dora", "detective")
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    auth.login("dora")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_per_address_rate_limit(app_factory, factory, clock):
    app = app_factory(LOGIN_RATE_LIMIT=3)
    client = app.test_client()
    from tests.support import AuthActions, Factory

    local_factory = Factory(app)
    local_factory.user("dora", "detective")
    actions = AuthActions(client, local_factory, clock)
    for _ in range(3):
        assert actions.password_step("dora", "wrong password!").status_code == 401
    assert actions.password_step("dora").status_code == 429


def test_totp_secret_is_encrypted_at_rest(app, factory):
    factory.user("dora", "detective")
    with app.app_context():
        from decoy.db import get_engine

        with get_engine().connect() as connection:
            raw = connection.execute(text("SELECT totp_secret FROM user_account")).scalar_one()
    assert factory.secrets["dora"].encode() not in bytes(raw)


def test_login_form_without_csrf_is_refused(client, factory):
    factory.user("dora", "detective")
    response = client.post("/login", data={"username": "dora", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_state_changing_form_without_csrf_is_refused(client, factory, auth):
    factory.user("root", "admin")
    dora = factory.user("dora", "detective")
    auth.login("root")
    assert client.post(f"/admin/users/{dora.id}/deactivate").status_code == 400


def test_admin_resets_second_factor_and_person_enrols_again(app, client, factory, auth, clock):
    factory.user("root", "admin")
    dora = factory.user("dora", "detective")
    auth.login("dora")
    auth.logout()
    auth.login("root")
    response = client.post(f"/admin/users/{dora.id}/reset-second-factor",
                           data={"csrf_token": auth.csrf("/admin/users")})
    assert response.status_code == 200
    reset_code = re.search(r'id="reset-code"[^>]*>([0-9a-f-]+)<', response.get_data(as_text=True)).group(1)
    assert reset_code not in client.get("/admin/users").get_data(as_text=True)  # shown once
    auth.logout()
    clock.advance(seconds=30)
    response = auth.password_step("dora")
    assert response.headers["Location"].endswith("/login/enrol")
    renewed = auth.own_password(auth.password_of("dora"))
    assert auth.choose_password_step(renewed, reset_code).status_code == 302
    auth.passwords["dora"] = renewed
    page = client.get("/login/enrol").get_data(as_text=True)
    new_secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    assert new_secret != factory.secrets["dora"]
    response = client.post("/login/enrol", data={"code": pyotp.TOTP(new_secret).at(clock.now()),
                                                 "csrf_token": csrf_from(page)})
    assert response.status_code == 200
    assert client.get("/").status_code == 200


def test_admin_creates_an_account_from_the_screen(client, factory, auth):
    factory.user("root", "admin")
    auth.login("root")
    csrf = auth.csrf("/admin/users")
    response = client.post("/admin/users", data={
        "username": "lena", "display_name": "Lena Legal", "password": "a long enough password",
        "roles": ["legal", "supervisor"], "csrf_token": csrf,
    })
    assert response.status_code == 302
    assert "lena" in client.get("/admin/users").get_data(as_text=True)
    bad = client.post("/admin/users", data={
        "username": "mixed", "password": "a long enough password", "roles": ["admin", "legal"],
        "csrf_token": csrf,
    })
    assert bad.status_code == 400
    assert "admin role excludes" in bad.get_data(as_text=True)


def test_login_redirects_only_to_same_site_paths(client, factory, auth, clock):
    factory.user("dora", "detective")
    clock.advance(seconds=30)
    page = client.get("/login?next=//evil.example/steal")
    response = client.post("/login?next=//evil.example/steal", data={
        "username": "dora", "password": PASSWORD, "csrf_token": csrf_from(page.get_data(as_text=True))})
    auth.choose_password_step(auth.own_password(PASSWORD))
    response = auth.code_step(auth.code("dora"), response.headers["Location"])
    assert response.status_code == 200  # enrolment shows recovery codes, with a same-site continue link
    assert "evil.example" not in response.get_data(as_text=True)
