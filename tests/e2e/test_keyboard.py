"""Keyboard only: the first sign-in, enrolment included, with Tab and Enter, focus always visible."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.e2e.support import OWN_PASSWORD, Browsing, Site

FOCUSED = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  return {tag: e.tagName.toLowerCase(), id: e.id, text: (e.innerText || "").trim(),
          outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
          left: e.getBoundingClientRect().left};
}"""


def _tab(page: Any, times: int = 1) -> dict[str, Any]:
    """Press Tab and describe the element that has the focus; its focus must be visible."""
    for _ in range(times):
        page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    # "body" is the stop past the last control (the focus leaves the page, then wraps to the skip link).
    assert focused["outline"] or focused["tag"] == "body", f"no visible focus on {focused}"
    return focused


def _tab_to(page: Any, wanted: Any, limit: int = 15) -> dict[str, Any]:
    """Press Tab until ``wanted(focused)`` holds (every stop with a visible focus)."""
    for _ in range(limit):
        focused = _tab(page)
        if wanted(focused):
            return focused
    raise AssertionError(f"not reached with {limit} presses of Tab")


def _skip_to_content(page: Any) -> None:
    skip = _tab(page)
    assert skip["tag"] == "a" and skip["left"] >= 0, f"the first Tab should show the skip link: {skip}"
    page.keyboard.press("Enter")
    # Following a fragment link is a navigation the browser finishes on its own time: wait for it.
    page.wait_for_url(lambda url: url.endswith("#main"), timeout=5000)


def test_first_sign_in_with_the_keyboard_only(site: Site, browsing: Browsing) -> None:
    """Skip link, sign-in form, own password, enrolment form and the recovery codes page all work with Tab
    and Enter."""
    site.user("kim", "detective")
    page = browsing.page()
    page.goto("/login")
    _skip_to_content(page)
    assert _tab(page)["id"] == "username"
    page.keyboard.type("kim")
    assert _tab(page)["id"] == "password"
    page.keyboard.type("correct horse battery staple")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == "/login/enrol")

    _tab_to(page, lambda focused: focused["id"] == "new_password")
    page.keyboard.type(OWN_PASSWORD)
    assert _tab(page)["id"] == "repeat"
    page.keyboard.type(OWN_PASSWORD)
    page.keyboard.press("Enter")
    page.locator("#totp-secret").wait_for()

    secret = page.locator("#totp-secret").inner_text().strip()
    _tab_to(page, lambda focused: focused["id"] == "code")
    page.keyboard.type(site.code("kim", secret))
    page.keyboard.press("Enter")
    page.locator("#recovery-codes").wait_for()

    _tab_to(page, lambda focused: focused["tag"] == "a" and focused["text"] == "Continue")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
