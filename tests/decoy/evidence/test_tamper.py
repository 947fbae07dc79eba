"""Append-only evidence: the database refuses changes, and `decoy audit verify` names what was altered."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import text

from decoy import blobstore
from decoy.cli import main
from decoy.db import get_engine
from tests.support import without_triggers

from .support import audit_entries

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 100


@pytest.fixture
def recorded(world):
    """A contact with a message and a screenshot."""
    contact_id = world.contact()
    response = world.post(
        f"/contacts/{contact_id}/messages",
        data={
            "direction": "in",
            "sent_at": "2026-03-02T10:00:00+01:00",
            "body": "hello, how are you",
            "attachments": [(io.BytesIO(PNG), "screen.png")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    answer = response.get_json()
    world.message(contact_id, body="a later message", sent_at="2026-03-02T10:05:00+01:00")
    return {"contact": contact_id, "message": answer["id"], "sha256": answer["attachments"][0]["sha256"]}


def _index_of(app, action, object_id):
    return next(
        e["index"] for e in audit_entries(app) if e["action"] == action and e["object"]["id"] == object_id
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE contact SET counterpart = 'someone_else'",
        "DELETE FROM contact",
        "UPDATE message SET body = 'altered'",
        "UPDATE message SET flags = '[]'",
        "DELETE FROM message",
        "UPDATE attachment SET sha256 = 'x'",
        "DELETE FROM attachment",
    ],
)
def test_the_database_itself_refuses_changes_to_evidence(world, recorded, statement):
    with world.app.app_context():
        with pytest.raises(Exception, match="append-only"):  # noqa: B017 - driver-specific error types
            with get_engine().begin() as connection:
                connection.execute(text(statement))


def test_an_intact_log_with_evidence_verifies(world, recorded, runner):
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output



@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE message SET body = 'hello, how are you?' WHERE id = :id",
        "UPDATE message SET direction = 'out' WHERE id = :id",
        "UPDATE message SET flags = '[\"decoy_initiated\"]' WHERE id = :id",
    ],
)
def test_a_tampered_message_row_is_named_by_verify(world, recorded, runner, statement):
    with world.app.app_context(), get_engine().begin() as connection:
        without_triggers(connection, "message")
        connection.execute(text(statement), {"id": recorded["message"]})
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    index = _index_of(world.app, "message.create", recorded["message"])
    assert f"first bad entry: {index};" in result.output
    assert f"message {recorded['message']}" in result.output


def test_a_deleted_message_is_named_by_verify(world, recorded, runner):
    with world.app.app_context(), get_engine().begin() as connection:
        for table in ("attachment", "message"):
            without_triggers(connection, table)
        connection.execute(text("DELETE FROM attachment WHERE message_id = :id"), {"id": recorded["message"]})
        connection.execute(text("DELETE FROM message WHERE id = :id"), {"id": recorded["message"]})
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    index = _index_of(world.app, "message.create", recorded["message"])
    assert f"first bad entry: {index};" in result.output
    assert "is missing" in result.output


def test_a_tampered_contact_row_is_named_by_verify(world, recorded, runner):
    with world.app.app_context(), get_engine().begin() as connection:
        without_triggers(connection, "contact")
        connection.execute(text("UPDATE contact SET counterpart = 'someone_else'"))
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"first bad entry: {_index_of(world.app, 'contact.create', recorded['contact'])};" in result.output


def test_an_altered_attachment_file_is_named_by_verify(world, recorded, runner):
    with world.app.app_context():
        path = blobstore.path_for(recorded["sha256"])
    path.chmod(0o600)
    path.write_bytes(PNG + b"!")
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"first bad entry: {_index_of(world.app, 'message.create', recorded['message'])};" in result.output
    assert "altered" in result.output


def test_a_missing_attachment_file_is_named_by_verify(world, recorded, runner):
    with world.app.app_context():
        blobstore.path_for(recorded["sha256"]).unlink()
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"first bad entry: {_index_of(world.app, 'message.create', recorded['message'])};" in result.output
    assert "missing" in result.output


def test_a_tampered_attachment_row_is_named_by_verify(world, recorded, runner):
    with world.app.app_context(), get_engine().begin() as connection:
        without_triggers(connection, "attachment")
        connection.execute(text("UPDATE attachment SET filename = 'other.png'"))
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"first bad entry: {_index_of(world.app, 'message.create', recorded['message'])};" in result.output


def test_an_oversized_attachment_is_413_and_stores_nothing(app_factory, world):
    small = app_factory(MAX_ATTACHMENT_BYTES=1024)
    client = small.test_client()
    contact_id = world.contact()
    before = len(audit_entries(world.app))
    response = client.post(
        f"/api/v1/contacts/{contact_id}/messages",
        headers=world.headers("dana"),
        data={
            "direction": "in",
            "sent_at": "2026-03-02T10:00:00+01:00",
            "body": "too big",
            "attachments": [(io.BytesIO(b"small file"), "a.txt"), (io.BytesIO(b"x" * 2048), "b.bin")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    with small.app_context():
        files = [p for p in blobstore.root().rglob("*") if p.is_file()]
    assert files == []
    assert len(audit_entries(world.app)) == before
    assert world.get(f"/contacts/{contact_id}/messages").get_json()["items"] == []


def test_an_unseekable_oversized_stream_is_refused_by_the_store_and_no_row_is_written(app_factory, world):
    from decoy.db import session_scope
    from decoy.errors import TooLarge
    from decoy.evidence import services

    class Pipe(io.RawIOBase):
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def readable(self):
            return True

        def read(self, size=-1):
            return self.data.read(size)

    small = app_factory(MAX_ATTACHMENT_BYTES=1024)
    contact_id = world.contact()
    with small.app_context(), session_scope(small) as session:
        from decoy.auth.principal import Principal
        from decoy.auth.services import find_user

        dana = Principal(find_user(session, "dana"), {"detective"})
        with pytest.raises(TooLarge):
            services.log_message(
                session=session,
                actor=dana,
                contact_id=contact_id,
                direction="in",
                sent_at=world.app.extensions["clock"].now(),
                body="x",
                files=[(Pipe(b"y" * 4096), "pipe.bin")],
            )
    with small.app_context():
        assert [p for p in blobstore.root().rglob("*") if p.is_file()] == []
    assert world.get(f"/contacts/{contact_id}/messages").get_json()["items"] == []
