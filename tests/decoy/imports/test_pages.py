"""The import pages: upload, preview (a dry run), confirm or cancel; refusals that store nothing; who may
use them; kept files; hostile text; platform notices on the contact page."""

from __future__ import annotations

import io
import json
import os
import re
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from decoy.db import session_scope
from decoy.models import Message, MessageImport
from tests.support import AuthActions, csrf_from

from .support import stored_messages, whatsapp_android

CHAT = [
    ("02-03-2026 10:00", "Alex", "hello, how are you"),
    ("02-03-2026 10:01", "Sam Decoy", "fine thanks"),
    ("02-03-2026 10:02", "Alex", "see you later"),
]
HOSTILE = "<script>alert(1)</script>"
CONFIRM_ACTION = re.compile(r'action="/contacts/(\d+)/import/([A-Za-z0-9_-]{43})"')


@pytest.fixture
def contact(world: Any) -> int:
    return world.contact()


def upload(
    client: Any,
    contact_id: int,
    content: bytes,
    *,
    decoy_name: str = "Sam Decoy",
    filename: str = "WhatsApp-chat met Alex.txt",
    **fields: str,
) -> Any:
    """Open the form and submit the export with it; the answer (the preview, or the form again)."""
    form = client.get(f"/contacts/{contact_id}/import")
    assert form.status_code == 200, form.get_data(as_text=True)
    data: dict[str, Any] = {
        "csrf_token": csrf_from(form.get_data(as_text=True)),
        "format": "whatsapp",
        "decoy_name": decoy_name,
        "timezone": "Europe/Amsterdam",
        "chat": "",
        "file": (io.BytesIO(content), filename),
    }
    data.update(fields)
    return client.post(f"/contacts/{contact_id}/import", data=data, content_type="multipart/form-data")


def token_of(html: str) -> str:
    """The token of the preview's confirmation form."""
    match = CONFIRM_ACTION.search(html)
    assert match, "no confirmation form in the page"
    return match.group(2)


def confirm(client: Any, contact_id: int, token: str, action: str = "confirm") -> Any:
    """Press "Confirm import" (or "Cancel") on a preview."""
    csrf = csrf_from(client.get("/account/tokens").get_data(as_text=True))
    return client.post(f"/contacts/{contact_id}/import/{token}", data={"csrf_token": csrf, "action": action})


def count(html: str, name: str) -> int:
    """A count of the preview or the import page."""
    match = re.search(rf'class="count-{name}">(\d+)', html)
    assert match, f"no count {name}"
    return int(match.group(1))


def pending_dir(world: Any) -> Path:
    return Path(world.app.config["DATA_DIR"]) / "imports-pending"


def kept_files(world: Any) -> list[str]:
    folder = pending_dir(world)
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def imports_count(world: Any) -> int:
    with world.app.app_context(), session_scope(world.app) as session:
        return int(session.exec(select(func.count()).select_from(MessageImport)).one())


def sign_in_again(world: Any, auth: Any) -> None:
    """dana signs in again after the clock moved past her session's end (the first request ends it)."""
    world.client.get("/login")
    auth.login("dana")


def message_item(html: str, message_id: int) -> str:
    """The transcript's item of one message."""
    match = re.search(rf'<li id="m{message_id}" .*?</li>\n', html, re.S)
    assert match, f"message {message_id} is not on the page"
    return match.group(0)


