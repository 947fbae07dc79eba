"""Imports through the API: what is added, idempotence, overlapping exports, reconciliation with typed
messages, flags, refusals that store nothing, and `decoy audit verify` over imported evidence."""

from __future__ import annotations

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from decoy.cli import main
from decoy.db import get_engine, session_scope
from decoy.models import ExportReconciliation, Message, MessageImport
from tests.support import without_triggers

from ..evidence.support import audit_entries
from .support import post_import, stored_messages, whatsapp_android, zipped

CHAT = [
    ("02-03-2026 10:00", "Alex", "hello, how are you"),
    ("02-03-2026 10:01", "Sam Decoy", "fine thanks"),
    ("02-03-2026 10:02", "Alex", "see you later"),
]


@pytest.fixture
def contact(world):
    return world.contact()


def _counts(world):
    with world.app.app_context(), session_scope(world.app) as session:
        imports = session.exec(select(func.count()).select_from(MessageImport)).one()
        messages = session.exec(select(func.count()).select_from(Message)).one()
    return imports, messages, len(audit_entries(world.app))


def test_a_whatsapp_export_adds_its_messages_with_their_provenance(world, contact, runner):
    response = post_import(world, contact, whatsapp_android(CHAT))
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert (answer["exported"], answer["added"], answer["duplicates"], answer["system_lines"]) == (4, 4, 0, 1)
    assert answer["assumed_timezone"] == "Europe/Amsterdam"
    assert response.headers["Location"].endswith(f"/imports/{answer['id']}")
    messages = stored_messages(world, contact)
    assert [(m.direction, m.body) for m in messages] == [
        ("system", "Berichten en gesprekken zijn end-to-end versleuteld."),
        ("in", "hello, how are you"),
        ("out", "fine thanks"),
        ("in", "see you later"),
    ]
    assert [m.source for m in messages] == ["line 1", "line 2", "line 3", "line 4"]
    assert {m.import_id for m in messages} == {answer["id"]}
    assert {m.assumed_timezone for m in messages} == {"Europe/Amsterdam"}
    # 10:00 in Amsterdam in March is 09:00 UTC.
    assert messages[1].sent_at.isoformat() == "2026-03-02T09:00:00+00:00"
    actions = [entry["action"] for entry in audit_entries(world.app)]
    assert actions.count("import.create") == 1 and actions.count("import.complete") == 1
    created = [e for e in audit_entries(world.app) if e["action"] == "message.create"]
    assert [e["details"]["source"] for e in created] == ["line 1", "line 2", "line 3", "line 4"]
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    again = world.get(f"/imports/{answer['id']}")
    assert again.status_code == 200 and again.get_json()["added"] == 4


def test_the_same_file_again_adds_nothing(world, contact):
    first = post_import(world, contact, whatsapp_android(CHAT)).get_json()
    before = _counts(world)
    second = post_import(world, contact, whatsapp_android(CHAT))
    assert second.status_code == 200
    assert second.get_json()["id"] == first["id"]
    assert _counts(world) == before


def test_a_longer_export_adds_only_what_is_new_and_respects_multiplicity(world, contact):
    twice = [*CHAT, ("02-03-2026 10:05", "Alex", "ok"), ("02-03-2026 10:05", "Alex", "ok")]
    assert post_import(world, contact, whatsapp_android(twice)).status_code == 201
    three_times = [*twice, ("02-03-2026 10:05", "Alex", "ok"), ("02-03-2026 10:07", "Sam Decoy", "bye")]
    answer = post_import(world, contact, whatsapp_android(three_times)).get_json()
    assert (answer["added"], answer["duplicates"]) == (2, 6)
    bodies = [m.body for m in stored_messages(world, contact)]
    assert bodies.count("ok") == 3 and bodies.count("bye") == 1 and bodies.count("hello, how are you") == 1


