"""Disclosure in the browser: a legal officer withholds a message on the contact page, a detective keeps a
note in the contact's journal, and the legal officer exports one contact for a disclosure whose bundle
verifies offline, lists the withheld message and holds none of its text."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import select

from audit.bundle import verify_bundle
from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS
from decoy.db import session_scope
from decoy.disclosure import classes
from decoy.models import Message
from tests.e2e.support import Browsing, Site, path_of, save_screenshot
from tests.e2e.world import World, build_world, contact_with_messages
from tests.factories import actor_for

WITHHELD_TEXT = "fine, thanks. and you?"
GROUND = "art. 149b Sv"
REFERENCE = "RC-2026-17"
NOTE = "<b>hello</b>, how are you"
OTHER_COUNTERPART = "green_owl_31"
REASON = "The message shows how the decoy works; the court decided."


@pytest.fixture(scope="module")
def world(site: Site) -> Iterator[World]:
    """Two operations; Operation Lantern gets a second contact, so that an export can leave one out."""
    built = build_world(site)
    contact_with_messages(site.app, "dana", built.profile_id, OTHER_COUNTERPART)
    yield built


def _withheld_message_id(page: Any) -> int:
    """The id of the message whose text is WITHHELD_TEXT, read from the contact page."""
    message = page.locator("ol.transcript li.message").filter(has_text=WITHHELD_TEXT).first
    element_id = message.get_attribute("id")
    assert element_id is not None and element_id.startswith("m"), element_id
    return int(element_id[1:])


def test_legal_officer_withholds_a_message(site: Site, browsing: Browsing, world: World) -> None:
    """The class form beside the message records "withheld" with its ground and decision reference; the
    page comes back at the message, which shows its class in words."""
    page = browsing.signed_in("lena")
    page.goto(f"/contacts/{world.contact_id}")
    message_id = _withheld_message_id(page)
    message = page.locator(f"#m{message_id}")
    assert message.locator(".disclosure-class").count() == 0  # a message is case file until decided

    decide = message.locator("details.disclosure-decide").first
    decide.locator("summary").click()
    decide.get_by_label("Class", exact=True).select_option("withheld")
    decide.get_by_label("Legal ground (only when withheld), e.g. art. 149b Sv").fill(GROUND)
    decide.get_by_label("Decision reference (only when withheld)").fill(REFERENCE)
    decide.get_by_label("Reason", exact=True).fill(REASON)
    decide.get_by_role("button", name="Record decision").click()
    page.wait_for_url(lambda url: url.endswith(f"#m{message_id}"))

    assert path_of(page) == f"/contacts/{world.contact_id}"
    assert f"message {message_id} is now withheld" in page.get_by_role("status").inner_text()
    badge = page.locator(f"#m{message_id} .disclosure-class")
    assert badge.count() == 1
    assert f"withheld ({GROUND}, ref {REFERENCE})" in badge.inner_text()
    # The text itself stays readable inside Decoy: withholding concerns disclosures only.
    assert WITHHELD_TEXT in page.locator(f"#m{message_id} .message-body").inner_text()
    save_screenshot(page, "legal-officer-withholds-message")


def test_detective_adds_a_journal_note(site: Site, browsing: Browsing, world: World) -> None:
    """The journal beside the transcript takes a note and shows it as text, never as markup."""
    page = browsing.signed_in("dana")
    page.goto(f"/contacts/{world.contact_id}")
    journal = page.locator("#journal")
    journal.get_by_label("New note").fill(NOTE)
    journal.get_by_role("button", name="Add note").click()
    page.wait_for_load_state()

    assert path_of(page) == f"/contacts/{world.contact_id}"
    assert "added to the journal" in page.get_by_role("status").inner_text()
    note = page.locator("#journal li.journal-note").first
    note_id = note.get_attribute("id")
    assert note_id is not None and page.url.endswith(f"#{note_id}")
    body = note.locator(".note-body")
    assert body.inner_text() == NOTE  # the literal text, tags and all
    assert body.locator("b").count() == 0  # not bold: nothing an officer writes becomes markup
    assert "dana" in note.locator("header").inner_text()


def test_legal_officer_exports_one_contact(site: Site, browsing: Browsing, world: World) -> None:
    """The export page: one contact ticked, purpose and recipient given; the bundle verifies offline with
    Decoy's checks, lists the withheld message in withheld.json and holds none of its text."""
    _ensure_withheld(site, world)
    page = browsing.signed_in("lena")
    page.goto(f"/contacts/{world.contact_id}")
    message_id = _withheld_message_id(page)

    page.goto(f"/operations/{world.operation_id}/export")
    page.get_by_label(f"Contact {world.contact_id}: river_fox_88").check()
    assert not page.get_by_label(OTHER_COUNTERPART).is_checked()
    page.get_by_label("Purpose").fill("disclosure to the defence")
    page.get_by_label("Recipient").fill("the public prosecutor")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Make the export and download it").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    path = download.path()
    assert path is not None

    key = page.request.get("/api/v1/audit/public-key").text().strip()
    report = verify_bundle(path, key, checks=EVIDENCE_BUNDLE_CHECKS)
    assert report.ok, report.reason
    assert report.vouched_by == "the key given"

    with zipfile.ZipFile(path) as bundle:
        files = {name: bundle.read(name) for name in bundle.namelist()}
    holding = [name for name, content in files.items() if WITHHELD_TEXT.encode() in content]
    assert not holding, f"the withheld message's text is in {holding}"
    assert not [name for name, content in files.items() if NOTE.encode() in content], "a journal note left"
    assert not [name for name, content in files.items() if OTHER_COUNTERPART.encode() in content]
    assert any(b"river_fox_88" in content for content in files.values())

    listed = json.loads(files["withheld.json"])
    [item] = [entry for entry in listed if entry["kind"] == "message" and entry["id"] == message_id]
    assert item["ground"] == GROUND and item["decision_reference"] == REFERENCE
    scope = json.loads(files["operation.json"])["export"]
    assert scope == {"contacts": [world.contact_id], "purpose": "disclosure to the defence",
                     "recipient": "the public prosecutor"}


def _ensure_withheld(site: Site, world: World) -> None:
    """Withhold the message through the service when the browser test before did not (run alone)."""
    with site.app.app_context(), session_scope(site.app) as session:
        message = session.exec(
            select(Message).where(Message.contact_id == world.contact_id, Message.body == WITHHELD_TEXT)
        ).one()
        message_id = int(message.id or 0)
        if classes.class_of(session, "message", message_id) != "withheld":
            classes.decide(session, actor=actor_for(session, "lena"), kind="message", item_id=message_id,
                           disclosure_class="withheld", ground=GROUND, decision_reference=REFERENCE,
                           reason=REASON)
