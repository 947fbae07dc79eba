"""axe-core on every page a person can reach, for every role, in English and in Dutch; and no page shows a
stored key (a flag, kind or state such as ``pending_approval``) in its visible text instead of words.

Each role signs in and walks the site: a list of known pages, then every same-site link found on
them (downloads excepted). A serious or critical axe finding fails the test, and so does any page
that answers 500 or carries inline script or style (which the CSP would block; these pages are
opened with the CSP bypassed so that axe can be injected). The sign-in, enrolment, recovery-code
and code pages, and pages showing form errors, are checked on the way in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.raw_keys import raw_keys_in
from tests.e2e.support import OWN_PASSWORD, Browsing, Site, axe_violations, path_of
from tests.e2e.world import World, build_world
from tests.support import PG_URL

ROLES = {"dana": "detective", "sam": "supervisor", "lena": "legal", "adam": "admin"}
DOWNLOADS = re.compile(
    r"^/(attachments|authorization-documents|api|static)/|/export$|\.(ics|csv|json|zip|pdf)$"
)
MAX_PAGES_PER_ROLE = 60
#: Markup the strict CSP would block: inline scripts, style elements, style attributes, event handlers.
INLINE_SELECTOR = ("script:not([src]), style, [style], [onclick], [onload], [onsubmit], [onchange], "
                   "a[href^='javascript:']")
INLINE_CODE = (f'() => [...document.querySelectorAll("{INLINE_SELECTOR}")]'
               ".slice(0, 5).map(e => e.outerHTML.slice(0, 120))")
#: Pages visited first, whether or not a link leads there yet; ids come from the world.
KNOWN_PAGES = (
    "/",
    "/account/tokens",
    "/search",
    "/search?q=hello",
    "/integrity/",
    "/admin/users",
    "/operations",
    "/operations/{operation_id}",
    "/operations/{operation_id}/activity",
    "/operations/{operation_id}/authorizations/new",
    "/authorizations",
    "/profiles/{profile_id}/contacts",
    "/contacts/{contact_id}",
    "/operations/{operation_id}/reviews",
    "/compliance",
    "/notifications",
    "/account/calendar",
    "/contacts/999999",
)


@dataclass
class Report:
    """Findings of one language, readable in the failure message."""

    language: str
    checked: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def check(self, page: Any, who: str, label: str | None = None) -> None:
        """Run axe on the page and remember every serious or critical finding."""
        where = f"[{self.language}] {who} {label or page.url}"
        self.checked.append(where)
        page.wait_for_load_state()
        inline = page.evaluate(INLINE_CODE)
        if inline:
            self.findings.append(f"{where}: inline script or style (the CSP forbids it): {inline}")
        keys = raw_keys_in(page.inner_text("body"))
        if keys:
            self.findings.append(f"{where}: shows stored keys instead of words: {', '.join(keys)}")
        for violation in axe_violations(page):
            nodes = "\n      ".join(violation["nodes"])
            self.findings.append(f"{where}: {violation['impact']} {violation['id']} ({violation['help']})"
                                 f"\n      {nodes}")

    def failure(self) -> str:
        """The message of a failed check."""
        return "\n".join([*self.server_errors, *self.findings,
                          f"({len(self.checked)} pages checked)"])


@pytest.fixture(scope="module")
def world(site: Site) -> Iterator[World]:
    """Two operations with conversations; people of every role."""
    yield build_world(site)


def _same_site(site: Site, url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.port != site.port or parts.hostname != "127.0.0.1":
        return None
    if DOWNLOADS.search(parts.path):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _pattern(target: str) -> str:
    """Pages of one kind share a pattern (ids and query left out), so each kind is checked once per role."""
    parts = urlsplit(target)
    kind = re.sub(r"\d+", "N", parts.path)
    return f"{kind}?{parts.query}" if kind == "/search" and parts.query else kind


def _walk(page: Any, site: Site, report: Report, who: str, start: list[str]) -> None:
    """Visit ``start`` and every link found, checking each kind of page once."""
    queue = list(start)
    seen: set[str] = set()
    error_page_checked = False
    visits = 0
    while queue and visits < MAX_PAGES_PER_ROLE:
        target = queue.pop(0)
        if _pattern(target) in seen:
            continue
        seen.add(_pattern(target))
        visits += 1
        response = page.goto(target)
        if response is None:
            continue
        if response.status >= 500:
            report.server_errors.append(f"[{report.language}] {who} {target}: HTTP {response.status}")
            continue
        landed = _same_site(site, page.url)
        if landed and landed != target:
            if _pattern(landed) in seen:
                continue  # a redirect to a kind of page already checked
            seen.add(_pattern(landed))
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        if response.status >= 400:
            if error_page_checked:
                continue
            error_page_checked = True
        report.check(page, who, f"{landed or target} (HTTP {response.status})")
        links = page.eval_on_selector_all(
            "a[href]", "links => links.filter(a => !a.hasAttribute('download')).map(a => a.href)")
        for link in links:
            found = _same_site(site, link)
            if found and _pattern(found) not in seen:
                queue.append(found)


def _sign_in_pages(browsing: Browsing, site: Site, report: Report, language: str) -> None:
    """The pages before a session exists: sign-in (with an error), enrolment, recovery codes, code."""
    page = browsing.page(language, axe=True)
    page.goto("/login")
    report.check(page, "anonymous", "/login")
    page.locator("#username").fill("nobody")
    page.locator("#password").fill("not the password")
    page.locator("main form button[type=submit]").click()
    report.check(page, "anonymous", "/login (failed sign-in)")

    newcomer = f"newcomer_{language}"
    site.user(newcomer, "detective")
    browsing.password_step(page, newcomer)
    assert path_of(page) == "/login/enrol"
    report.check(page, newcomer, "/login/enrol (own password)")
    page.locator("#new_password").fill(OWN_PASSWORD)
    page.locator("#repeat").fill(OWN_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.locator("#totp-secret").wait_for()
    report.check(page, newcomer, "/login/enrol")
    page.locator("#code").fill("000000")
    page.locator("main form button[type=submit]").click()
    report.check(page, newcomer, "/login/enrol (wrong code)")
    page.locator("#code").fill(site.code(newcomer, page.locator("#totp-secret").inner_text().strip()))
    page.locator("main form button[type=submit]").click()
    page.locator("#recovery-codes").wait_for()
    report.check(page, newcomer, "recovery codes")

    again = browsing.page(language, axe=True)
    browsing.password_step(again, newcomer, OWN_PASSWORD)
    assert path_of(again) == "/login/code"
    report.check(again, newcomer, "/login/code")


#: Forms submitted empty by each role, so that their error states are checked too: (page, submit button).
EMPTY_FORMS = {
    "dana": [
        ("/account/tokens", "main form.row button[type=submit]"),
        ("/contacts/{contact_id}", "form.log-form button[type=submit]"),
        ("/profiles/{profile_id}/contacts", "main form.stack button[type=submit]"),
    ],
    "sam": [
        ("/operations", "main form.stack button[type=submit]"),
        ("/operations/{operation_id}", 'form[action$="/profiles"] button[type=submit]'),
    ],
    "lena": [
        ("/operations/{operation_id}/authorizations/new", "main form.stack button[type=submit]"),
        ("/account/calendar", "main form.row button[type=submit]"),
        ("{pending_review}", "main form.stack button[type=submit]"),
    ],
    "adam": [("/admin/users", "main form.stack button[type=submit]")],
}


def _form_errors(page: Any, report: Report, who: str, ids: dict[str, Any]) -> None:
    """Submit each of the role's forms empty and check the page that shows the errors."""
    for path, button in EMPTY_FORMS[who]:
        target = path.format(**ids)
        page.goto(target)
        page.locator(button).first.click()
        page.wait_for_load_state()
        report.check(page, who, f"{target} (form errors)")