def test_typed_messages_are_reconciled_with_the_export(world, contact):
    confirmed = world.message(contact, body="hello,  how are you", sent_at="2026-03-02T10:00:30+01:00")
    differs = world.message(
        contact, body="fine thank you", direction="out", sent_at="2026-03-02T10:01:00+01:00"
    )
    missing = world.message(
        contact, body="are you there", direction="out", sent_at="2026-03-02T10:01:40+01:00"
    )
    outside = world.message(contact, body="much later", sent_at="2026-03-05T10:00:00+01:00")
    answer = post_import(world, contact, whatsapp_android(CHAT)).get_json()
    assert answer["added"] == 3  # the system line, "fine thanks" and "see you later"
    assert answer["confirmed"] == 1 and answer["duplicates"] == 1
    kinds = {d["message_id"]: d["kind"] for d in answer["differences"]}
    assert kinds == {differs["id"]: "differs_from_export", missing["id"]: "missing_from_export"}
    export_id = next(
        d["export_message_id"] for d in answer["differences"] if d["message_id"] == differs["id"]
    )
    exported = next(m for m in stored_messages(world, contact) if m.id == export_id)
    assert exported.body == "fine thanks"
    with world.app.app_context(), session_scope(world.app) as session:
        outcomes = {r.message_id: r.outcome for r in session.exec(select(ExportReconciliation))}
    assert outcomes == {
        confirmed["id"]: "confirmed",
        differs["id"]: "differs_from_export",
        missing["id"]: "missing_from_export",
    }
    assert outside["id"] not in outcomes
    listed = {m["id"]: m["flags"] for m in world.get(f"/contacts/{contact}/messages").get_json()["items"]}
    assert "differs_from_export" in listed[differs["id"]]
    assert "missing_from_export" in listed[missing["id"]]
    assert "missing_from_export" not in listed[confirmed["id"]]


def test_imported_messages_carry_the_flags_of_any_message(world, contact):
    decoy_first = [("02-03-2026 10:00", "Sam Decoy", "hello"), *CHAT]
    post_import(world, contact, whatsapp_android(decoy_first))
    flags = {m.body: m.flags for m in stored_messages(world, contact)}
    assert "decoy_initiated" in flags["hello"]
    assert "decoy_initiated" not in flags["fine thanks"]
    late = [
        ("02-05-2026 10:00", "Alex", "hello again"),
        ("02-05-2026 10:01", "Sam Decoy", "hi"),
    ]  # order ran out
    post_import(world, contact, whatsapp_android(late), filename="later.txt")
    assert (
        "outside_authorization" in {m.body: m.flags for m in stored_messages(world, contact)}["hello again"]
    )


def test_a_dry_run_answers_and_stores_nothing(world, contact):
    before = _counts(world)
    response = post_import(world, contact, whatsapp_android(CHAT), dry_run="true")
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["id"] is None and answer["dry_run"] is True and answer["added"] == 4
    assert _counts(world) == before


@pytest.mark.parametrize(
    ("content", "fields", "field"),
    [
        (whatsapp_android(CHAT), {"decoy_name": "Nobody"}, "decoy_name"),
        (whatsapp_android([("02-03-2026 10:00", "Alex", "hello")]), {}, "decoy_name"),
        (whatsapp_android(CHAT), {"timezone": "Mars/Olympus"}, "timezone"),
        (b'{"name": "Alex", "type": "personal_chat", "messages": [', {}, "file"),
        (b'{"name": "Alex", "type": "personal_chat", "messages": [', {"format": "telegram"}, "file"),
        (zipped({"../evil.txt": b"x"}), {}, "file"),
        (zipped({"/etc/passwd": b"x"}), {}, "file"),
        (zipped({"_chat.txt": b"\n" * 10_000_000}), {}, "file"),
        (b"\xff\xfe not utf-8 \xff", {}, "file"),
        (b"hello, how are you\n", {"format": "whatsapp"}, "file"),
        (
            b'{"id": "1", "sent_at": "2026-03-02T10:00:00+01:00", "from": "Sam Decoy", "text": "\\u0000"}\n',
            {"format": "decoy"},
            "file",
        ),
        (
            b'{"id": "1", "sent_at": "2026-03-02T10:00:00+01:00", "from": "Sam Decoy", "text": "\\ud800"}\n',
            {"format": "decoy"},
            "file",
        ),
    ],
    ids=[
        "unknown-name",
        "decoy-silent",
        "zone",
        "json-as-whatsapp",
        "truncated-json",
        "dotdot",
        "absolute",
        "bomb",
        "encoding",
        "not-an-export",
        "nul",
        "surrogate",
    ],
)
def test_a_refused_file_is_a_400_naming_the_field_and_stores_nothing(world, contact, content, fields, field):
    before = _counts(world)
    response = post_import(world, contact, content, **fields)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["field"] == field
    assert _counts(world) == before


