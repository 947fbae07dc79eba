"""Journeys of signing in: first login with TOTP enrolment, a wrong code, and switching the language."""

from __future__ import annotations

from typing import Any

from tests.e2e.support import Browsing, Site, path_of, save_screenshot


def test_first_login_enrols_totp_from_the_secret_on_the_page(site: Site, browsing: Browsing) -> None:
    """A new detective reads the secret beside the QR code, confirms a code and keeps the recovery codes."""
    site.user("erin", "detective")
    page = browsing.page()
    browsing.password_step(page, "erin")
    assert path_of(page) == "/login/enrol"
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


def test_wrong_code_at_enrolment_shows_an_error(site: Site, browsing: Browsing) -> None:
    """A wrong code keeps the person on the enrolment page with a visible error, not signed in."""
    site.user("frank", "detective")
    page = browsing.page()
    browsing.password_step(page, "frank")
    assert path_of(page) == "/login/enrol"
    page.locator("#code").fill("000000" if site.code("frank") != "000000" else "111111")
    page.get_by_role("button", name="Confirm").click()
    alert = page.get_by_role("alert")
    assert "Sign-in failed" in alert.inner_text()
    assert path_of(page) == "/login/enrol"
    save_screenshot(page, "first-login-wrong-code")
    page.goto("/")
    assert path_of(page) == "/login"


def test_wrong_code_at_sign_in_shows_an_error(site: Site, browsing: Browsing) -> None:
    """After enrolment, a wrong code on the code page is refused with an error."""
    site.user("gwen", "legal")
    page = browsing.signed_in("gwen")
    page.get_by_role("button", name="Sign out").click()
    browsing.password_step(page, "gwen")
    assert path_of(page) == "/login/code"
    page.locator("#code").fill("12345x")
    page.get_by_role("button", name="Sign in").click()
    assert "Sign-in failed" in page.get_by_role("alert").inner_text()


def _switch(page: Any, language: str, label: str) -> None:
    page.locator("#lang-select").select_option(language)
    page.locator(".session-tools form").first.locator("button").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == language, label


def test_language_switch_to_dutch_and_back(site: Site, browsing: Browsing) -> None:
    """The language chooser changes every text of the page and keeps the person on the same page."""
    site.user("hana", "supervisor")
    page = browsing.signed_in("hana")
    page.goto("/account/tokens")
    assert page.get_by_role("heading", level=1).inner_text() == "API tokens"
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
