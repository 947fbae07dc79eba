"""The detective imports a small WhatsApp export through the pages: the form, the preview with a typed
message the export contradicts, the confirmation, and the imported messages on the contact page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from decoy import clock
from decoy.db import session_scope
from decoy.evidence import services as evidence
from tests.e2e.support import Browsing, Site, path_of, save_screenshot
from tests.e2e.world import World, build_world
from tests.factories import actor_for

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
#: Where the journey leaves its two screenshots for a person to look at (besides SCREENSHOTS).
PREVIEW_PNG = Path("/tmp/import-preview.png")  # noqa: S108 - asked for by name
CONTACT_PNG = Path("/tmp/contact-imported.png")  # noqa: S108 - asked for by name


@pytest.fixture(scope="module")
def world(site: Site) -> Iterator[World]:
    """Two operations; dana works in the first only."""
    yield build_world(site)


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(AMSTERDAM).replace(second=0, microsecond=0)


def _android(moment: datetime) -> str:
    """A WhatsApp (Android, Dutch) header time: the wall clock in Amsterdam, to the minute."""
    return moment.strftime("%d-%m-%Y %H:%M")


def _contact_with_a_typed_message(site: Site, world: World, start: datetime) -> int:
    """A new contact of dana's profile with one outgoing message typed by hand, which the export will
    give with another text."""
    app = site.app
    with app.app_context(), session_scope(app) as session:
        contact = evidence.create_contact(
            session=session,
            actor=actor_for(session, "dana"),
            profile_id=world.profile_id,
            counterpart="meadow_owl_31",
            first_seen_at=start - timedelta(minutes=5),
        )
        contact_id = int(contact.id)  # type: ignore[arg-type]
    with app.app_context(), session_scope(app) as session:
        evidence.log_message(
            session=session,
            actor=actor_for(session, "dana"),
            contact_id=contact_id,
            direction="out",
            sent_at=start + timedelta(minutes=2),
            body="fine, see you at six",
        )
    return contact_id


def test_detective_imports_a_whatsapp_export(site: Site, browsing: Browsing, world: World) -> None:
    """Upload, preview (counts and the difference), confirm; the contact page shows the imported messages
    with their provenance and the platform's notice as a notice."""
    with site.app.app_context():
        start = _minute(clock.now() - timedelta(hours=2))
    contact_id = _contact_with_a_typed_message(site, world, start)
    export = (
        f"{_android(start)} - Berichten en gesprekken zijn end-to-end versleuteld.\n"
        f"{_android(start + timedelta(minutes=1))} - Robin: hello, how are you\n"
        f"{_android(start + timedelta(minutes=2))} - Sunny Decoy: fine, see you at seven\n"
        f"{_android(start + timedelta(minutes=3))} - Robin: ok <b>great</b>\n"
    ).encode()

    page = browsing.signed_in("dana")
    page.goto(f"/contacts/{contact_id}")
    page.get_by_role("link", name="Import an export").click()
    assert path_of(page) == f"/contacts/{contact_id}/import"
    assert page.locator("#timezone").input_value() == "Europe/Amsterdam"
    page.locator("#file").set_input_files(
        {"name": "WhatsApp-chat met Robin.txt", "mimeType": "text/plain", "buffer": export}
    )
    page.locator("#format").select_option("whatsapp")
    page.locator("#decoy_name").fill("Sunny Decoy")
    page.get_by_role("button", name="Show the preview").click()
    page.wait_for_load_state()

    assert page.get_by_role("heading", level=1).inner_text() == "Preview of the import"
    assert page.locator(".count-exported").inner_text() == "4"
    assert page.locator(".count-added").inner_text() == "4"
    assert page.locator(".count-system").inner_text().startswith("1")
    assert page.locator(".count-differences").inner_text() == "1"
    difference = page.locator("table.import-differences tbody tr")
    assert difference.count() == 1
    assert "fine, see you at six" in difference.inner_text()
    assert "Differs from the export" in difference.inner_text()
    assert "differs_from_export" not in difference.inner_text()
    page.screenshot(path=str(PREVIEW_PNG), full_page=True, animations="disabled")
    save_screenshot(page, "import-preview")

    page.get_by_role("button", name="Confirm import").click()
    page.wait_for_load_state()
    assert path_of(page) == f"/contacts/{contact_id}"
    assert (
        "Imported: 4 messages added, 0 already present, 1 differences."
        in page.get_by_role("status").inner_text()
    )
    transcript = page.locator("ol.transcript")
    notice = transcript.locator("li.message-system")
    assert notice.count() == 1
    assert "platform notice" in notice.inner_text()
    assert "Berichten en gesprekken zijn end-to-end versleuteld." in notice.inner_text()
    bodies = transcript.locator(".message-body").all_inner_texts()
    assert bodies == [
        "hello, how are you",
        "fine, see you at six",
        "fine, see you at seven",
        "ok <b>great</b>",
    ]
    assert transcript.locator("b").count() == 0  # the counterpart's markup is text
    typed = transcript.locator("li.message", has_text="fine, see you at six")
    assert typed.locator(".flag-list .flag").all_inner_texts() == ["Differs from the export"]
    imported = transcript.locator("li.message", has_text="hello, how are you")
    assert "imported (import" in imported.inner_text() and "line 2" in imported.inner_text()
    assert "time read in Europe/Amsterdam" in imported.inner_text()
    assert page.locator("#imports table.imports tbody tr").count() == 1
    page.screenshot(path=str(CONTACT_PNG), full_page=True, animations="disabled")
    save_screenshot(page, "contact-imported")

    page.locator("#imports table.imports").get_by_role("link").first.click()
    assert path_of(page).startswith("/imports/")
    assert "WhatsApp-chat met Robin.txt" in page.locator("main").inner_text()