def test_upload_preview_and_confirm(world, auth, contact):
    confirmed = world.message(contact, body="hello,  how are you", sent_at="2026-03-02T10:00:30+01:00")
    differs = world.message(
        contact, body="fine thank you", direction="out", sent_at="2026-03-02T10:01:00+01:00"
    )
    auth.login("dana")
    contact_page = world.client.get(f"/contacts/{contact}").get_data(as_text=True)
    assert f'href="/contacts/{contact}/import"' in contact_page and "Import an export" in contact_page

    preview = upload(world.client, contact, whatsapp_android(CHAT))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "Preview of the import" in html and "Confirm import" in html
    assert count(html, "exported") == 4  # the encryption notice and three messages
    assert count(html, "added") == 3  # the notice, "fine thanks" and "see you later"
    assert count(html, "duplicates") == 1 and count(html, "confirmed") == 1
    assert count(html, "system") == 1 and count(html, "differences") == 1
    assert "2026-03-02 09:00:00 CET – 2026-03-02 10:02:00 CET" in html
    assert "Europe/Amsterdam" in html
    assert "fine thank you" in html and '<strong class="flag">Differs from the export</strong>' in html
    assert "differs_from_export</" not in html
    assert f'href="/messages/{differs["id"]}"' in html
    assert f'href="/messages/{confirmed["id"]}"' not in html
    # Nothing is stored before the confirmation; the file is kept, readable by its owner only.
    assert imports_count(world) == 0 and len(stored_messages(world, contact)) == 2
    token = token_of(html)
    assert kept_files(world) == [token, f"{token}.json"]
    assert stat.S_IMODE((pending_dir(world) / token).stat().st_mode) == 0o600
    assert stat.S_IMODE((pending_dir(world) / f"{token}.json").stat().st_mode) == 0o600
    assert (pending_dir(world) / token).read_bytes() == whatsapp_android(CHAT)
    kept = json.loads((pending_dir(world) / f"{token}.json").read_text())
    assert kept["contact_id"] == contact and kept["filename"] == "WhatsApp-chat met Alex.txt"
    assert kept["choices"]["decoy_name"] == "Sam Decoy" and kept["choices"]["format"] == "whatsapp"

    done = confirm(world.client, contact, token)
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/contacts/{contact}")
    assert kept_files(world) == []
    messages = stored_messages(world, contact)
    assert len(messages) == 5 and imports_count(world) == 1
    import_id = next(m.import_id for m in messages if m.import_id)
    page = world.client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Imported: 3 messages added, 1 already present, 1 differences." in page
    see_you = next(m for m in messages if m.body == "see you later")
    item = message_item(page, see_you.id)
    assert f'href="/imports/{import_id}"' in item and f"import {import_id}</a>, " in item
    assert "line 4" in item and "time read in Europe/Amsterdam" in item
    assert '<strong class="flag">Differs from the export</strong>' in message_item(page, differs["id"])
    assert "flagged" in message_item(page, differs["id"]).split(">", 1)[0]
    assert "Differs from the export" not in message_item(page, confirmed["id"])
    listing = page.split('id="imports"', 1)[1].split("</section>", 1)[0]
    assert f'href="/imports/{import_id}"' in listing and "WhatsApp-chat met Alex.txt" in listing
    assert "<td>whatsapp</td>" in listing and "<td>3</td><td>1</td><td>1</td>" in listing


def test_the_same_file_again_is_imported_before(world, auth, contact):
    auth.login("dana")
    first = token_of(upload(world.client, contact, whatsapp_android(CHAT)).get_data(as_text=True))
    second = token_of(upload(world.client, contact, whatsapp_android(CHAT)).get_data(as_text=True))
    assert confirm(world.client, contact, first).status_code == 302
    before = len(stored_messages(world, contact))
    # A preview of the same file taken before the first confirmation: confirming it adds nothing.
    again = confirm(world.client, contact, second)
    assert again.status_code == 302
    shown = world.client.get(again.headers["Location"]).get_data(as_text=True)
    assert "This file was imported before" in shown
    # A new upload of the same file says so at once, with nothing to confirm and nothing kept.
    preview = upload(world.client, contact, whatsapp_android(CHAT))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "This file was imported before" in html and "Confirm import" not in html
    assert kept_files(world) == []
    assert len(stored_messages(world, contact)) == before and imports_count(world) == 1


