"""Disposal: two legal officers (one requests with the reason and the decision's reference, another
approves), refused under a legal hold; the content goes (texts emptied, files deleted from both stores, a
later backup holds none of it) while tombstones and every audit entry stay; the API answers a disposed
message by its disposal only; `decoy audit verify` says "disposed under decision N" and still names any
other missing content as tampering; the database still refuses every other UPDATE."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import select

from decoy import blobstore
from decoy.backup.databases import PG_DUMP_FILE, pg_tool
from decoy.cli import main
from decoy.db import session_scope
from decoy.evidence.fingerprint import columns, message_fingerprint, text_sha256
from decoy.models import Attachment, EvidenceBlob, JournalNote, Message
from tests.decoy.disclosure.classes_support import tamper
from tests.decoy.evidence.support import entries_for
from tests.support import code_for

TEXT = "hello, how are you 8841"
NEIGHBOUR_TEXT = "fine, thanks 5512"
FILE = b"\x89PNG\r\n\x1a\n" + b"a placeholder picture 3319" * 30
SHARED = b"\x89PNG\r\n\x1a\n" + b"a picture both contacts sent 7720" * 30
REFERENCE = "OvJ-VN-2026-0042"


def _readable(path: Path) -> bytes:
    """A backup file's bytes; a PostgreSQL dump (compressed) as the SQL it restores."""
    if path.name != PG_DUMP_FILE:
        return path.read_bytes()
    done = subprocess.run([pg_tool("pg_restore"), "--file=-", str(path)], capture_output=True, check=True)
    return done.stdout


@pytest.fixture
def lars(world: Any, factory: Any) -> str:
    """A second legal officer."""
    factory.user("lars", "legal")
    world.tokens["lars"] = factory.token("lars")
    return "lars"


def _message(world: Any, contact: int, body: str, files: list[tuple[bytes, str]] | None = None) -> int:
    data: dict[str, Any] = {"direction": "in", "sent_at": "2026-03-02T10:00:00+01:00", "body": body}
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    answer = world.post(f"/contacts/{contact}/messages", data=data, content_type="multipart/form-data")
    assert answer.status_code == 201, answer.get_json()
    return int(answer.get_json()["id"])


def _request(world: Any, contact: int, username: str = "lena") -> Any:
    return world.post(f"/contacts/{contact}/disposals", username,
                      json={"reason": "not a suspect: the data must go", "decision_reference": REFERENCE})


def _world_with_content(world: Any) -> dict[str, Any]:
    contact = world.contact(counterpart="by_stander_4")
    neighbour = world.contact(counterpart="next_door_6")
    message = _message(world, contact, TEXT, [(FILE, "picture.png"), (SHARED, "shared.png")])
    kept = _message(world, neighbour, NEIGHBOUR_TEXT, [(SHARED, "shared.png")])
    note = world.post(f"/contacts/{contact}/journal", "dana", json={"body": "journal words 6621"}).get_json()
    return {"contact": contact, "neighbour": neighbour, "message": message, "kept": kept, "note": note["id"]}