def test_an_import_needs_a_recorder_of_the_operation(world, contact):
    assert post_import(world, contact, whatsapp_android(CHAT), username="nina").status_code == 404
    assert post_import(world, contact, whatsapp_android(CHAT), username="lena").status_code in (403, 404)
    assert post_import(world, 999_999, whatsapp_android(CHAT)).status_code == 404


def test_media_in_a_zip_become_attachments_and_the_original_file_is_kept(world, contact, runner):
    chat = whatsapp_android(
        [*CHAT, ("02-03-2026 10:03", "Alex", "IMG-20260302-WA0001.jpg (bestand bijgevoegd)")]
    )
    archive = zipped({"WhatsApp-chat met Alex.txt": chat, "IMG-20260302-WA0001.jpg": b"\xff\xd8\xff image"})
    answer = post_import(world, contact, archive, filename="WhatsApp-chat met Alex.zip").get_json()
    assert answer["added"] == 5
    listed = world.get(f"/contacts/{contact}/messages").get_json()["items"]
    with_file = [m for m in listed if m["attachments"]]
    assert len(with_file) == 1 and with_file[0]["attachments"][0]["size"] == len(b"\xff\xd8\xff image")
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0


def test_verify_names_an_altered_imported_message(world, contact, runner):
    post_import(world, contact, whatsapp_android(CHAT))
    message = stored_messages(world, contact)[1]
    with world.app.app_context(), get_engine().begin() as connection:
        without_triggers(connection, "message")
        connection.execute(text("UPDATE message SET source = 'line 9' WHERE id = :id"), {"id": message.id})
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"message {message.id}" in result.output


def test_the_cli_imports_with_a_progress_bar(world, contact, runner, tmp_path):
    export = tmp_path / "chat.txt"
    export.write_bytes(whatsapp_android(CHAT))
    arguments = ["import", str(contact), str(export), "--format", "whatsapp", "--decoy-name", "Sam Decoy"]
    result = runner.invoke(main, [*arguments, "--as", "dana"])
    assert result.exit_code == 0, result.output
    assert '"added": 4' in result.output
    assert runner.invoke(main, arguments).exit_code == 0  # the same file again: nothing to add
    assert len(stored_messages(world, contact)) == 4
    other = tmp_path / "other.txt"
    other.write_bytes(whatsapp_android([*CHAT, ("02-03-2026 10:09", "Alex", "bye")]))
    refused = runner.invoke(
        main, ["import", str(contact), str(other), "--format", "whatsapp", "--decoy-name", "Nobody"]
    )
    assert refused.exit_code != 0 and "decoy_name" in refused.output


def test_an_interrupted_import_is_finished_by_the_same_file(world, contact, monkeypatch):
    from decoy.imports import matching, writing

    monkeypatch.setattr(matching, "CHUNK", 2)
    chat = [
        (f"02-03-2026 10:{minute:02d}", "Alex" if minute % 2 else "Sam Decoy", f"line {minute}")
        for minute in range(10)
    ]
    original = writing.ImportWriter.messages
    calls = {"n": 0}

    def failing(self, items):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("the server stopped")
        return original(self, items)

    monkeypatch.setattr(writing.ImportWriter, "messages", failing)
    assert post_import(world, contact, whatsapp_android(chat)).status_code == 500
    assert 0 < len(stored_messages(world, contact)) < 11
    monkeypatch.setattr(writing.ImportWriter, "messages", original)
    answer = post_import(world, contact, whatsapp_android(chat))
    assert answer.status_code == 201, answer.get_json()
    assert (answer.get_json()["added"], answer.get_json()["duplicates"]) == (11, 0)
    assert len(stored_messages(world, contact)) == 11
    assert sorted(m.source for m in stored_messages(world, contact)) == sorted(
        f"line {n}" for n in range(1, 12)
    )
