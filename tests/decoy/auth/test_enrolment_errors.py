"""Enrolment's errors say what is wrong, at the field and in the error summary: the person has already
proven their password. Signing in keeps one answer for every wrong part."""

from __future__ import annotations

import re

from tests.support import PASSWORD, AuthActions

from .support import admin_post, reset_code_in

GENERIC = "Check your username, password and code."


def _summary(html: str) -> str:
    match = re.search(r'<div class="govuk-error-summary".*?</div>\s*</div>', html, re.S)
    assert match, "no error summary"
    return match.group(0)


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_a_wrong_first_code_says_the_code_is_wrong_or_expired_at_the_field(client, factory, auth):
    factory.user("dora", "detective")
    auth.password_step("dora")
    assert auth.choose_password_step(auth.own_password(PASSWORD)).status_code == 302
    response = auth.code_step(_wrong(auth.code("dora")), "/login/enrol")
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert GENERIC not in html
    assert "The code is wrong or has expired" in _summary(html)
    assert '<a href="#code">The code is wrong or has expired' in html
    assert re.search(r'<p class="field-error" id="code-error">.*The code is wrong or has expired', html)
    assert 'aria-describedby="code-hint code-error"' in html
    assert html.index("govuk-error-summary") < html.index("<h1")


def test_differing_passwords_at_enrolment_are_named_at_the_repeat_field(client, factory, auth):
    factory.user("dora", "detective")
    auth.password_step("dora")
    response = auth.choose_password_step("hello, how are you today", repeat="hello, how are you")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and GENERIC not in html
    assert '<a href="#repeat">the two passwords differ</a>' in html
    assert re.search(r'id="repeat-error">.*the two passwords differ', html)
    short = auth.choose_password_step("too short").get_data(as_text=True)
    assert '<a href="#new_password">password: at least 12 characters</a>' in short


def test_a_wrong_reset_code_is_named_at_its_field(app, client, factory, auth, clock):
    factory.user("root", "admin")
    dora = factory.user("dora", "detective")
    auth.login("dora")
    auth.logout()
    desk = app.test_client()
    admin = AuthActions(desk, factory, clock)
    admin.login("root")
    reset_code_in(admin_post(desk, admin, f"/admin/users/{dora.id}/reset-second-factor"))
    auth.password_step("dora")
    response = auth.choose_password_step("hello, how are you today", "0000-0000-0000-0000")
    html = response.get_data(as_text=True)
    assert response.status_code == 401 and GENERIC not in html
    assert '<a href="#reset_code">The reset code is wrong.' in html
    assert re.search(r'id="reset_code-error">.*The reset code is wrong', html)


def test_the_lockout_at_enrolment_is_said_plainly(client, factory, auth, app):
    factory.user("dora", "detective")
    auth.password_step("dora")
    auth.choose_password_step(auth.own_password(PASSWORD))
    wrong = _wrong(auth.code("dora"))
    for _attempt in range(app.config["LOCKOUT_THRESHOLD"] - 1):
        auth.code_step(wrong, "/login/enrol")
    html = auth.code_step(wrong, "/login/enrol").get_data(as_text=True)
    assert "your account is locked for" in html


def test_signing_in_keeps_one_answer_for_every_wrong_part(client, factory, auth, clock):
    factory.user("dora", "detective")
    auth.login("dora")
    auth.logout()
    wrong_password = auth.password_step("dora", "not the password at all").get_data(as_text=True)
    assert GENERIC in _summary(wrong_password)
    clock.advance(seconds=30)
    auth.password_step("dora")
    wrong_code = auth.code_step(_wrong(auth.code("dora")))
    assert wrong_code.status_code == 401
    assert GENERIC in _summary(wrong_code.get_data(as_text=True))
    assert "wrong or has expired" not in wrong_code.get_data(as_text=True)