def test_two_legal_officers_dispose_and_only_the_content_goes(world: Any, lars: str, runner: Any) -> None:
    made = _world_with_content(world)
    assert _request(world, made["contact"], "dana").status_code == 403
    requested = _request(world, made["contact"])
    assert requested.status_code == 201, requested.get_json()
    body = requested.get_json()
    assert (body["status"], body["requested_by"]) == ("pending", code_for("lena"))
    again = _request(world, made["contact"])
    assert again.status_code == 409 and again.get_json()["error"]["field"] == "contact"
    same = world.post(f"/disposals/{body['id']}/approve", "lena")
    assert same.status_code == 409 and same.get_json()["error"]["field"] == "approved_by"
    assert world.get(f"/messages/{made['message']}").get_json()["body"] == TEXT  # nothing removed yet

    approved = world.post(f"/disposals/{body['id']}/approve", lars)
    assert approved.status_code == 200, approved.get_json()
    done = approved.get_json()
    assert done["status"] == "done" and done["approved_by"] == code_for("lars")
    assert done["removed"] == {"message": 1, "note": 1, "attachment": 2, "redaction": 0, "import": 0}
    assert world.post(f"/disposals/{body['id']}/approve", lars).status_code == 409

    answer = world.get(f"/messages/{made['message']}").get_json()
    assert set(answer) == {"id", "disposed"} and answer["disposed"]["decision_reference"] == REFERENCE
    listed = world.get(f"/contacts/{made['contact']}/messages").get_json()["items"]
    assert listed == [answer]
    # The neighbour keeps everything, the file both sent included.
    assert world.get(f"/messages/{made['kept']}").get_json()["body"] == NEIGHBOUR_TEXT
    with world.app.app_context(), session_scope(world.app) as session:
        bodies = dict(session.exec(select(Message.id, Message.body)).all())
        files = {a.filename: a.sha256 for a in session.exec(select(Attachment)).all()}
    assert bodies[made["message"]] == "" and bodies[made["kept"]] == NEIGHBOUR_TEXT
    with world.app.app_context():
        assert not blobstore.exists(files["picture.png"])
        assert blobstore.exists(files["shared.png"])
    entries = [e["action"] for e in entries_for(world.app, "disposal.request") + entries_for(
        world.app, "disposal.approve")]
    assert entries == ["disposal.request", "disposal.approve"]
    assert len(entries_for(world.app, "message.create")) == 2  # every audit entry stays

    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"content disposed under decision {REFERENCE}" in result.output


def test_a_legal_hold_stops_the_request_and_the_approval(world: Any, lars: str) -> None:
    made = _world_with_content(world)
    hold = world.post(f"/contacts/{made['contact']}/legal-holds", "lena",
                      json={"reason": "appeal"}).get_json()
    refused = _request(world, made["contact"])
    assert refused.status_code == 409 and f"legal hold {hold['id']}" in refused.get_json()["error"]["message"]
    world.post(f"/legal-holds/{hold['id']}/lift", "lena", json={"reason": "appeal decided"})
    disposal = _request(world, made["contact"]).get_json()["id"]
    operation_hold = world.post(f"/operations/{world.operation_id}/legal-holds", "lena",
                                json={"reason": "the prosecutor asked"}).get_json()
    refused = world.post(f"/disposals/{disposal}/approve", lars)
    assert refused.status_code == 409 and f"legal hold {operation_hold['id']}" in refused.get_json()["error"][
        "message"]
    assert world.get(f"/messages/{made['message']}").get_json()["body"] == TEXT


def test_verification_names_content_missing_without_a_disposal(world: Any, lars: str, runner: Any) -> None:
    made = _world_with_content(world)
    disposal = _request(world, made["contact"]).get_json()["id"]
    world.post(f"/disposals/{disposal}/approve", lars)
    tamper(world.app, "message", "UPDATE message SET body = '' WHERE id = :id", id=made["kept"])
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code != 0
    assert f"message {made['kept']}: the text is missing and no disposal covers it" in result.output


