"""The order's life in the browser: a legal officer withdraws an order from its confirmation page, a
supervisor closes the other operation and records the end report's delivery, and the legal officer
reopens it; each page says what happens, asks for the reason, and the operation page shows the result."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.support import Browsing, Site, path_of, save_screenshot
from tests.e2e.world import World, build_world

WITHDRAWAL = "The public prosecutor withdrew the order (decision W-2026-3)."
CLOSING = "The investigation ended: <b>no</b> further contacts expected."


@pytest.fixture(scope="module")
def world(site: Site) -> Iterator[World]:
    yield build_world(site)


def test_a_legal_officer_withdraws_an_order(site: Site, browsing: Browsing, world: World) -> None:
    """The Withdraw button leads to a page that names the profile it suspends; a missing reason is shown
    at the field; the withdrawal suspends the profile and the card says withdrawn."""
    page = browsing.signed_in("lena")
    page.goto(f"/operations/{world.operation_id}")
    card = page.locator(f"#authorization-{world.authorization_id}")
    card.get_by_role("link", name="Withdraw").click()
    page.wait_for_load_state()
    assert path_of(page) == f"/authorizations/{world.authorization_id}/withdraw"
    assert "sunny_day" in page.locator("dl.summary").inner_text()  # the profile it suspends
    assert page.get_by_role("link", name="Cancel").count() == 1
    page.get_by_role("button", name="Withdraw the order").click()
    page.wait_for_load_state()
    assert "reason is required" in page.locator(".govuk-error-summary").inner_text()
    assert "reason is required" in page.locator("#reason-error").inner_text()
    page.get_by_label("Reason", exact=True).fill(WITHDRAWAL)
    save_screenshot(page, "legal-officer-withdraws-order")
    page.get_by_role("button", name="Withdraw the order").click()
    page.wait_for_load_state()
    assert path_of(page) == f"/operations/{world.operation_id}"
    assert "No authorization is in force" in page.locator("#authorizations").inner_text()
    # The withdrawn order is history now, open below while no authorization is in force.
    assert page.locator("details.authorization-history").get_attribute("open") is not None
    card = page.locator(f"details.authorization-history #authorization-{world.authorization_id}")
    assert "withdrawn" in card.locator(".authorization-status").inner_text()
    assert WITHDRAWAL in card.inner_text()
    assert "suspended" in page.locator("#profiles").inner_text()


def test_a_supervisor_closes_an_operation_and_records_the_delivery(
    site: Site, browsing: Browsing, world: World
) -> None:
    """Closing retires the profile and offers the end report, whose SHA-256 the page shows; the reason is
    shown as text, never as markup."""
    page = browsing.signed_in("sol")
    page.goto(f"/operations/{world.other_operation_id}")
    page.get_by_role("link", name="Close the operation").click()
    page.wait_for_load_state()
    assert "quiet_reader" in page.locator("dl.summary").inner_text()  # the profile it retires
    assert page.get_by_role("link", name="Cancel").count() == 1
    page.get_by_label("Reason", exact=True).fill(CLOSING)
    page.get_by_role("button", name="Close the operation").click()
    page.wait_for_load_state()
    assert path_of(page) == f"/operations/{world.other_operation_id}"
    section = page.locator("#closing")
    assert CLOSING in section.inner_text() and section.locator("b").count() == 0
    assert "retired" in page.locator("#profiles").inner_text()
    report = section.locator("article.end-report").first
    shown_hash = report.locator("code").inner_text()
    with page.expect_download() as download_info:
        report.get_by_role("link").first.click()
    pdf = download_info.value.path().read_bytes()
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == shown_hash
    report.get_by_label("Delivered to").fill("Public prosecutor's office, district of Example")
    report.get_by_role("button", name="Record the delivery").click()
    page.wait_for_load_state()
    assert "Public prosecutor's office, district of Example" in page.locator("#closing").inner_text()
    save_screenshot(page, "supervisor-closes-operation")


def test_only_a_legal_officer_reopens(site: Site, browsing: Browsing, world: World) -> None:
    """The supervisor is offered no reopening; the legal officer reopens with a reason and the operation
    waits, suspended, for a supervisor."""
    supervisor = browsing.signed_in("sol")
    supervisor.goto(f"/operations/{world.other_operation_id}")
    assert supervisor.get_by_role("link", name="Reopen the operation").count() == 0
    page = browsing.signed_in("lena")
    page.goto(f"/operations/{world.other_operation_id}")
    page.get_by_role("link", name="Reopen the operation").click()
    page.wait_for_load_state()
    page.get_by_label("Reason", exact=True).fill("The prosecutor asked for one more review.")
    page.get_by_role("button", name="Reopen the operation").click()
    page.wait_for_load_state()
    heading: Any = page.locator("h1")
    assert "suspended" in heading.inner_text()
    assert "Reopened" in page.locator("#closing").inner_text()
