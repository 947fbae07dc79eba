"""The detective's journey through the initiative record: annotate a message on the contact page, see the
badge on the message and the sheet name who raised the topic first; retract it again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.support import Browsing, Site, save_screenshot
from tests.e2e.world import World, build_world


@pytest.fixture(scope="module")
def world(site: Site) -> Iterator[World]:
    """Two operations; dana works in the first only."""
    yield build_world(site)


def test_detective_annotates_and_the_sheet_follows(site: Site, browsing: Browsing, world: World) -> None:
    """The form under the counterpart's first message records "Age stated: 14"; the page comes back at that
    message with the badge, and the sheet names the counterpart with a link to it."""
    page = browsing.signed_in("dana")
    page.goto(f"/contacts/{world.contact_id}")
    sheet = page.locator("#initiative")
    age_row = sheet.get_by_role("row", name="Age stated")
    assert "no message is annotated with this topic" in age_row.inner_text()

    message = page.locator("ol.transcript li.message-in").filter(has_text="hello, how are you").first
    message_id = message.get_attribute("id")
    assert message_id is not None and message_id.startswith("m")
    assert "counterpart (incoming)" in message.locator("header").inner_text()
    message.locator("details.annotate summary").click()
    message.get_by_label("Topic", exact=True).select_option(label="Age stated")
    message.get_by_label("Age (for “Age stated” only)").fill("14")
    message.get_by_role("button", name="Record annotation").click()
    page.wait_for_url(lambda url: url.endswith(f"#{message_id}"))
    assert "annotated: Age stated" in page.get_by_role("status").inner_text()
    message = page.locator(f"#{message_id}")
    badge = message.locator("ul.annotations li.annotation").first
    assert badge.locator(".topic").inner_text() == "Age stated: 14"
    assert "by dana" in badge.inner_text()
    age_row = page.locator("#initiative").get_by_role("row", name="Age stated: 14")
    assert "the counterpart" in age_row.inner_text()
    link = age_row.get_by_role("link")
    assert link.get_attribute("href", timeout=5_000).endswith(f"#{message_id}")  # type: ignore[union-attr]
    save_screenshot(page, "detective-annotates-message")

    # The filter shows the annotated message and keeps it readable.
    page.get_by_role("link", name="Only messages with annotations or flags").click()
    page.wait_for_load_state()
    assert page.locator(f"#{message_id}").count() == 1
    assert page.locator("ol.transcript li.message").count() < 4

    # Retract: the badge stays, struck through, and the sheet forgets the topic.
    page.goto(f"/contacts/{world.contact_id}")
    page.locator(f"#{message_id}").get_by_role("button", name="Retract").click()
    page.wait_for_load_state()
    badge = page.locator(f"#{message_id} ul.annotations li.annotation").first
    assert badge.locator("del.topic").inner_text() == "Age stated: 14"
    assert "retracted by dana" in badge.inner_text()
    age_row = page.locator("#initiative").get_by_role("row", name="Age stated")
    assert "no message is annotated with this topic" in age_row.inner_text()