def test_the_database_refuses_every_other_update(world: Any, lars: str) -> None:
    made = _world_with_content(world)
    statements = [
        ("UPDATE message SET body = '' WHERE id = :id", made["message"]),  # no approved disposal yet
        ("UPDATE message SET body_salt = '' WHERE id = :id", made["message"]),
        ("UPDATE message SET body_sha256 = '' WHERE id = :id", made["message"]),
        ("UPDATE journal_note SET body = '' WHERE id = :id", made["note"]),
        ("UPDATE journal_note SET body_salt = '' WHERE id = :id", made["note"]),
        ("DELETE FROM message WHERE id = :id", made["message"]),
    ]
    for statement, item in statements:
        with world.app.app_context(), session_scope(world.app) as session, pytest.raises(DatabaseError):
            session.connection().execute(text(statement), {"id": item})
    disposal = _request(world, made["contact"]).get_json()["id"]
    world.post(f"/disposals/{disposal}/approve", lars)
    for statement in (
        "UPDATE message SET body = 'put back' WHERE id = :id",  # only an empty text is let through
        "UPDATE message SET direction = 'out' WHERE id = :id",
        "UPDATE message SET body = '', body_sha256 = 'x' WHERE id = :id",
        "UPDATE message SET body_salt = 'x' WHERE id = :id",  # the key is emptied, never replaced
        "UPDATE message SET body_commitment = '' WHERE id = :id",  # the commitment stays
        "DELETE FROM message WHERE id = :id",
    ):
        with world.app.app_context(), session_scope(world.app) as session, pytest.raises(DatabaseError):
            session.connection().execute(text(statement), {"id": made["message"]})
    with world.app.app_context(), session_scope(world.app) as session, pytest.raises(DatabaseError):
        session.connection().execute(text("UPDATE message SET body = '' WHERE id = :id"),
                                     {"id": made["kept"]})


def test_the_database_store_loses_the_file_and_a_later_backup_holds_none_of_it(
    app_factory: Any, world: Any, lars: str, runner: Any, tmp_path: Path
) -> None:
    world.app = app_factory(ATTACHMENT_STORE="database")
    world.client = world.app.test_client()
    made = _world_with_content(world)
    with world.app.app_context(), session_scope(world.app) as session:
        stored = set(session.exec(select(EvidenceBlob.sha256)).all())
    assert len(stored) == 2
    disposal = _request(world, made["contact"]).get_json()["id"]
    assert world.post(f"/disposals/{disposal}/approve", lars).status_code == 200
    with world.app.app_context(), session_scope(world.app) as session:
        left = set(session.exec(select(EvidenceBlob.sha256)).all())
    assert len(left) == 1  # the shared picture stays: the neighbour still holds it
    target = tmp_path / "backup"
    result = runner.invoke(main, ["backup", str(target)])
    assert result.exit_code == 0, result.output
    everything = b"".join(_readable(path) for path in target.rglob("*") if path.is_file())
    assert TEXT.encode() not in everything and b"journal words 6621" not in everything
    # Nor the texts' SHA-256, by which a short text could be guessed.
    for gone in (TEXT, "journal words 6621"):
        assert text_sha256(gone).encode() not in everything
    assert FILE not in everything and NEIGHBOUR_TEXT.encode() in everything


def test_a_bundle_lists_what_was_disposed_of_and_verifies(
    world: Any, lars: str, runner: Any, tmp_path: Path
) -> None:
    import json
    import zipfile

    from audit import bundle as audit_bundle
    from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS

    made = _world_with_content(world)
    world.post(f"/notes/{made['note']}/disclosure", "lena",
               json={"class": "case_file", "reason": "disclosed"})
    disposal = _request(world, made["contact"]).get_json()["id"]
    world.post(f"/disposals/{disposal}/approve", lars)
    path = tmp_path / "bundle.zip"
    result = runner.invoke(main, ["export", str(world.operation_id), "-o", str(path), "--as", "lena"])
    assert result.exit_code == 0, result.output
    report = audit_bundle.verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS)
    assert report.ok, report.reason
    with zipfile.ZipFile(path) as bundle:
        everything = b"".join(bundle.read(name) for name in bundle.namelist())
        listed = json.loads(bundle.read("withheld.json"))
    assert TEXT.encode() not in everything and FILE not in everything
    assert NEIGHBOUR_TEXT.encode() in everything
    disposed = {(item["kind"], item["id"]): item for item in listed if item["class"] == "disposed"}
    assert set(disposed) == {("message", made["message"]), ("note", made["note"])}
    assert {item["decision_reference"] for item in disposed.values()} == {REFERENCE}


