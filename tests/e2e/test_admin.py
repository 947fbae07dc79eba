"""The admin's journey: create an account, reset a second factor after confirming it (its one-time code
shown once), see only the admin's navigation; the person chooses their own password, so the admin's
knowledge takes over nothing. An admin's own second factor is reset by another admin."""

from __future__ import annotations

from tests.e2e.support import Browsing, Site, path_of, save_screenshot
from tests.e2e.test_login import OWN_PASSWORD, choose_own_password, sign_in

#: Navigation items of the roles that read evidence; an admin sees none of them.
EVIDENCE_ITEMS = {"Home", "Operations", "Central record", "Compliance", "Integrity", "Search"}
INITIAL = "a long initial password"


def test_admin_creates_an_account_and_resets_a_second_factor(site: Site, browsing: Browsing) -> None:
    """The new account chooses its own password and enrols at first sign-in; after a reset, the other person
    needs their own password and the reset code the admin hands over, and enrols again."""
    site.user("ada", "admin")
    site.user("ivo", "detective")
    enrolled = sign_in(site, browsing, "ivo")
    enrolled.context.close()

    page = sign_in(site, browsing, "ada")
    assert path_of(page) == "/admin/users"
    nav = page.get_by_role("navigation", name="Main")
    items = nav.get_by_role("link").all_inner_texts()
    assert "Accounts" in items and page.get_by_title("Your account").is_visible()
    assert not set(items) & EVIDENCE_ITEMS, items
    for forbidden in ("/search", "/integrity/", "/operations", "/contacts", "/profiles", "/authorizations",
                      "/compliance", "/reviews"):
        assert page.locator(f'a[href^="{forbidden}"]').count() == 0, forbidden

    page.locator("#username").fill("jade")
    page.locator("#display_name").fill("Jade Example")
    page.locator("#email").fill("jade@example.invalid")
    page.locator("#password").fill(INITIAL)
    page.get_by_label("Legal officer").check()
    page.get_by_role("button", name="Create account").click()
    assert "Account jade created" in page.get_by_role("status").inner_text()
    row = page.locator("tbody tr", has_text="jade")
    assert "legal" in row.inner_text()
    assert "not enrolled" in row.inner_text()

    ivo = page.locator("tbody tr", has_text="ivo")
    assert "confirmed" in ivo.inner_text()
    page.get_by_role("link", name="Reset second factor of ivo", exact=True).click()
    # A confirmation page first: the account, what happens, a danger button and Cancel.
    assert page.get_by_role("heading", level=1).inner_text() == "Reset the second factor of ivo?"
    assert "Every session of the account ends at once." in page.locator("main").inner_text()
    save_screenshot(page, "admin-confirm-reset")
    page.get_by_role("link", name="Cancel").click()
    assert path_of(page) == "/admin/users"
    assert "confirmed" in page.locator("tbody tr", has_text="ivo").inner_text()
    page.get_by_role("link", name="Reset second factor of ivo", exact=True).click()
    page.wait_for_url("**/reset-second-factor")
    page.get_by_role("heading", name="Reset the second factor of ivo?").wait_for()
    with page.expect_navigation():
        page.get_by_role("button", name="Reset the second factor").click()
    notice = page.get_by_role("status")
    assert "Second factor of ivo reset" in notice.inner_text()
    reset_code = page.locator("#reset-code").inner_text().strip()
    assert "not enrolled" in page.locator("tbody tr", has_text="ivo").inner_text()
    save_screenshot(page, "admin-accounts")
    page.goto("/admin/users")
    assert page.locator("#reset-code").count() == 0  # shown once

    newcomer = browsing.page()
    browsing.password_step(newcomer, "jade", INITIAL)
    choose_own_password(newcomer, "jade's own password")
    secret = newcomer.locator("#totp-secret").inner_text().strip()
    newcomer.locator("#code").fill(site.code("jade", secret))
    newcomer.get_by_role("button", name="Confirm").click()
    newcomer.get_by_role("link", name="Continue").click()
    assert path_of(newcomer) == "/"
    assert newcomer.get_by_role("link", name="Integrity").is_visible()

    # The password the admin set no longer opens the account.
    admin_knows = browsing.page()
    browsing.password_step(admin_knows, "jade", INITIAL)
    assert path_of(admin_knows) == "/login"
    assert "Sign-in failed" in admin_knows.get_by_role("alert").inner_text()

    again = browsing.page()
    browsing.password_step(again, "ivo", OWN_PASSWORD)
    assert path_of(again) == "/login/enrol"
    assert again.locator("#totp-secret").count() == 0
    again.locator("#reset_code").fill("0000-0000-0000-0000")
    again.locator("#new_password").fill("ivo's renewed password")
    again.locator("#repeat").fill("ivo's renewed password")
    again.get_by_role("button", name="Continue").click()
    assert "The reset code is wrong" in again.get_by_role("alert").inner_text()
    assert "The reset code is wrong" in again.locator("#reset_code-error").inner_text()
    again.locator("#reset_code").fill(reset_code)
    again.locator("#new_password").fill("ivo's renewed password")
    again.locator("#repeat").fill("ivo's renewed password")
    save_screenshot(again, "reset-code-and-new-password")
    again.get_by_role("button", name="Continue").click()
    again.locator("#totp-secret").wait_for()
    assert again.locator("#totp-secret").inner_text().strip() != site.factory.secrets["ivo"]


def test_admin_cannot_open_evidence_pages(site: Site, browsing: Browsing) -> None:
    """An admin manages accounts only: the evidence search is refused."""
    site.user("abe", "admin")
    page = sign_in(site, browsing, "abe")
    response = page.goto("/search?q=hello")
    assert response is not None and response.status in (403, 404)
    assert page.get_by_role("alert").is_visible()


def test_an_admin_asks_another_admin_to_reset_their_own_second_factor(site: Site, browsing: Browsing) -> None:
    """The confirmation page of one's own reset says why it is refused and offers no button."""
    site.user("ali", "admin")
    site.user("bea", "admin")
    page = sign_in(site, browsing, "ali")
    page.get_by_role("link", name="Reset second factor of ali", exact=True).click()
    assert "ask another administrator" in page.locator("#refusal").inner_text()
    assert page.get_by_role("button", name="Reset the second factor").count() == 0
