"""The legal officer's journey: the compliance dashboard, deciding a review, the activity charts, downloading
an export."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator

import pytest

from tests.e2e.support import Browsing, Site, path_of, save_screenshot
from tests.e2e.world import World, build_world


@pytest.fixture(scope="module")
def world(site: Site) -> Iterator[World]:
    """Two operations with conversations, flags and planned reviews."""
    yield build_world(site)


def test_legal_officer_decides_a_review(site: Site, browsing: Browsing, world: World) -> None:
    """From the dashboard to the operation's reviews to a decision with its rationale."""
    page = browsing.signed_in("lena")
    page.goto("/compliance")
    row = page.locator("#compliance tbody tr", has_text="Operation Lantern")
    assert row.count() == 1
    save_screenshot(page, "legal-compliance-dashboard")
    row.get_by_role("link", name="Operation Lantern").click()
    assert path_of(page) == f"/operations/{world.operation_id}/reviews"
    pending = page.locator('#reviews tbody tr[data-status="pending"]').first
    pending.locator("td a").first.click()
    assert path_of(page).startswith("/reviews/")

    page.get_by_label("Continue: the operation stays within its authorization").check()
    page.locator("#rationale").fill("The profiles keep within the order; the conversations were checked.")
    page.get_by_role("button", name="Record the decision").click()
    assert "Decision recorded: continue" in page.get_by_role("status").inner_text()
    decision = page.locator("#decision")
    assert "continue" in decision.inner_text()
    assert "lena" in decision.inner_text()
    assert "conversations were checked" in decision.inner_text()
    save_screenshot(page, "legal-decides-review")


def test_detective_cannot_decide_a_review(site: Site, browsing: Browsing, world: World) -> None:
    """A detective of the operation sees the review but no decision form."""
    page = browsing.signed_in("dana")
    page.goto(f"/operations/{world.operation_id}/reviews")
    page.locator('#reviews tbody tr[data-status="pending"] td a').first.click()
    assert path_of(page).startswith("/reviews/")
    assert page.locator("#rationale").count() == 0
    assert "Only a legal officer decides" in page.locator("main").inner_text()


def test_legal_officer_downloads_an_export(site: Site, browsing: Browsing, world: World) -> None:
    """The operation page leads to the export page, whose button (a POST: an export is recorded) gives the
    evidence bundle, which verifies with no Decoy."""
    page = browsing.signed_in("lena")
    page.goto(f"/operations/{world.operation_id}")
    page.get_by_role("link", name="Export evidence bundle").click()
    page.wait_for_url(f"**/operations/{world.operation_id}/export")
    button = page.get_by_role("button", name="Make the export and download it")
    form = page.locator("form:has(#export-evidence)")
    assert form.get_attribute("method") == "post"
    assert form.get_attribute("action") == f"/operations/{world.operation_id}/export"
    save_screenshot(page, "legal-exports-bundle")
    with page.expect_download() as download_info:
        button.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    path = download.path()
    assert path is not None
    with zipfile.ZipFile(path) as bundle:
        names = bundle.namelist()
        contents = b"".join(bundle.read(name) for name in names)
    assert any("manifest" in name.lower() for name in names), names
    assert b"river_fox_88" in contents
    assert b"blue_kite_12" not in contents, "another operation's counterpart is in the bundle"
    unvouched = subprocess.run([sys.executable, "-m", "audit", "verify", str(path)],
                               capture_output=True, text=True, timeout=120, check=False)
    assert unvouched.returncode == 2, "a key nobody vouched for must not pass"
    # The key as the legal officer gets it from Decoy itself, not from the bundle.
    key = page.request.get("/api/v1/audit/public-key").text().strip()
    checked = subprocess.run([sys.executable, "-m", "audit", "verify", str(path), "--key", key],
                             capture_output=True, text=True, timeout=120, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_legal_officer_reads_the_activity_charts(site: Site, browsing: Browsing, world: World) -> None:
    """From the operation page to its charts: two named images, and tables that give their numbers."""
    page = browsing.signed_in("lena")
    page.goto(f"/operations/{world.operation_id}")
    page.get_by_role("link", name="Activity and timeline (charts)").click()
    assert path_of(page) == f"/operations/{world.operation_id}/activity"
    per_day = page.get_by_role("img", name="Contacts and messages per day")
    timeline = page.get_by_role("img", name="Timeline of authorizations, reviews and profile states")
    assert per_day.count() == 1 and timeline.count() == 1
    page.get_by_text("Contacts and messages per day as a table").click()
    # The world's conversation: three messages, one of them from 400 days ago, and a correction (not counted).
    assert page.locator("#activity-table tfoot").inner_text().split() == ["Total", "1", "3"]
    page.get_by_text("The timeline as tables").click()
    assert "sunny_day" in page.locator("#timeline-profiles").inner_text()
    assert "active" in page.locator("#timeline-profiles").inner_text()
    save_screenshot(page, "legal-activity-charts")