def test_the_pages_request_confirm_and_show_a_disposal(
    world: Any, lars: str, factory: Any, clock: Any
) -> None:
    from tests.support import AuthActions, csrf_from

    made = _world_with_content(world)
    auth = AuthActions(world.client, factory, clock)
    auth.login("lena")
    page = world.client.get(f"/contacts/{made['contact']}").get_data(as_text=True)
    assert "Request the disposal of this contact" in page
    answer = world.client.post(f"/contacts/{made['contact']}/disposals", data={
        "disposal-csrf_token": csrf_from(page), "disposal-reason": "not a suspect",
        "disposal-decision_reference": REFERENCE})
    assert answer.status_code == 302
    page = world.client.get(f"/contacts/{made['contact']}").get_data(as_text=True)
    assert "awaiting approval" in page and "Review and approve" not in page  # not by the requester
    auth.logout()
    auth.login(lars)
    page = world.client.get(f"/contacts/{made['contact']}").get_data(as_text=True)
    assert "Review and approve" in page
    disposal_id = int(page.split("/disposals/")[1].split("/approve")[0])
    confirm = world.client.get(f"/disposals/{disposal_id}/approve").get_data(as_text=True)
    assert "This cannot be undone" in confirm and "the text of 1 message" in confirm
    assert TEXT in world.client.get(f"/contacts/{made['contact']}").get_data(as_text=True)
    answer = world.client.post(f"/disposals/{disposal_id}/approve", data={"csrf_token": csrf_from(confirm)})
    assert answer.status_code == 302
    page = world.client.get(f"/contacts/{made['contact']}").get_data(as_text=True)
    assert TEXT not in page and f"Content disposed of under decision {REFERENCE}" in page


