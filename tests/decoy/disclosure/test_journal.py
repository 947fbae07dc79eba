"""The internal journal: the operation's detectives and supervisors keep notes on it and on its contacts
(append-only, class ``journal`` until a legal officer reclassifies one), shown newest first inside Decoy
beside the transcript, escaped; every note has its audit entry under the officer's code and no text, and
`decoy audit verify` fails for a note altered behind the database's triggers."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from decoy.cli import main
from decoy.db import session_scope
from decoy.disclosure import journal
from decoy.disclosure.rows import note_row_sha256
from decoy.errors import InvalidInput
from decoy.evidence.fingerprint import columns, text_sha256
from decoy.models import JournalNote
from tests.decoy.evidence.support import entries_for
from tests.factories import actor_for, make_operation
from tests.support import code_for, csrf_from

from .classes_support import decide, note, run_sql, tamper

HOSTILE = "<script>x</script>"


def test_officers_write_notes_on_the_operation_and_its_contacts_newest_first(world: Any) -> None:
    contact = world.contact()
    other = world.contact(counterpart="another_one")
    first = note(world, f"/contacts/{contact}")
    assert (first["contact_id"], first["operation_id"]) == (contact, world.operation_id)
    assert first["class"] == "journal"
    assert (first["body"], first["by"]) == ("hello, how are you", "dana")
    assert first["body_sha256"] == text_sha256("hello, how are you")
    assert set(first) == {"id", "operation_id", "contact_id", "body", "body_sha256", "class", "by", "at"}
    on_operation = note(world, f"/operations/{world.operation_id}", "plan for tomorrow", username="sol")
    assert on_operation["contact_id"] is None
    elsewhere = note(world, f"/contacts/{other}", "fine thanks", username="sam")
    second = note(world, f"/contacts/{contact}", "see you later", username="dirk")

    listed = world.get(f"/contacts/{contact}/journal").get_json()
    assert [n["id"] for n in listed["items"]] == [second["id"], first["id"]]
    assert listed["next"] is None
    everything = world.get(f"/operations/{world.operation_id}/journal", "lena").get_json()["items"]
    assert [n["id"] for n in everything] == [second["id"], elsewhere["id"], on_operation["id"], first["id"]]


def test_a_journal_pages_newest_first(world: Any) -> None:
    contact = world.contact()
    ids = [note(world, f"/contacts/{contact}", f"note {number}")["id"] for number in range(5)]
    page = world.get(f"/contacts/{contact}/journal?limit=2").get_json()
    seen = [n["id"] for n in page["items"]]
    while page["next"]:
        page = world.get(page["next"]).get_json()
        seen += [n["id"] for n in page["items"]]
    assert seen == ids[::-1]
    page = world.get(f"/operations/{world.operation_id}/journal?limit=3").get_json()
    assert len(page["items"]) == 3 and f"before={ids[2]}" in page["next"]


@pytest.mark.parametrize(("username", "status"), [("lena", 403), ("nina", 404), ("adam", 404)])
def test_only_the_operations_officers_write(world: Any, username: str, status: int) -> None:
    contact = world.contact()
    note(world, f"/contacts/{contact}", username=username, expect=status)
    note(world, f"/operations/{world.operation_id}", username=username, expect=status)
    with world.app.app_context(), session_scope(world.app) as session:
        assert session.exec(select(JournalNote)).all() == []


def test_readers_of_the_operation_read_its_journal_and_no_one_else(world: Any) -> None:
    contact = world.contact()
    note(world, f"/contacts/{contact}")
    for username in ("dana", "sol", "lena"):
        assert len(world.get(f"/contacts/{contact}/journal", username).get_json()["items"]) == 1
        assert len(world.get(f"/operations/{world.operation_id}/journal", username).get_json()["items"]) == 1
    for username in ("nina", "adam"):
        assert world.get(f"/contacts/{contact}/journal", username).status_code == 404
        assert world.get(f"/operations/{world.operation_id}/journal", username).status_code == 404
    assert world.get("/operations/2147483000/journal").status_code == 404


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"not json", "body"),
        (b"[1, 2]", "body"),
        (b"{}", "body"),
        (b'{"body": 5}', "body"),
        (b'{"body": ["x"]}', "body"),
        (b'{"body": ""}', "body"),
        (b'{"body": "   "}', "body"),
        (b'{"body": "nul \\u0000 byte"}', "body"),
        (b'{"body": "half \\ud800 pair"}', "body"),
        (json.dumps({"body": "x" * 20_001}).encode(), "body"),
    ],
)
def test_a_malformed_note_is_a_400_naming_the_field(world: Any, raw: bytes, field: str) -> None:
    contact = world.contact()
    for path in (f"/contacts/{contact}/journal", f"/operations/{world.operation_id}/journal"):
        answer = world.post(path, data=raw, content_type="application/json")
        assert answer.status_code == 400, answer.get_data(as_text=True)
        assert answer.get_json()["error"]["field"] == field


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("before=x", "before"),
        ("before=99999999999999999999", "before"),
    ],
)
def test_a_malformed_page_is_a_400_naming_the_argument(world: Any, query: str, field: str) -> None:
    contact = world.contact()
    answer = world.get(f"/contacts/{contact}/journal?{query}")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == field


def test_a_note_names_a_contact_of_its_own_operation(world: Any, app: Any, factory: Any) -> None:
    contact = world.contact()
    other = make_operation(app, "sam", name="Operation Harbour", members=("dana",))
    with app.app_context(), session_scope(app) as session, pytest.raises(InvalidInput) as refused:
        journal.write(session, actor=actor_for(session, "dana"), operation_id=other, contact_id=contact,
                      body="hello, how are you")
    assert refused.value.field == "contact_id"


def test_each_note_has_its_audit_entry_under_the_officers_code_without_its_text(world: Any, app: Any) -> None:
    contact = world.contact()
    written = note(world, f"/contacts/{contact}", "hello, how are you")
    [entry] = entries_for(app, "journal.write")
    assert entry["actor"] == code_for("dana")
    shown = json.dumps(entry)
    assert "dana" not in shown and "hello, how are you" not in shown
    assert entry["object"] == {"type": "journal_note", "id": written["id"]}
    assert entry["operation"] == world.operation_id
    # The text is recorded by its commitment: neither the text nor its plain SHA-256 is in the entry.
    assert text_sha256("hello, how are you") not in shown
    with app.app_context(), session_scope(app) as session:
        row = session.get(JournalNote, written["id"])
        assert row is not None and row.body_salt is not None
        commitment = hmac.new(bytes.fromhex(row.body_salt), b"hello, how are you", hashlib.sha256).hexdigest()
    assert entry["details"] == {"contact": contact, "body_commitment": commitment}
    with app.app_context(), session_scope(app) as session:
        row = session.get(JournalNote, written["id"])
        assert entry["evidence"]["row_sha256"] == note_row_sha256(columns(row))


def test_notes_are_append_only(world: Any, app: Any) -> None:
    contact = world.contact()
    note(world, f"/contacts/{contact}")
    with pytest.raises(DBAPIError):
        run_sql(app, "UPDATE journal_note SET body = 'something else'")
    with pytest.raises(DBAPIError):
        run_sql(app, "DELETE FROM journal_note")
    with app.app_context(), session_scope(app) as session:
        assert [row.body for row in session.exec(select(JournalNote)).all()] == ["hello, how are you"]


def test_verify_passes_and_fails_for_a_note_altered_behind_the_triggers(
    world: Any, app: Any, runner: Any
) -> None:
    contact = world.contact()
    note(world, f"/operations/{world.operation_id}", "plan for tomorrow", username="sol")
    written = note(world, f"/contacts/{contact}")
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    altered = "UPDATE journal_note SET body = 'something else' WHERE id = :id"
    tamper(app, "journal_note", altered, id=written["id"])
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"journal note {written['id']}: the text differs from its recorded hash" in result.output
    # Its stored SHA-256 changed with it: its commitment still names the text that was written.
    tamper(app, "journal_note", "UPDATE journal_note SET body_sha256 = :sha WHERE id = :id",
           sha=text_sha256("something else"), id=written["id"])
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"journal note {written['id']}: the text differs from its recorded commitment" in result.output
    # A new key and commitment for the new text: the row no longer matches its entry.
    salt = "ab" * 32
    forged = hmac.new(bytes.fromhex(salt), b"something else", hashlib.sha256).hexdigest()
    rekeyed = "UPDATE journal_note SET body_salt = :salt, body_commitment = :c WHERE id = :id"
    tamper(app, "journal_note", rekeyed, salt=salt, c=forged, id=written["id"])
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"journal note {written['id']}: the stored row differs from the recorded one" in result.output


def test_a_note_written_straight_into_the_database_fails_verification(
    world: Any, app: Any, runner: Any
) -> None:
    contact = world.contact()
    note(world, f"/contacts/{contact}")
    with app.app_context(), session_scope(app) as session:
        planted = JournalNote(operation_id=world.operation_id, contact_id=contact, body="planted",
                              body_sha256=text_sha256("planted"), written_by=actor_for(session, "dana").id,
                              written_at=datetime(2026, 3, 2, 11, 0, tzinfo=UTC))
        session.add(planted)
        session.flush()
        planted_id = planted.id
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"journal_note {planted_id}" in result.output


def test_a_legal_officer_reclassifies_a_note(world: Any) -> None:
    contact = world.contact()
    written = note(world, f"/contacts/{contact}")
    decide(world, "notes", written["id"], "case_file")
    [listed] = world.get(f"/contacts/{contact}/journal").get_json()["items"]
    assert listed["class"] == "case_file"
    decide(world, "notes", written["id"], "journal")
    assert world.get(f"/contacts/{contact}/journal").get_json()["items"][0]["class"] == "journal"


# --- the pages ------------------------------------------------------------------------------------------


def _journal_of(html: str) -> str:
    start = html.index('<section id="journal"')
    return html[start : html.index("</section>", start)]


def test_the_contact_page_shows_the_journal_escaped_and_officers_add_notes(world: Any, auth: Any) -> None:
    contact = world.contact()
    hostile = note(world, f"/contacts/{contact}", HOSTILE)
    auth.login("dana")
    html = world.client.get(f"/contacts/{contact}").get_data(as_text=True)
    panel = _journal_of(html)
    assert "&lt;script&gt;x&lt;/script&gt;" in panel
    assert HOSTILE not in html
    assert f'id="note-{hostile["id"]}"' in panel and "dana" in panel
    assert f'action="/contacts/{contact}/journal"' in panel
    # The journal stands beside the transcript, in the column next to the conversation.
    beside = html[html.index('<aside class="sidebar"'):html.index("</aside>")]
    assert '<section id="journal"' in beside and 'id="transcript"' not in beside

    token = csrf_from(html)
    answer = world.client.post(
        f"/contacts/{contact}/journal", data={"csrf_token": token, "body": "see you later"}
    )
    assert answer.status_code == 302
    page = world.client.get(answer.headers["Location"]).get_data(as_text=True)
    panel = _journal_of(page)
    assert panel.index("see you later") < panel.index("&lt;script&gt;")  # newest first
    assert "Note" in page and "added to the journal" in page

    refused = world.client.post(f"/contacts/{contact}/journal", data={"csrf_token": token, "body": "  "})
    assert refused.status_code == 400
    assert "body must not be empty" in _journal_of(refused.get_data(as_text=True))


def test_legal_officers_read_the_journal_and_reclassify_notes_on_the_page(world: Any, auth: Any) -> None:
    contact = world.contact()
    written = note(world, f"/contacts/{contact}")
    auth.login("lena")
    html = world.client.get(f"/contacts/{contact}").get_data(as_text=True)
    panel = _journal_of(html)
    assert "hello, how are you" in panel
    assert "/journal" not in panel  # no form to add a note
    assert f'action="/notes/{written["id"]}/disclosure"' in panel
    answer = world.client.post(f"/notes/{written['id']}/disclosure", data={
        "csrf_token": csrf_from(html), "disclosure_class": "case_file", "reason": "the court asked for it",
    })
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"#note-{written['id']}")
    panel = _journal_of(world.client.get(f"/contacts/{contact}").get_data(as_text=True))
    assert "case file" in panel
    assert world.client.post(f"/contacts/{contact}/journal", data={
        "csrf_token": csrf_from(html), "body": "hello"}).status_code == 403


def test_the_operation_page_shows_its_journal(world: Any, auth: Any) -> None:
    contact = world.contact()
    note(world, f"/contacts/{contact}", "about the contact")
    auth.login("sol")
    html = world.client.get(f"/operations/{world.operation_id}").get_data(as_text=True)
    panel = _journal_of(html)
    assert "about the contact" in panel and f'href="/contacts/{contact}#note-' in panel
    answer = world.client.post(f"/operations/{world.operation_id}/journal", data={
        "csrf_token": csrf_from(html), "body": "plan for tomorrow"})
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/operations/{world.operation_id}#note-2")
    panel = _journal_of(world.client.get(f"/operations/{world.operation_id}").get_data(as_text=True))
    assert panel.index("plan for tomorrow") < panel.index("about the contact")
    [entry, _first] = entries_for(world.app, "journal.write")[::-1]
    assert entry["actor"] == code_for("sol") and entry["details"]["contact"] is None


def test_a_legal_officer_reclassifies_an_operation_note_on_the_operations_page(world: Any, auth: Any) -> None:
    written = note(world, f"/operations/{world.operation_id}", "plan for tomorrow", username="sol")
    auth.login("lena")
    html = world.client.get(f"/operations/{world.operation_id}").get_data(as_text=True)
    assert f'action="/operations/{world.operation_id}/journal"' not in html  # legal officers do not write
    path = f"/notes/{written['id']}/disclosure"
    refused = world.client.post(path, data={
        "csrf_token": csrf_from(html), "disclosure_class": "withheld", "reason": "a third party is named"})
    assert refused.status_code == 400
    panel = _journal_of(refused.get_data(as_text=True))
    assert "ground: withholding needs its legal ground" in panel and "a third party is named" in panel
    answer = world.client.post(path, data={
        "csrf_token": csrf_from(html), "disclosure_class": "withheld", "ground": "art. 149b Sv",
        "decision_reference": "RC-2026-17", "reason": "a third party is named"})
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/operations/{world.operation_id}#note-{written['id']}")
    panel = _journal_of(world.client.get(f"/operations/{world.operation_id}").get_data(as_text=True))
    assert "withheld (art. 149b Sv, ref RC-2026-17)" in panel
