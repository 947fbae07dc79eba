"""Journeys of signing in: the first sign-in (the person's own password, then TOTP enrolment), a wrong code,
signing out for good, and switching the language."""

from __future__ import annotations

from typing import Any

from tests.e2e.support import Browsing, Site, path_of, save_screenshot
from tests.support import PASSWORD

#: The password each person chooses at their first sign-in instead of the one the factory set.
OWN_PASSWORD = f"{PASSWORD} (own)"


def _yet_to_choose_a_password(site: Site, username: str) -> bool:
    from decoy.auth import services
    from decoy.db import session_scope

    with site.app.app_context(), session_scope(site.app) as session:
        return bool(services.find_user(session, username).must_set_password)


def choose_own_password(page: Any, password: str = OWN_PASSWORD) -> None:
    """Enrolment's first step: the person's own password, typed twice."""
    assert path_of(page) == "/login/enrol"
    page.locator("#new_password").fill(password)
    page.locator("#repeat").fill(password)
    page.locator("main form button[type=submit]").click()
    page.locator("#totp-secret").wait_for()


def sign_in(site: Site, browsing: Browsing, username: str, language: str = "en") -> Any:
    """A new page of ``username``, signed in through the forms: at the first sign-in choosing their own
    password and enrolling from the secret on the page, later with that password and a code."""
    page = browsing.page(language)
    first = _yet_to_choose_a_password(site, username)
    browsing.password_step(page, username, PASSWORD if first else OWN_PASSWORD)
    if first:
        choose_own_password(page)
        secret = page.locator("#totp-secret").inner_text().strip()
        page.locator("#code").fill(site.code(username, secret))
        page.locator("main form button[type=submit]").click()
        page.locator("#recovery-codes").wait_for()
        page.locator("main a.button").click()
    else:
        page.locator("#code").fill(site.code(username))
        page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert not path_of(page).startswith("/login"), f"{username} was not signed in: {page.url}"
    return page


def test_first_login_chooses_a_password_then_enrols_totp(site: Site, browsing: Browsing) -> None:
    """A new detective replaces the administrator's password with their own, then reads the secret beside
    the QR code, confirms a code and keeps the recovery codes; the first password no longer works."""
    site.user("erin", "detective")
    page = browsing.page()
    browsing.password_step(page, "erin")
    assert path_of(page) == "/login/enrol"
    assert page.get_by_role("heading", level=1).inner_text() == "Choose your own password"
    assert page.locator("#totp-secret").count() == 0
    page.locator("#new_password").fill(PASSWORD)
    page.locator("#repeat").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    assert "other than the current one" in page.get_by_role("alert").inner_text()
    assert page.locator("#new_password").input_value() == ""  # a password is never sent back
    page.locator("#new_password").fill(OWN_PASSWORD)
    page.locator("#repeat").fill(OWN_PASSWORD)
    save_screenshot(page, "first-login-own-password")
    page.get_by_role("button", name="Continue").click()

    assert path_of(page) == "/login/enrol"
    assert "Your password is set" in page.get_by_role("status").inner_text()
    assert page.locator("figure.qr svg").count() == 1
    secret = page.locator("#totp-secret").inner_text().strip()
    assert secret == site.factory.secrets["erin"]
    page.locator("#code").fill(site.code("erin", secret))
    page.get_by_role("button", name="Confirm").click()
    codes = page.locator("#recovery-codes li")
    codes.first.wait_for()
    assert codes.count() >= 8
    save_screenshot(page, "first-login-recovery-codes")

    page.get_by_role("link", name="Continue").click()
    assert path_of(page) == "/"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    assert page.get_by_text("erin (detective)").is_visible()
    save_screenshot(page, "first-login-home")

    page.get_by_role("button", name="Sign out").click()
    browsing.password_step(page, "erin")
    assert path_of(page) == "/login"
    assert "Sign-in failed" in page.get_by_role("alert").inner_text()