def _pending_review(site: Site, operation_id: int) -> str:
    """The page of a review of the operation that nobody has decided yet."""
    from sqlmodel import col, select

    from decoy.db import session_scope
    from decoy.models import Review, ReviewDecision

    with site.app.app_context(), session_scope(site.app) as session:
        undecided = select(Review.id).where(
            Review.operation_id == operation_id,
            col(Review.id).not_in(select(ReviewDecision.review_id)),
        ).order_by(Review.id)
        return f"/reviews/{session.exec(undecided).first()}"


@pytest.mark.skipif(
    bool(PG_URL),
    reason="axe checks the rendered markup, which does not depend on the database: the walk (the slowest "
    "browser test) runs once, in the SQLite pass; the journeys run on both databases",
)
@pytest.mark.parametrize("language", ["en", "nl"])
def test_every_page_has_no_serious_accessibility_violations(
    site: Site, browsing: Browsing, world: World, language: str
) -> None:
    """axe-core finds nothing serious or critical on any page, for any role, in either language."""
    report = Report(language)
    _sign_in_pages(browsing, site, report, language)
    ids = {"operation_id": world.operation_id, "profile_id": world.profile_id, "contact_id": world.contact_id,
           "pending_review": _pending_review(site, world.operation_id)}
    for username in ROLES:
        page = browsing.signed_in(username, language, axe=True)
        assert page.locator("html").get_attribute("lang") == language
        _walk(page, site, report, username, [known.format(**ids) for known in KNOWN_PAGES])
        _form_errors(page, report, username, ids)
    assert not report.findings and not report.server_errors, report.failure()
    checked = "\n".join(report.checked)
    assert f"/operations/{world.operation_id}/activity (HTTP 200)" in checked, "the charts were not checked"


def test_the_check_catches_a_violation(site: Site, browsing: Browsing) -> None:
    """The harness itself: an unlabelled field with an inline style, planted in a page, is reported."""
    page = browsing.page(axe=True)
    page.goto("/login")
    assert page.evaluate(INLINE_CODE) == []
    page.evaluate("""() => {
      const field = document.createElement("input");
      field.type = "text";
      field.setAttribute("style", "color: red");
      document.querySelector("main form").append(field);
    }""")
    assert "label" in {violation["id"] for violation in axe_violations(page)}
    page.evaluate("""() => document.querySelector("main").append("recorded with flags: decoy_initiated")""")
    assert raw_keys_in(page.inner_text("body")) == ["decoy_initiated"]
    assert page.evaluate(INLINE_CODE) == ['<input type="text" style="color: red">']
