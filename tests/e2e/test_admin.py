"""The admin's journey: create an account, reset a second factor, see only the admin's navigation."""

from __future__ import annotations

from tests.e2e.support import Browsing, Site, path_of, save_screenshot

#: Navigation items of the roles that read evidence; an admin sees none of them.
EVIDENCE_ITEMS = {"Home", "Operations", "Central record", "Compliance", "Integrity", "Search"}


def test_admin_creates_an_account_and_resets_a_second_factor(site: Site, browsing: Browsing) -> None:
    """The new account enrols at first login; after a reset, the other person must enrol again."""
    site.user("ada", "admin")
    site.user("ivo", "detective")
    enrolled = browsing.signed_in("ivo")
    enrolled.context.close()

    page = browsing.signed_in("ada")
    assert path_of(page) == "/admin/users"
    nav = page.get_by_role("navigation", name="Main")
    items = nav.get_by_role("link").all_inner_texts()
    assert "Accounts" in items and "API tokens" in items
    assert not set(items) & EVIDENCE_ITEMS, items
    for forbidden in ("/search", "/integrity/", "/operations", "/contacts", "/profiles", "/authorizations",
                      "/compliance", "/reviews"):
        assert page.locator(f'a[href^="{forbidden}"]').count() == 0, forbidden

    page.locator("#username").fill("jade")
    page.locator("#display_name").fill("Jade Example")
    page.locator("#email").fill("jade@example.invalid")
    page.locator("#password").fill("a long initial password")
    page.get_by_label("Legal officer").check()
    page.get_by_role("button", name="Create account").click()
    assert "Account jade created" in page.get_by_role("status").inner_text()
    row = page.locator("tbody tr", has_text="jade")
    assert "legal" in row.inner_text()
    assert "not enrolled" in row.inner_text()

    ivo = page.locator("tbody tr", has_text="ivo")
    assert "confirmed" in ivo.inner_text()
    ivo.get_by_role("button", name="Reset second factor").click()
    assert "Second factor reset" in page.get_by_role("status").inner_text()
    assert "not enrolled" in page.locator("tbody tr", has_text="ivo").inner_text()
    save_screenshot(page, "admin-accounts")

    newcomer = browsing.page()
    browsing.password_step(newcomer, "jade", "a long initial password")
    assert path_of(newcomer) == "/login/enrol"
    secret = newcomer.locator("#totp-secret").inner_text().strip()
    newcomer.locator("#code").fill(site.code("jade", secret))
    newcomer.get_by_role("button", name="Confirm").click()
    newcomer.get_by_role("link", name="Continue").click()
    assert path_of(newcomer) == "/"
    assert newcomer.get_by_role("link", name="Integrity").is_visible()

    again = browsing.page()
    browsing.password_step(again, "ivo")
    assert path_of(again) == "/login/enrol"
    assert again.locator("#totp-secret").inner_text().strip() != site.factory.secrets["ivo"]


def test_admin_cannot_open_evidence_pages(site: Site, browsing: Browsing) -> None:
    """An admin manages accounts only: the evidence search is refused."""
    site.user("abe", "admin")
    page = browsing.signed_in("abe")
    response = page.goto("/search?q=hello")
    assert response is not None and response.status in (403, 404)
    assert page.get_by_role("alert").is_visible()