def test_the_sweep_deletes_a_disposed_file_an_interrupted_approval_left(
    world: Any, lars: str, runner: Any
) -> None:
    made = _world_with_content(world)
    with world.app.app_context(), session_scope(world.app) as session:
        sha256 = session.exec(select(Attachment.sha256).where(Attachment.filename == "picture.png")).one()
    path = blobstore.path_for(sha256, world.app)
    kept = path.read_bytes()
    disposal = _request(world, made["contact"]).get_json()["id"]
    world.post(f"/disposals/{disposal}/approve", lars)
    assert not path.exists()
    path.write_bytes(kept)  # as if the process had died between the commit and the deletion
    result = runner.invoke(main, ["attachments", "sweep"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 disposed files deleted") and not path.exists()
    with world.app.app_context():
        assert blobstore.exists(_shared_sha256(world))  # the file the neighbour holds stays
    assert runner.invoke(main, ["attachments", "sweep"]).output.startswith("0 disposed files deleted")


def _shared_sha256(world: Any) -> str:
    """The SHA-256 of the picture both contacts sent."""
    with world.app.app_context(), session_scope(world.app) as session:
        return str(session.exec(select(Attachment.sha256).where(Attachment.filename == "shared.png")).first())


def test_what_a_disposal_leaves_reveals_nothing_of_the_text(world: Any, lars: str) -> None:
    """The row keeps only the commitment, whose key went with the text: neither the row, its tombstone nor
    any audit entry holds the text's SHA-256 (a short text could be found from it by guessing)."""
    made = _world_with_content(world)
    disposal = _request(world, made["contact"]).get_json()["id"]
    assert world.post(f"/disposals/{disposal}/approve", lars).status_code == 200
    with world.app.app_context(), session_scope(world.app) as session:
        message = session.get(Message, made["message"])
        note = session.get(JournalNote, made["note"])
        assert message is not None and note is not None
        for row in (message, note):
            assert (row.body, row.body_salt, row.body_sha256) == ("", "", "")
            assert row.body_commitment is not None and len(row.body_commitment) == 64
        query = text("SELECT item_kind, item_id, sha256 FROM disposal_tombstone WHERE disposal_id = :d")
        stones = session.connection().execute(query, {"d": disposal}).all()
        dumped = " ".join(
            str(tuple(found))
            for table in ("message", "journal_note", "disposal_tombstone", "audit_entry")
            for found in session.connection().execute(text(f"SELECT * FROM {table}"))  # noqa: S608 - fixed names
        )
    assert ("message", made["message"], message.body_commitment) in [tuple(stone) for stone in stones]
    assert ("note", made["note"], note.body_commitment) in [tuple(stone) for stone in stones]
    entries = [e for e in entries_for(world.app, "message.create") if e["object"]["id"] == made["message"]]
    assert entries[0]["evidence"]["body_commitment"] == message.body_commitment
    for gone in (TEXT, "journal words 6621"):
        assert text_sha256(gone) not in dumped and text_sha256(gone) not in str(entries)


LEGACY_TEXT = "hello, how are you 1207"


def _legacy_message(world: Any, contact: int) -> int:
    """A message as Decoy recorded it before text commitments: no key, no commitment, and an entry that
    carries the text's SHA-256."""
    from decoy import audit_bridge, clock
    from tests.factories import actor_for

    with world.app.app_context(), session_scope(world.app) as session:
        dana = actor_for(session, "dana")
        row = Message(operation_id=world.operation_id, contact_id=contact, direction="in",
                      sent_at=clock.now(), sent_offset_minutes=0, recorded_at=clock.now(),
                      recorded_by=dana.id, body=LEGACY_TEXT, body_sha256=text_sha256(LEGACY_TEXT), flags=[])
        session.add(row)
        session.flush()
        audit_bridge.record(
            session, actor=code_for("dana"), action="message.create", object_type="message",
            object_id=row.id, operation_id=world.operation_id,
            evidence={"body_sha256": row.body_sha256, "attachments": [],
                      "row_sha256": message_fingerprint(columns(row), [])},
            details={"contact": contact, "direction": "in", "flags": [], "corrects": None},
        )
        session.commit()
        return int(row.id)  # type: ignore[arg-type]


def test_a_message_recorded_before_commitments_verifies_and_is_disposed_by_its_sha256(
    world: Any, lars: str, runner: Any
) -> None:
    made = _world_with_content(world)
    legacy = _legacy_message(world, made["contact"])
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    disposal = _request(world, made["contact"]).get_json()["id"]
    assert world.post(f"/disposals/{disposal}/approve", lars).status_code == 200
    with world.app.app_context(), session_scope(world.app) as session:
        row = session.get(Message, legacy)
        assert row is not None
        # Its entry carries the SHA-256 already: the row keeps it, and its tombstone names it.
        assert (row.body, row.body_sha256, row.body_salt) == ("", text_sha256(LEGACY_TEXT), None)
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"content disposed under decision {REFERENCE}" in result.output


def test_an_import_cannot_bring_back_what_a_disposal_removed(world: Any, lars: str) -> None:
    from tests.decoy.imports.support import post_import, whatsapp_android

    made = _world_with_content(world)
    export = whatsapp_android([("02-03-2026 10:00", "Alex", TEXT), ("02-03-2026 10:01", "Sam Decoy", "hi")])
    disposal = _request(world, made["contact"]).get_json()["id"]
    assert world.post(f"/disposals/{disposal}/approve", lars).status_code == 200
    refused = post_import(world, made["contact"], export)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["field"] == "contact_id" and REFERENCE in error["message"]
    # Another contact's import is not affected.
    assert post_import(world, made["neighbour"], export).status_code == 201


def test_a_disposed_text_whose_key_was_put_back_is_named(world: Any, lars: str, runner: Any) -> None:
    """A disposal removes the key and the SHA-256 with the text; either left behind lets a short text be
    guessed, and the verifier names it."""
    made = _world_with_content(world)
    disposal = _request(world, made["contact"]).get_json()["id"]
    assert world.post(f"/disposals/{disposal}/approve", lars).status_code == 200
    tamper(world.app, "message", "UPDATE message SET body_sha256 = :sha WHERE id = :id",
           sha=text_sha256(TEXT), id=made["message"])
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    named = f"message {made['message']}: the text was disposed of but its key or SHA-256 remains"
    assert named in result.output
