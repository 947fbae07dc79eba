"""The supervisors' journey: one proposes a decoy profile, a colleague approves it (four eyes), then
suspends it from the row's action menu through its confirmation page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.support import Browsing, Site, save_screenshot
from tests.factories import make_authorization, make_operation


@pytest.fixture(scope="module")
def operation_id(site: Site) -> Iterator[int]:
    """An operation of supervisors sam and sol with one authorization registered by lena."""
    for username, role in {"sam": "supervisor", "sol": "supervisor", "lena": "legal"}.items():
        site.user(username, role)
    created = make_operation(site.app, "sam", name="Operation Lantern", members=("sol",))
    make_authorization(site.app, "lena", created, reference="OvJ-2026-0042",
                       platforms=["chatapp", "photoshare"])
    yield created


def test_supervisor_proposes_a_profile_and_a_colleague_approves_it(
    site: Site, browsing: Browsing, operation_id: int
) -> None:
    """The proposer cannot approve their own profile; the second supervisor finds it on their home page,
    approves it, and it becomes active."""
    sam = browsing.signed_in("sam")
    sam.goto("/")
    sam.get_by_role("link", name="Operation Lantern").first.click()
    assert sam.get_by_role("heading", level=1).inner_text().startswith("Operation Lantern")
    sam.locator("#authorization_id").select_option(label="OvJ-2026-0042")
    platforms = sam.locator("#platform option").all_inner_texts()
    assert platforms == ["chatapp", "photoshare"]  # chosen from the order's, never typed
    sam.locator("#platform").select_option("chatapp")
    sam.locator("#handle").fill("evening_walk")
    sam.locator("#persona").fill("a quiet reader who likes long walks")
    sam.get_by_role("button", name="Propose profile").click()
    assert "evening_walk proposed" in sam.get_by_role("status").inner_text()
    row = sam.locator("table.profiles tbody tr", has_text="evening_walk").first
    assert "pending approval" in row.inner_text()
    assert row.get_by_role("button", name="Approve").count() == 0
    assert "cannot approve" in row.inner_text()
    save_screenshot(sam, "supervisor-proposes-profile")

    sol = browsing.signed_in("sol")
    sol.goto("/")
    awaiting = sol.locator("section", has=sol.get_by_role("heading", name="Profiles awaiting your approval"))
    awaiting.get_by_role("link", name="evening_walk").click()
    assert f"/operations/{operation_id}" in sol.url
    row = sol.locator("table.profiles tbody tr", has_text="evening_walk").first
    row.get_by_role("button", name="Approve").click()
    assert "evening_walk is now active" in sol.get_by_role("status").inner_text()
    row = sol.locator("table.profiles tbody tr", has_text="evening_walk").first
    assert "active" in row.locator(".profile-status").inner_text()
    assert "sol" in row.inner_text() and "sam" in row.inner_text()
    history = sol.locator("tr.history-row details").first
    history.locator("summary").click()
    assert "pending approval → active" in history.inner_text()
    save_screenshot(sol, "supervisor-approves-profile")


def test_a_supervisor_suspends_a_profile_from_its_action_menu(
    site: Site, browsing: Browsing, operation_id: int
) -> None:
    """The row's menu leads to a page that sums up the profile and says what suspending does; the reason
    is required (shown at the field and at the top), and the profile is suspended with a banner."""
    sol = browsing.signed_in("sol")
    sol.goto(f"/operations/{operation_id}")
    row = sol.locator("table.profiles tbody tr", has_text="evening_walk").first
    assert row.locator("input, textarea").count() == 0  # no inline forms in the row
    row.locator("details.actions-menu summary").click()
    row.get_by_role("link", name="Suspend").click()
    sol.wait_for_load_state()
    assert "/suspend" in sol.url
    summary = sol.locator("dl.summary").inner_text()
    assert "evening_walk" in summary and "chatapp" in summary and "OvJ-2026-0042" in summary
    sol.get_by_role("button", name="Suspend profile").click()
    sol.wait_for_load_state()
    assert "reason is required" in sol.locator(".govuk-error-summary").inner_text()
    sol.get_by_label("Reason").fill("The cover may be known.")
    save_screenshot(sol, "supervisor-suspends-profile")
    sol.get_by_role("button", name="Suspend profile").click()
    sol.wait_for_load_state()
    assert "evening_walk is now suspended" in sol.get_by_role("status").inner_text()
    row = sol.locator("table.profiles tbody tr", has_text="evening_walk").first
    assert "suspended" in row.locator(".profile-status").inner_text()
    height = sol.evaluate("document.documentElement.scrollHeight")
    assert height < 2600, f"the operation page is {height} px tall at 1280 px"