def test_wrong_code_at_enrolment_shows_an_error(site: Site, browsing: Browsing) -> None:
    """A wrong code keeps the person on the enrolment page, not signed in, with what is wrong said in the
    error summary (its link moves to the field) and at the field: the person has proven their password."""
    site.user("frank", "detective")
    page = browsing.page()
    browsing.password_step(page, "frank")
    choose_own_password(page)
    page.locator("#code").fill("000000" if site.code("frank") != "000000" else "111111")
    page.get_by_role("button", name="Confirm").click()
    alert = page.get_by_role("alert")
    assert "The code is wrong or has expired" in alert.inner_text()
    assert "Sign-in failed" not in page.locator("main").inner_text()
    assert "The code is wrong or has expired" in page.locator("#code-error").inner_text()
    assert path_of(page) == "/login/enrol"
    alert.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "code"
    save_screenshot(page, "first-login-wrong-code")
    page.goto("/")
    assert path_of(page) == "/login"


def test_wrong_code_at_sign_in_shows_an_error(site: Site, browsing: Browsing) -> None:
    """After enrolment, a wrong code on the code page is refused with an error."""
    site.user("gwen", "legal")
    page = sign_in(site, browsing, "gwen")
    page.get_by_role("button", name="Sign out").click()
    browsing.password_step(page, "gwen", OWN_PASSWORD)
    assert path_of(page) == "/login/code"
    page.locator("#code").fill("12345x")
    page.get_by_role("button", name="Sign in").click()
    assert "Sign-in failed" in page.get_by_role("alert").inner_text()


def test_signing_out_ends_the_session_for_good(site: Site, browsing: Browsing) -> None:
    """The cookie of a signed-out session, put back into a browser, signs no one in."""
    site.user("ines", "detective")
    page = sign_in(site, browsing, "ines")
    kept = page.context.storage_state()
    assert page.request.get("/api/v1/me").status == 200
    page.get_by_role("button", name="Sign out").click()
    assert path_of(page) == "/login"

    assert browsing.page(storage_state=kept).request.get("/api/v1/me").status == 401
    replayed = browsing.page(storage_state=kept)
    replayed.goto("/account/tokens")
    assert path_of(replayed) == "/login"
    assert "Your session ended" in replayed.locator("main").inner_text()


def test_a_password_change_on_the_account_page(site: Site, browsing: Browsing) -> None:
    """The current password and a current code prove the change; the session goes on."""
    site.user("jon", "supervisor")
    page = sign_in(site, browsing, "jon")
    page.goto("/account/tokens")
    page.locator("#password-current_password").fill(OWN_PASSWORD)
    page.locator("#password-code").fill(site.code("jon"))
    page.locator("#password-new_password").fill("jon's next password")
    page.locator("#password-repeat").fill("jon's next password")
    page.get_by_role("button", name="Change password").click()
    assert "Your password is changed" in page.get_by_role("status").inner_text()
    assert path_of(page) == "/account/tokens"
    page.goto("/")
    assert path_of(page) == "/"


def _switch(page: Any, language: str, label: str) -> None:
    page.locator(f'.language-switch button[value="{language}"]').click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == language, label


def test_language_switch_to_dutch_and_back(site: Site, browsing: Browsing) -> None:
    """The language chooser changes every text of the page and keeps the person on the same page."""
    site.user("hana", "supervisor")
    page = sign_in(site, browsing, "hana")
    page.goto("/account/tokens")
    assert page.get_by_role("heading", level=1).inner_text() == "Your account"
    assert page.get_by_role("button", name="Sign out").is_visible()

    _switch(page, "nl", "Nederlands")
    assert path_of(page) == "/account/tokens"
    assert page.get_by_role("button", name="Afmelden").is_visible()
    assert page.get_by_role("link", name="Start").is_visible()
    assert page.get_by_role("button", name="Sign out").count() == 0
    save_screenshot(page, "language-dutch")

    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welkom")

    _switch(page, "en", "English")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    assert page.get_by_role("button", name="Sign out").is_visible()


def test_language_follows_the_browser_before_sign_in(site: Site, browsing: Browsing) -> None:
    """A browser that prefers Dutch gets the sign-in page in Dutch."""
    page = browsing.page("nl")
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.get_by_role("heading", level=1).inner_text() == "Aanmelden"
