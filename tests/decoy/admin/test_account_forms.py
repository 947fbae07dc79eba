"""The Accounts page's and the account page's forms show each error at its field and in the error summary
above the heading, each summary line a link to its field."""

from __future__ import annotations

import re

from tests.support import AuthActions


def _before_heading(html: str) -> str:
    """The error summary, which must come before the page's heading."""
    summary = html.find('class="govuk-error-summary"')
    assert 0 <= summary < html.index("<h1"), "no error summary before the heading"
    return html[summary:html.index("<h1")]


def _admin(app, factory, clock):
    desk = app.test_client()
    admin = AuthActions(desk, factory, clock)
    admin.login("root")
    return desk, admin


def test_a_refused_new_account_is_explained_at_the_field(app, factory, clock):
    factory.user("root", "admin")
    factory.user("dora", "detective")
    desk, admin = _admin(app, factory, clock)
    response = desk.post("/admin/users", data={
        "username": "dora", "password": "hello, how are you", "roles": ["detective"],
        "csrf_token": admin.csrf("/admin/users")})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<a href="#username">this username is taken</a>' in _before_heading(html)
    assert re.search(r'<p class="field-error" id="username-error">.*this username is taken', html)
    assert 'aria-describedby="username-hint username-error"' in html


def test_missing_roles_are_named_in_the_summary_and_at_the_fieldset(app, factory, clock):
    factory.user("root", "admin")
    desk, admin = _admin(app, factory, clock)
    response = desk.post("/admin/users", data={
        "username": "erin", "password": "hello, how are you", "csrf_token": admin.csrf("/admin/users")})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<a href="#roles">' in _before_heading(html)
    assert 'id="roles-error"' in html


def test_a_refused_verbalisant_code_is_linked_from_the_summary(app, factory, clock):
    factory.user("root", "admin")
    dora = factory.user("dora", "detective")
    erin = factory.user("erin", "detective")
    desk, admin = _admin(app, factory, clock)
    taken = erin.verbalisant_code
    response = desk.post(f"/admin/users/{dora.id}/verbalisant-code",
                         data={"code": taken, "csrf_token": admin.csrf("/admin/users")})
    html = response.get_data(as_text=True)
    assert response.status_code >= 400
    assert f'<a href="#code-{dora.id}">Verbalisant code of dora: ' in _before_heading(html)


def test_the_password_form_of_the_account_page_shows_errors_at_the_field(app, factory, clock):
    factory.user("dora", "detective")
    laptop = app.test_client()
    dora = AuthActions(laptop, factory, clock)
    dora.login("dora")
    response = laptop.post("/account/tokens", data={
        "password-current_password": dora.password_of("dora"), "password-code": dora.code("dora"),
        "password-new_password": "hello, how are you today", "password-repeat": "hello, how are you",
        "csrf_token": dora.csrf()})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<a href="#password-repeat">the two passwords differ</a>' in _before_heading(html)
    assert re.search(r'id="password-repeat-error">.*the two passwords differ', html)
    wrong = laptop.post("/account/tokens", data={
        "password-current_password": "not the password", "password-code": "000000",
        "password-new_password": "hello, how are you today", "password-repeat": "hello, how are you today",
        "csrf_token": dora.csrf()}).get_data(as_text=True)
    assert '<a href="#password-current_password">The current password or the code is wrong.</a>' in (
        _before_heading(wrong))


def test_a_token_without_a_name_is_explained_at_the_field(app, factory, clock):
    factory.user("dora", "detective")
    laptop = app.test_client()
    dora = AuthActions(laptop, factory, clock)
    dora.login("dora")
    html = laptop.post("/account/tokens", data={"name": "", "days": "30", "csrf_token": dora.csrf()}
                       ).get_data(as_text=True)
    assert '<a href="#name">' in _before_heading(html) and 'id="name-error"' in html
