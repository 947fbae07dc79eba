"""Retention in the browser: a legal officer puts a contact under a legal hold and lifts it, requests the
disposal of its content; a second legal officer reviews on the confirmation page what goes and what
stays, approves, and the transcript shows the decision where the text was."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.support import Browsing, Site, path_of, save_screenshot
from tests.e2e.world import World, build_world

REFERENCE = "PRIV-2026-0042"


@pytest.fixture(scope="module")
def world(site: Site) -> Iterator[World]:
    built = build_world(site)
    site.user("lars", "legal")
    yield built


def test_hold_then_disposal_by_two_legal_officers(site: Site, browsing: Browsing, world: World) -> None:
    page = browsing.signed_in("lena")
    page.goto(f"/contacts/{world.contact_id}")
    section = page.locator("#retention")
    section.locator("details.set-hold summary").click()
    hold = section.locator("details.set-hold form")
    hold.get_by_label("Reason", exact=True).fill("An appeal is pending.")
    hold.get_by_role("button", name="Set the hold").click()
    page.wait_for_url(lambda url: url.endswith("#retention"))
    section = page.locator("#retention")
    assert "An appeal is pending." in section.inner_text()
    section.locator("details.lift-hold summary").click()
    section.get_by_label("Why it is lifted").fill("The appeal was decided.")
    section.get_by_role("button", name="Lift the hold").click()
    page.wait_for_url(lambda url: url.endswith("#retention"))
    section = page.locator("#retention")
    assert "The appeal was decided." in section.inner_text()
    section.locator("details.request-disposal summary").click()
    form = section.locator("details.request-disposal form")
    form.get_by_label("Reason", exact=True).fill("Not a suspect: the data must go.")
    form.get_by_label("Reference of the decision").fill(REFERENCE)
    form.get_by_role("button", name="Request disposal").click()
    page.wait_for_url(lambda url: url.endswith("#retention"))
    assert "awaiting approval" in page.locator("#retention").inner_text()
    assert page.locator("#retention").get_by_role("link", name="Review and approve").count() == 0

    other = browsing.signed_in("lars")
    other.goto(f"/contacts/{world.contact_id}")
    assert "hello, how are you" in other.locator("ol.transcript, main").first.inner_text()
    other.locator("#retention").get_by_role("link", name="Review and approve").click()
    other.wait_for_load_state()
    assert path_of(other).endswith("/approve")
    alert = other.get_by_role("alert")
    assert "This cannot be undone." in alert.inner_text() and "What stays" in alert.inner_text()
    save_screenshot(other, "legal-officer-approves-disposal")
    other.get_by_role("button", name="Approve and remove the content").click()
    other.wait_for_url(lambda url: url.endswith("#retention"))
    text = other.locator("main").inner_text()
    assert f"Content disposed of under decision {REFERENCE}" in text
    assert "hello, how are you" not in text
