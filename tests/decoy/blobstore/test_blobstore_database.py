"""The database attachment store: chunked rows in the message's transaction, moves between the stores.

These run on SQLite and, with DECOY_TEST_DATABASE_URL, on PostgreSQL: the store is the same code on both.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile

import pytest
from sqlalchemy import text

from decoy import blobstore
from decoy.blobstore import CHUNK
from decoy.cli import main
from decoy.config import ConfigurationError
from decoy.db import get_engine, session_scope
from decoy.errors import TooLarge
from tests.decoy.evidence.support import audit_entries, entries_for
from tests.factories import actor_for
from tests.support import without_triggers

from .support import (
    LARGE,
    PNG,
    blob_count,
    chunk_count,
    files,
    index_of,
    post_files,
    rows,
)


@pytest.fixture
def app(app_factory):
    """The application with the database attachment store."""
    return app_factory(ATTACHMENT_STORE="database")


def test_an_unknown_store_is_refused_at_start(app_factory):
    with pytest.raises(ConfigurationError, match="DECOY_ATTACHMENT_STORE must be one of files, database"):
        app_factory(ATTACHMENT_STORE="s3")


def test_a_message_with_attachments_is_201_and_downloads_identical_from_chunks(world):
    contact_id = world.contact()
    response = post_files(world, contact_id, (LARGE, "chat-export.pdf"), (PNG, "screen.png"))
    assert response.status_code == 201, response.get_json()
    stored = response.get_json()["attachments"]
    assert [(a["sha256"], a["size"]) for a in stored] == [
        (hashlib.sha256(LARGE).hexdigest(), len(LARGE)), (hashlib.sha256(PNG).hexdigest(), len(PNG)),
    ]
    assert rows(world.app, "SELECT chunk_count, size, media_type FROM evidence_blob WHERE sha256 = :h",
                 h=stored[0]["sha256"]) == [(3, len(LARGE), "application/pdf")]
    assert chunk_count(world.app) == 3 + 1
    assert files(world.app) == []
    message = world.get(f"/messages/{response.get_json()['id']}").get_json()
    for attachment, content in zip(message["attachments"], (LARGE, PNG), strict=True):
        download = world.get(f"/attachments/{attachment['id']}", "lena")
        assert download.status_code == 200
        assert download.data == content
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert download.headers["Content-Length"] == str(len(content))
        assert download.headers["X-Content-SHA256"] == attachment["sha256"]
        download.close()
    assert world.client.get(f"/api/v1/attachments/{message['attachments'][1]['id']}",
                            headers=world.headers("dana")).headers["Content-Type"] == "image/png"
    assert len(entries_for(world.app, "attachment.download")) == 3


def test_a_rolled_back_message_leaves_no_chunk(world):
    from decoy.auth.principal import Principal
    from decoy.auth.services import find_user
    from decoy.evidence import services

    contact_id = world.contact()
    before = len(audit_entries(world.app))
    with world.app.app_context(), session_scope(world.app) as session:
        dana = Principal(find_user(session, "dana"), {"detective"})
        services.log_message(
            session=session, actor=dana, contact_id=contact_id, direction="in",
            sent_at=world.app.extensions["clock"].now(), body="x", files=[(io.BytesIO(LARGE), "a.pdf")],
        )
        assert blob_count(world.app) == 0, "chunks are visible before the commit"
        session.rollback()
    assert blob_count(world.app) == 0
    assert chunk_count(world.app) == 0
    assert len(audit_entries(world.app)) == before
    with world.app.app_context(), session_scope(world.app) as session:
        blobstore.store_stream(io.BytesIO(PNG), connection=session.connection())
    assert (blob_count(world.app), chunk_count(world.app)) == (1, 1)


def test_the_database_store_needs_the_callers_transaction(app):
    with app.app_context(), pytest.raises(ValueError, match="pass its connection"):
        blobstore.store_stream(io.BytesIO(PNG))


def test_the_same_content_is_stored_once(world):
    contact_id = world.contact()
    first = post_files(world, contact_id, (LARGE, "a.pdf"), (LARGE, "again.pdf"))
    second = post_files(world, contact_id, (LARGE, "b.pdf"), body="the same file once more")
    assert first.status_code == second.status_code == 201
    assert {a["sha256"] for a in first.get_json()["attachments"] + second.get_json()["attachments"]} == {
        hashlib.sha256(LARGE).hexdigest()
    }
    assert (blob_count(world.app), chunk_count(world.app)) == (1, 3)
    assert len(rows(world.app, "SELECT id FROM attachment")) == 3


def test_concurrent_writers_of_the_same_new_content_both_commit_and_store_it_once(app):
    errors = []
    barrier = threading.Barrier(2)

    def store():
        try:
            barrier.wait(timeout=10)
            with app.app_context(), session_scope(app) as session:
                blobstore.store_stream(io.BytesIO(LARGE), connection=session.connection())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=store) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert (blob_count(app), chunk_count(app)) == (1, 3)


def test_over_the_limit_is_413_and_stores_nothing(app_factory, world):
    small = app_factory(ATTACHMENT_STORE="database", MAX_ATTACHMENT_BYTES=CHUNK + 10)
    contact_id = world.contact()
    before = len(audit_entries(world.app))
    response = post_files(world, contact_id, (PNG, "ok.png"), (LARGE, "too-big.pdf"),
                           client=small.test_client())
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert (blob_count(small), chunk_count(small)) == (0, 0)
    assert len(audit_entries(world.app)) == before
    assert world.get(f"/contacts/{contact_id}/messages").get_json()["items"] == []


def test_an_unseekable_stream_over_the_limit_is_refused_before_any_row(app_factory, world):
    class Pipe(io.RawIOBase):
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def readable(self):
            return True

        def read(self, size=-1):
            return self.data.read(min(size, 1000) if size and size > 0 else size)

    small = app_factory(ATTACHMENT_STORE="database", MAX_ATTACHMENT_BYTES=CHUNK + 10)
    with small.app_context(), session_scope(small) as session:
        with pytest.raises(TooLarge):
            blobstore.store_stream(Pipe(LARGE), connection=session.connection())
        stored = blobstore.store_stream(Pipe(PNG), connection=session.connection())
    assert stored.sha256 == hashlib.sha256(PNG).hexdigest()
    assert (blob_count(small), chunk_count(small)) == (1, 1)
    with small.app_context():
        assert b"".join(blobstore.iter_blob(stored.sha256)) == PNG


@pytest.mark.parametrize("statement", [
    "UPDATE evidence_blob_chunk SET data = data",
    "DELETE FROM evidence_blob_chunk",
    "UPDATE evidence_blob SET size = 1",
    "DELETE FROM evidence_blob",
])
def test_the_database_itself_refuses_changes_to_stored_files(world, statement):
    assert post_files(world, world.contact(), (PNG, "screen.png")).status_code == 201
    with world.app.app_context():
        with pytest.raises(Exception, match="append-only"):  # noqa: B017 - driver-specific error types
            with get_engine().begin() as connection:
                connection.execute(text(statement))




@pytest.mark.parametrize("damage", ["altered", "removed"])
def test_a_tampered_chunk_is_named_by_verify_with_its_attachment(world, runner, damage):
    contact_id = world.contact()
    answer = post_files(world, contact_id, (LARGE, "chat-export.pdf")).get_json()
    world.message(contact_id, body="a later message", sent_at="2026-03-02T10:05:00+01:00")
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    sha256 = answer["attachments"][0]["sha256"]
    with world.app.app_context(), get_engine().begin() as connection:
        without_triggers(connection, "evidence_blob_chunk")
        if damage == "altered":
            connection.execute(
                text("UPDATE evidence_blob_chunk SET data = :data WHERE sha256 = :h AND seq = 1"),
                {"data": b"\x00" * CHUNK, "h": sha256},
            )
        else:
            connection.execute(text("DELETE FROM evidence_blob_chunk WHERE sha256 = :h AND seq = 2"),
                               {"h": sha256})
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"first bad entry: {index_of(world.app, answer['id'])};" in result.output
    assert f"message {answer['id']}, attachment {answer['attachments'][0]['id']}" in result.output
    assert f"file {sha256} has been altered" in result.output
    assert ("chunk 2" in result.output) == (damage == "removed")
    check = runner.invoke(main, ["attachments", "check"])
    assert check.exit_code == 1
    assert sha256 in check.output


def test_an_order_document_is_stored_with_its_transaction_downloaded_and_exported(world, auth, runner,
                                                                                 tmp_path):
    from decoy.operations.authorizations import attach_order_document

    with world.app.app_context(), session_scope(world.app) as session:
        document = attach_order_document(
            session=session, actor=actor_for(session, "lena"), authorization_id=world.authorization_id,
            stream=io.BytesIO(LARGE), filename="order.pdf",
        )
        assert document.sha256 == hashlib.sha256(LARGE).hexdigest()
    assert (blob_count(world.app), chunk_count(world.app)) == (1, 3)
    auth.login("lena")
    download = world.client.get(f"/authorization-documents/{document.id}")
    assert download.status_code == 200
    assert download.data == LARGE
    download.close()
    contact_id = world.contact()
    answer = post_files(world, contact_id, (PNG, "screen.png")).get_json()
    bundle = tmp_path / "bundle.zip"
    result = runner.invoke(main, ["export", str(world.operation_id), "-o", str(bundle), "--as", "lena"])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        assert archive.read(f"attachments/{answer['attachments'][0]['sha256']}") == PNG
        order = next(name for name in names if document.sha256 in name)
        assert archive.read(order) == LARGE
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
