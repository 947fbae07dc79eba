"""Safeguarding in the browser: a sensitive image is never rendered on any page for anyone, not even
fetched by the browser, and only a legal officer (or the operation's supervisor) saves it, after giving a
reason; a detective records a protective action on the case a real minor opened, and the home pages list
the open case."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import col, select

from decoy.db import session_scope
from decoy.disclosure import classes
from decoy.evidence import categories
from decoy.models import Attachment, Message
from tests.e2e.support import Browsing, Site, path_of, save_screenshot
from tests.e2e.world import World, build_world, tiny_png
from tests.factories import actor_for

REASON = "Preparing the hearing of 12 March (prosecutor's request PR-88)."

#: Every image-like element, and every CSS background that points at an attachment, on the page.
SHOWN_FILES = """() => {
  const found = [];
  for (const e of document.querySelectorAll('img, picture source, video, audio, object, embed, iframe')) {
    const src = e.getAttribute('src') || e.getAttribute('srcset') || e.getAttribute('data') || '';
    found.push(e.tagName.toLowerCase() + ' ' + src);
  }
  for (const e of document.querySelectorAll('*')) {
    const background = getComputedStyle(e).backgroundImage;
    if (background && background.includes('/attachments/')) found.push('background ' + background);
  }
  return found;
}"""


@dataclass
class Marked:
    """The world, its sensitive attachment and the message that carries it."""

    world: World
    attachment_id: int
    message_id: int


@pytest.fixture(scope="module")
def marked(site: Site) -> Iterator[Marked]:
    """The world; the image of Lantern's first message marked sensitive, and the contact a real minor."""
    world = build_world(site)
    app = site.app
    with app.app_context(), session_scope(app) as session:
        attachment, message = session.exec(
            select(Attachment.id, Message.id)
            .join(Message, col(Message.id) == Attachment.message_id)
            .where(Message.contact_id == world.contact_id)
        ).one()
        classes.decide(session, actor=actor_for(session, "lena"), kind="attachment", item_id=attachment,
                       disclosure_class="sensitive", reason="an image of a minor: hash only")
        categories.change_category(session=session, actor=actor_for(session, "dana"),
                                   contact_id=world.contact_id, category="real_minor",
                                   reason="she said she is in year two of school")
    yield Marked(world, attachment, message)


def _pages(marked: Marked) -> list[str]:
    world = marked.world
    return [
        "/", f"/operations/{world.operation_id}", f"/contacts/{world.contact_id}",
        f"/profiles/{world.profile_id}/contacts", f"/messages/{marked.message_id}", "/search?q=hello",
        f"/operations/{world.operation_id}/export", f"/operations/{world.operation_id}/reviews",
        "/notifications",
    ]


@pytest.mark.parametrize("username", ["dana", "sam", "lena"])
def test_no_page_shows_or_fetches_the_sensitive_image(
    site: Site, browsing: Browsing, marked: Marked, username: str
) -> None:
    page = browsing.signed_in(username)
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    for path in _pages(marked):
        answer = page.goto(path)
        assert answer is not None and answer.status < 500, path
        page.wait_for_load_state("networkidle")
        shown = page.evaluate(SHOWN_FILES)
        assert not [item for item in shown if "/attachments/" in item], (path, shown)
        assert page.evaluate("() => document.images.length") == 0, path
    assert not [url for url in fetched if f"/attachments/{marked.attachment_id}" in url], fetched
    page.goto(f"/contacts/{marked.world.contact_id}")
    item = page.locator("li.sensitive-attachment")
    assert "Sensitive material: never shown" in item.inner_text()
    links = item.get_by_role("link").all()
    if username == "dana":
        assert links == []  # a detective cannot open it
    else:
        assert [link.get_attribute("href") for link in links] == [f"/attachments/{marked.attachment_id}/open"]


def test_a_legal_officer_saves_it_only_after_giving_a_reason(
    site: Site, browsing: Browsing, marked: Marked, tmp_path: Any
) -> None:
    page = browsing.signed_in("lena")
    page.goto(f"/contacts/{marked.world.contact_id}")
    page.locator("li.sensitive-attachment").get_by_role("link", name="Open with a reason").click()
    page.wait_for_load_state()
    assert path_of(page) == f"/attachments/{marked.attachment_id}/open"
    assert page.evaluate("() => document.images.length") == 0
    page.get_by_role("button", name="Record the reason and save the file").click()
    page.wait_for_load_state()
    assert "reason is required" in page.locator("main").inner_text()
    page.get_by_label("Why you open it").fill(REASON)
    save_screenshot(page, "legal-officer-opens-sensitive-material")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Record the reason and save the file").click()
    saved = tmp_path / "saved.bin"
    download_info.value.save_as(saved)
    assert saved.read_bytes() == tiny_png()
    assert page.evaluate("() => document.images.length") == 0  # saved, never shown
    page.goto(f"/attachments/{marked.attachment_id}/open")
    assert REASON in page.locator(".sensitive-openings").inner_text()


def test_a_detective_records_an_action_and_the_home_pages_list_the_case(
    site: Site, browsing: Browsing, marked: Marked
) -> None:
    lena = browsing.signed_in("lena")
    lena.goto("/")
    cases = lena.locator("section.safeguarding-open")
    assert "a real minor" in cases.inner_text() and "open" in cases.inner_text()
    page = browsing.signed_in("dana")
    page.goto(f"/contacts/{marked.world.contact_id}")
    section = page.locator("#safeguarding")
    assert "she said she is in year two of school" in section.inner_text()
    section.locator("details.safeguarding-act summary").click()
    section.get_by_label("Action").select_option("care_report")
    section.get_by_label("Reference (report or notice number", exact=False).fill("VT-2026-0042")
    section.get_by_role("button", name="Record the action").click()
    page.wait_for_url(lambda url: url.endswith("#safeguarding"))
    section = page.locator("#safeguarding")
    assert "VT-2026-0042" in section.locator("table.safeguarding-actions").inner_text()
    assert "in progress" in section.locator(".badge").first.inner_text()
    save_screenshot(page, "detective-records-safeguarding-action")
    page.goto("/")
    assert "in progress" in page.locator("section.safeguarding-open").inner_text()
