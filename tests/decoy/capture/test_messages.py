"""Messages captured in a session: the row names the session and the officer at the keyboard, both are in
its row hash, and only an open session of the contact's own profile is accepted."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import select, text

from decoy.cli import main
from decoy.db import get_engine, session_scope
from decoy.evidence.fingerprint import message_fingerprint
from decoy.models import Attachment, Message
from tests.decoy.evidence.support import entries_for
from tests.factories import actor_for
from tests.support import without_triggers

from .support import end, index_of, refused_field, start

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 20


def test_a_message_in_a_session_names_it_and_its_operator(world: Any, runner: Any) -> None:
    session_id = start(world)["id"]
    contact_id = world.contact()
    # sam types what dana, at the keyboard, sees: recorded by sam, operated by dana.
    recorded = world.message(contact_id, username="sam", capture_session=session_id)
    read = world.get(f"/messages/{recorded['id']}").get_json()
    assert (read["recorded_by"], read["operated_by"], read["capture_session"]) == ("sam", "dana", session_id)
    listed = world.get(f"/contacts/{contact_id}/messages").get_json()["items"]
    assert (listed[0]["operated_by"], listed[0]["capture_session"]) == ("dana", session_id)
    outside = world.message(contact_id, body="typed outside any session")
    read = world.get(f"/messages/{outside['id']}").get_json()
    assert (read["operated_by"], read["capture_session"]) == (None, None)

    entries = {entry["object"]["id"]: entry for entry in entries_for(world.app, "message.create")}
    assert entries[recorded["id"]]["details"]["capture_session"] == session_id
    assert "capture_session" not in entries[outside["id"]]["details"]  # an entry as before sessions
    with world.app.app_context(), session_scope(world.app) as session:
        row = session.exec(select(Message).where(Message.id == recorded["id"])).one()[0]
        assert (row.capture_session_id, row.operated_by) == (session_id, actor_for(session, "dana").id)
        assert row.recorded_by == actor_for(session, "sam").id
        stored = {column.key: getattr(row, column.key) for column in Message.__table__.columns}
        without = {**stored, "capture_session_id": None, "operated_by": None}
    # The session and the operator are hashed: the row hash is not the one of the same row without them.
    evidence = entries[recorded["id"]]["evidence"]
    assert evidence["row_sha256"] == message_fingerprint(stored, [])
    assert evidence["row_sha256"] != message_fingerprint(without, [])
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE message SET operated_by = :dirk WHERE id = :id",
        "UPDATE message SET operated_by = NULL WHERE id = :id",
        "UPDATE message SET capture_session_id = NULL WHERE id = :id",
    ],
)
def test_a_changed_operator_or_session_is_named_by_verify(world: Any, runner: Any, statement: str) -> None:
    session_id = start(world)["id"]
    contact_id = world.contact()
    message_id = world.message(contact_id, capture_session=session_id)["id"]
    world.message(contact_id, body="later, outside", sent_at="2026-03-02T10:05:00+01:00")
    with world.app.app_context(), session_scope(world.app) as session:
        dirk = actor_for(session, "dirk").id
    with world.app.app_context(), get_engine().begin() as connection:
        without_triggers(connection, "message")
        connection.execute(text(statement), {"dirk": dirk, "id": message_id})
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"first bad entry: {index_of(world.app, 'message.create', message_id)};" in result.output
    assert f"message {message_id}: the stored row differs" in result.output


def test_a_message_with_files_in_a_session(world: Any, runner: Any) -> None:
    session_id = start(world, "dirk", tool="capture-cli 1.2")["id"]
    contact_id = world.contact()
    answer = world.post(
        f"/contacts/{contact_id}/messages",
        data={
            "direction": "in",
            "sent_at": "2026-03-02T10:00:00+01:00",
            "body": "see picture",
            "capture_session": str(session_id),
            "attachments": [(io.BytesIO(PNG), "screen.png")],
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.get_json()
    read = world.get(f"/messages/{answer.get_json()['id']}").get_json()
    assert (read["recorded_by"], read["operated_by"], read["capture_session"]) == ("dana", "dirk", session_id)
    assert read["attachments"][0]["media_type"] == "image/png"
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0


def test_only_a_session_of_the_contacts_profile(world: Any) -> None:
    other_profile = world.profile(handle="decoy_two")
    elsewhere = start(world, profile_id=other_profile)["id"]
    contact_id = world.contact()
    for value in (elsewhere, 999_999, 2**31 - 1):
        answer = world.post(
            f"/contacts/{contact_id}/messages",
            json={
                "direction": "in",
                "sent_at": "2026-03-02T10:00:00+01:00",
                "body": "hello",
                "capture_session": value,
            },
        )
        assert refused_field(answer) == "capture_session"
    answer = world.post(
        f"/contacts/{contact_id}/messages",
        json={
            "direction": "in",
            "sent_at": "2026-03-02T10:00:00+01:00",
            "body": "hello",
            "capture_session": "1",
        },
    )
    assert refused_field(answer) == "capture_session"  # an integer, not text
    answer = world.post(
        f"/contacts/{contact_id}/messages",
        data={
            "direction": "in",
            "sent_at": "2026-03-02T10:00:00+01:00",
            "body": "hello",
            "capture_session": str(elsewhere),
            "attachments": [(io.BytesIO(PNG), "screen.png")],
        },
        content_type="multipart/form-data",
    )
    assert refused_field(answer) == "capture_session"
    assert world.get(f"/contacts/{contact_id}/messages").get_json()["items"] == []
    with world.app.app_context(), session_scope(world.app) as session:
        assert session.exec(select(Attachment)).all() == []


def test_an_ended_session_takes_no_more_messages(world: Any) -> None:
    session_id = start(world)["id"]
    contact_id = world.contact()
    world.message(contact_id, capture_session=session_id)
    end(world, session_id)
    answer = world.post(
        f"/contacts/{contact_id}/messages",
        json={
            "direction": "in",
            "sent_at": "2026-03-02T10:01:00+01:00",
            "body": "late",
            "capture_session": session_id,
        },
    )
    assert answer.status_code == 409
    assert answer.get_json()["error"] == {
        "code": "rule_violation",
        "message": f"capture session {session_id} has ended; start a new one",
        "field": "capture_session",
    }
    assert len(world.get(f"/contacts/{contact_id}/messages").get_json()["items"]) == 1
    # Without a session the message is recorded as ever.
    world.message(contact_id, body="late", sent_at="2026-03-02T10:01:00+01:00")


def test_the_operator_not_the_recorder_is_judged_by_officer_not_named(world: Any) -> None:
    """dirk (not named by the order) operates; sam (named) records what dirk typed: the flag is raised."""
    session_id = start(world, "dirk")["id"]
    contact_id = world.contact()
    world.message(contact_id, body="hello, how are you")
    recorded = world.message(
        contact_id,
        body="fine thanks",
        direction="out",
        username="sam",
        sent_at="2026-03-02T10:01:00+01:00",
        capture_session=session_id,
    )
    assert "officer_not_named" in recorded["flags"]
    typed = world.message(
        contact_id, body="see you", direction="out", username="sam", sent_at="2026-03-02T10:02:00+01:00"
    )
    assert "officer_not_named" not in typed["flags"]