@pytest.mark.parametrize(
    ("content", "fields", "field", "reason"),
    [
        (whatsapp_android(CHAT), {"decoy_name": "Nobody"}, "decoy_name", "Nobody sent no message"),
        (whatsapp_android(CHAT), {"timezone": "Mars/Olympus"}, "timezone", "not a known time zone"),
        (b"\xff\xfe not utf-8 \xff", {}, "file", "not UTF-8"),
        (whatsapp_android(CHAT), {"format": "myspace"}, "format", "format must be one of"),
        (whatsapp_android(CHAT), {"capture_session": "abc"}, "capture_session", "from the list"),
    ],
    ids=["unknown-name", "zone", "encoding", "format", "capture-session"],
)
def test_a_refused_file_shows_the_form_again_and_stores_nothing(
    world, auth, contact, content, fields, field, reason
):
    auth.login("dana")
    fields = dict(fields)
    answer = upload(
        world.client, contact, content, decoy_name=fields.pop("decoy_name", "Sam Decoy"), **fields
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400, html
    assert 'role="alert"' in html and "The export cannot be imported" in html and "Nothing was stored" in html
    marked = re.search(rf'<div class="field has-error">\s*<label for="{field}".*?</div>', html, re.S)
    assert marked and reason in marked.group(0), html
    assert "Confirm import" not in html
    assert imports_count(world) == 0 and stored_messages(world, contact) == []
    assert kept_files(world) == []


def test_an_upload_without_a_file_or_csrf_token_is_refused(world, auth, contact):
    auth.login("dana")
    form = world.client.get(f"/contacts/{contact}/import").get_data(as_text=True)
    answer = world.client.post(
        f"/contacts/{contact}/import",
        data={"csrf_token": csrf_from(form), "format": "whatsapp", "decoy_name": "Sam Decoy"},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400 and "Choose the export file." in answer.get_data(as_text=True)
    forged = world.client.post(
        f"/contacts/{contact}/import",
        data={
            "format": "whatsapp",
            "decoy_name": "Sam Decoy",
            "file": (io.BytesIO(whatsapp_android(CHAT)), "a.txt"),
        },
        content_type="multipart/form-data",
    )
    assert forged.status_code == 400 and "The form expired" in forged.get_data(as_text=True)
    assert kept_files(world) == [] and imports_count(world) == 0


def test_only_the_uploader_may_confirm(world, auth, contact, app, factory, clock):
    auth.login("dana")
    token = token_of(upload(world.client, contact, whatsapp_android(CHAT)).get_data(as_text=True))
    answers = {}
    for username in ("dirk", "nina", "lena"):
        other = app.test_client()
        AuthActions(other, factory, clock).login(username)
        answers[username] = confirm(other, contact, token)
        assert imports_count(world) == 0
    # dirk may record into the contact: he gets the form again, told nothing of whose preview it was.
    assert answers["dirk"].status_code == 404
    assert "This preview has expired or does not exist" in answers["dirk"].get_data(as_text=True)
    assert answers["nina"].status_code == 404  # not a member: the contact does not exist for her
    assert answers["lena"].status_code == 403  # reads the operation, records nothing
    assert kept_files(world) == [token, f"{token}.json"]
    assert confirm(world.client, contact, token).status_code == 302
    assert imports_count(world) == 1


def test_a_stale_or_unknown_token_is_explained(world, auth, contact, clock):
    auth.login("dana")
    for token in ("nonsense", "A" * 43):
        answer = confirm(world.client, contact, token)
        assert answer.status_code == 404
        assert "This preview has expired or does not exist" in answer.get_data(as_text=True)
    token = token_of(upload(world.client, contact, whatsapp_android(CHAT)).get_data(as_text=True))
    clock.advance(timedelta(hours=25))
    sign_in_again(world, auth)
    answer = confirm(world.client, contact, token)
    assert answer.status_code == 404
    assert "This preview has expired or does not exist" in answer.get_data(as_text=True)
    assert kept_files(world) == [] and imports_count(world) == 0


def test_kept_files_older_than_a_day_are_deleted_on_the_next_upload(world, auth, contact, clock):
    auth.login("dana")
    old = token_of(upload(world.client, contact, whatsapp_android(CHAT)).get_data(as_text=True))
    stray = pending_dir(world) / ("B" * 43)  # a copy interrupted before its description was written
    stray.write_bytes(b"half")
    clock.advance(timedelta(hours=23))
    sign_in_again(world, auth)
    recent = token_of(upload(world.client, contact, whatsapp_android(CHAT[:2])).get_data(as_text=True))
    assert {old, recent} <= {name.split(".")[0] for name in kept_files(world)}
    clock.advance(timedelta(hours=2))
    sign_in_again(world, auth)
    newest = token_of(
        upload(world.client, contact, whatsapp_android(CHAT[:1] + CHAT[1:2])).get_data(as_text=True)
    )
    names = {name.split(".")[0] for name in kept_files(world)}
    assert old not in names and recent in names and newest in names
    assert "B" * 43 in names  # by its file time, which is recent
    os.utime(stray, (0, 0))
    upload(world.client, contact, whatsapp_android(CHAT))
    assert "B" * 43 not in {name.split(".")[0] for name in kept_files(world)}


def test_cancel_deletes_the_kept_file(world, auth, contact):
    auth.login("dana")
    token = token_of(upload(world.client, contact, whatsapp_android(CHAT)).get_data(as_text=True))
    answer = confirm(world.client, contact, token, action="cancel")
    assert answer.status_code == 302
    assert "Import cancelled; nothing was stored." in world.client.get(answer.headers["Location"]).get_data(
        as_text=True
    )
    assert kept_files(world) == [] and imports_count(world) == 0
    assert confirm(world.client, contact, token).status_code == 404


def test_a_legal_officer_sees_the_import_but_not_the_form(world, auth, contact, app, factory, clock):
    auth.login("dana")
    confirm(
        world.client,
        contact,
        token_of(upload(world.client, contact, whatsapp_android(CHAT)).get_data(as_text=True)),
    )
    import_id = next(m.import_id for m in stored_messages(world, contact) if m.import_id)
    legal = app.test_client()
    AuthActions(legal, factory, clock).login("lena")
    page = legal.get(f"/imports/{import_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    assert "WhatsApp-chat met Alex.txt" in html and "dana" in html and "Sam Decoy" in html
    with app.app_context(), session_scope(app) as session:
        sha256 = session.get(MessageImport, import_id).sha256
    assert sha256 in html and "Europe/Amsterdam" in html
    assert count(html, "added") == 4 and count(html, "exported") == 4
    assert legal.get(f"/contacts/{contact}/import").status_code == 403
    contact_page = legal.get(f"/contacts/{contact}").get_data(as_text=True)
    assert "Import an export" not in contact_page and f'href="/imports/{import_id}"' in contact_page
    outsider = app.test_client()
    AuthActions(outsider, factory, clock).login("nina")
    assert outsider.get(f"/imports/{import_id}").status_code == 404
    assert outsider.get(f"/contacts/{contact}/import").status_code == 404


def test_hostile_text_is_escaped_on_the_preview_and_the_contact_page(world, auth, contact):
    typed = world.message(contact, body=HOSTILE, sent_at="2026-03-02T10:02:00+01:00")
    chat = [*CHAT[:2], ("02-03-2026 10:02", "Alex", f"see you later {HOSTILE}")]
    auth.login("dana")
    preview = upload(world.client, contact, whatsapp_android(chat), filename=f"{HOSTILE}.txt")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert f'href="/messages/{typed["id"]}"' in html
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    confirm(world.client, contact, token_of(html))
    page = world.client.get(f"/contacts/{contact}").get_data(as_text=True)
    assert HOSTILE not in page
    assert "see you later &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in page


def test_a_system_line_is_shown_as_a_platform_notice(world, auth, contact):
    auth.login("dana")
    confirm(
        world.client,
        contact,
        token_of(upload(world.client, contact, whatsapp_android(CHAT)).get_data(as_text=True)),
    )
    notice = next(m for m in stored_messages(world, contact) if m.direction == "system")
    page = world.client.get(f"/contacts/{contact}").get_data(as_text=True)
    item = message_item(page, notice.id)
    assert 'class="message message-system"' in item
    assert "platform notice" in item and 'class="verbatim system-text"' in item
    assert "Berichten en gesprekken zijn end-to-end versleuteld." in item
    assert "incoming" not in item and "outgoing" not in item


def test_the_page_of_a_missing_or_hidden_import_is_not_found(world, auth):
    auth.login("dana")
    assert world.client.get("/imports/999999").status_code == 404
    with world.app.app_context(), session_scope(world.app) as session:
        assert session.exec(select(func.count()).select_from(Message)).one() == 0
