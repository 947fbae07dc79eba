"""The detective's journey: log a contact and a message with a screenshot; hostile text stays text;
another operation's pages answer 404."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.support import Browsing, Site, path_of, save_screenshot
from tests.e2e.world import World, build_world

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def world(site: Site) -> Iterator[World]:
    """Two operations; dana works in the first only."""
    yield build_world(site)


def _record_message(page: Any, body: str, files: list[dict[str, Any]] | None = None) -> None:
    page.get_by_label("Incoming (from the counterpart)").check()
    page.locator("#body").fill(body)
    if files:
        page.locator("#attachments").set_input_files(files)
    page.get_by_role("button", name="Record message").click()
    page.wait_for_load_state()


def test_detective_logs_a_contact_and_a_message_with_a_screenshot(
    site: Site, browsing: Browsing, world: World
) -> None:
    """The contact is recorded from the profile's page; the message keeps its text and its image."""
    page = browsing.signed_in("dana")
    page.goto("/")
    page.get_by_role("link", name="Operation Lantern").first.click()
    page.locator("table.profiles").get_by_role("link", name="sunny_day").click()
    assert path_of(page) == f"/profiles/{world.profile_id}/contacts"
    assert "sunny_day" in page.get_by_role("heading", level=1).inner_text()
    page.locator("#counterpart").fill("green_lake_41")
    page.get_by_role("button", name="Record contact").click()
    assert path_of(page).startswith("/contacts/")
    assert "green_lake_41" in page.get_by_role("heading", level=1).inner_text()

    # A real screenshot, taken by the browser itself, stands in for the platform's screen.
    image = page.screenshot(clip={"x": 0, "y": 0, "width": 320, "height": 200})
    assert page.locator("#sent_at").input_value() != ""
    _record_message(page, "hello, how are you",
                    [{"name": "platform-screen.png", "mimeType": "image/png", "buffer": image}])
    assert "recorded" in page.get_by_role("status").inner_text()
    message = page.locator("ol.transcript li.message").last
    assert message.locator(".message-body").inner_text() == "hello, how are you"
    assert "recorded by dana" in message.inner_text()
    assert "platform-screen.png" in message.locator(".attachments").inner_text()
    assert hashlib.sha256(image).hexdigest() in message.locator(".attachments code").inner_text()
    save_screenshot(page, "detective-logs-message")

    with page.expect_download() as download_info:
        message.get_by_role("link", name="Download").click()
    download = download_info.value
    path = download.path()
    assert path is not None
    with open(path, "rb") as downloaded:
        assert downloaded.read() == image


def test_hostile_text_is_shown_as_text(site: Site, browsing: Browsing, world: World) -> None:
    """Markup in a counterpart's message is displayed verbatim, never run (the guard fails on a dialog)."""
    page = browsing.signed_in("dana")
    page.goto(f"/contacts/{world.contact_id}?before=0")
    _record_message(page, HOSTILE)
    message = page.locator("ol.transcript li.message").last
    assert message.locator(".message-body").inner_text() == HOSTILE
    assert page.locator("ol.transcript script").count() == 0
    page.goto(f"/search?q={'alert(1)'}")
    assert HOSTILE in page.locator(".search-results").last.inner_text()
    assert page.locator(".search-results script").count() == 0


def test_flags_are_shown_in_words_with_their_meaning(site: Site, browsing: Browsing, world: World) -> None:
    """A message outside the authorization shows its flag as words and what it means, never the key."""
    page = browsing.signed_in("lena")
    page.goto(f"/contacts/{world.contact_id}")
    flags = page.locator("ol.transcript .flag-list").first
    assert "Outside the authorization" in flags.locator(".flag").all_inner_texts()
    assert "no valid authorization" in flags.inner_text()
    assert "outside_authorization" not in page.locator("body").inner_text()
    save_screenshot(page, "legal-reads-transcript")


def test_detective_logs_message_after_message_with_the_keyboard(
    site: Site, browsing: Browsing, world: World
) -> None:
    """The quick form beside the conversation takes one message after another without the mouse: choose
    the side with the arrow keys, Tab to the text, Ctrl+Enter; the form is then ready for the next one."""
    page = browsing.signed_in("dana")
    page.goto(f"/contacts/{world.contact_id}?before=0")
    page.locator("#direction-0").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "sent_at"
    page.keyboard.press("Tab")
    page.keyboard.type("hello, how are you")
    page.keyboard.press("Control+Enter")
    page.wait_for_url("**logged=*")
    page.locator("#direction-0:focus").wait_for()
    page.keyboard.press("ArrowDown")  # the second choice: outgoing
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("fine thanks, and you?")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    page.locator("#direction-0:focus").wait_for()
    last_two = page.locator("ol.transcript li.message").all()[-2:]
    assert [m.locator(".message-body").inner_text() for m in last_two] == [
        "hello, how are you", "fine thanks, and you?"]
    assert "message-in" in (last_two[0].get_attribute("class") or "")
    assert "message-out" in (last_two[1].get_attribute("class") or "")
    save_screenshot(page, "detective-logs-with-keyboard")


def test_detective_cannot_open_another_operation(site: Site, browsing: Browsing, world: World) -> None:
    """Pages of an operation the detective is not assigned to answer 404, revealing nothing."""
    page = browsing.signed_in("dana")
    paths = [
        f"/contacts/{world.other_contact_id}",
        f"/profiles/{world.other_profile_id}/contacts",
        f"/operations/{world.other_operation_id}",
    ]
    for target in paths:
        response = page.goto(target)
        assert response is not None and response.status == 404, target
        assert page.get_by_role("heading", level=1).inner_text().startswith("404")
        assert "blue_kite_12" not in page.content()
        assert "Harbour" not in page.content()
    save_screenshot(page, "detective-other-operation-404")
    page.goto("/search?q=blue_kite")
    assert "blue_kite_12" not in page.locator("main").inner_text()
