"""The database attachment store: chunked rows in the message's transaction, moves between the stores.

These run on SQLite and, with DECOY_TEST_DATABASE_URL, on PostgreSQL: the store is the same code on both.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import threading
import zipfile

import pytest
from sqlalchemy import text
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from decoy import blobstore
from decoy.blobstore import CHUNK
from decoy.cli import main
from decoy.config import ConfigurationError
from decoy.db import get_engine, session_scope
from decoy.errors import TooLarge
from tests.decoy.evidence.support import audit_entries, entries_for
from tests.factories import actor_for

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
#: Larger than two chunks, so that it is stored as three.
LARGE = b"%PDF-1.7\n" + bytes(range(256)) * (CHUNK // 256 * 2 + 7)


@pytest.fixture
def app(app_factory):
    """The application with the database attachment store."""
    return app_factory(ATTACHMENT_STORE="database")


def _rows(app, statement, **values):
    # A reader's transaction (deferred on SQLite), so that it does not wait for an open writer.
    with app.app_context(), get_engine(app).connect() as connection:
        connection.execution_options(decoy_snapshot=True)
        return connection.execute(text(statement), values).all()


def _blob_count(app):
    return _rows(app, "SELECT count(*) FROM evidence_blob")[0][0]


def _chunk_count(app):
    return _rows(app, "SELECT count(*) FROM evidence_blob_chunk")[0][0]


def _files(app):
    with app.app_context():
        return sorted(path.name for path in blobstore.root().rglob("*") if path.is_file())


def _post_files(world, contact_id, *files, body="files", client=None):
    # The multipart body is encoded in memory: the test client would spool a large one to a temporary
    # file it never closes (a ResourceWarning, an error under filterwarnings=error).
    fields = MultiDict([("direction", "in"), ("sent_at", "2026-03-02T10:00:00+01:00"), ("body", body)])
    for content, name in files:
        fields.add("attachments", FileStorage(io.BytesIO(content), filename=name))
    boundary, data = encode_multipart(fields)
    return (client or world.client).post(
        f"/api/v1/contacts/{contact_id}/messages",
        headers=world.headers("dana"),
        data=data,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _without_triggers(connection, table):
    if connection.dialect.name == "sqlite":
        connection.execute(text(f"DROP TRIGGER {table}_no_update"))
        connection.execute(text(f"DROP TRIGGER {table}_no_delete"))
    else:
        connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))


def test_an_unknown_store_is_refused_at_start(app_factory):
    with pytest.raises(ConfigurationError, match="DECOY_ATTACHMENT_STORE must be one of files, database"):
        app_factory(ATTACHMENT_STORE="s3")


def test_a_message_with_attachments_is_201_and_downloads_identical_from_chunks(world):
    contact_id = world.contact()
    response = _post_files(world, contact_id, (LARGE, "chat-export.pdf"), (PNG, "screen.png"))
    assert response.status_code == 201, response.get_json()
    stored = response.get_json()["attachments"]
    assert [(a["sha256"], a["size"]) for a in stored] == [
        (hashlib.sha256(LARGE).hexdigest(), len(LARGE)), (hashlib.sha256(PNG).hexdigest(), len(PNG)),
    ]
    assert _rows(world.app, "SELECT chunk_count, size, media_type FROM evidence_blob WHERE sha256 = :h",
                 h=stored[0]["sha256"]) == [(3, len(LARGE), "application/pdf")]
    assert _chunk_count(world.app) == 3 + 1
    assert _files(world.app) == []
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
        assert _blob_count(world.app) == 0, "chunks are visible before the commit"
        session.rollback()
    assert _blob_count(world.app) == 0
    assert _chunk_count(world.app) == 0
    assert len(audit_entries(world.app)) == before
    with world.app.app_context(), session_scope(world.app) as session:
        blobstore.store_stream(io.BytesIO(PNG), connection=session.connection())
    assert (_blob_count(world.app), _chunk_count(world.app)) == (1, 1)


def test_the_database_store_needs_the_callers_transaction(app):
    with app.app_context(), pytest.raises(ValueError, match="pass its connection"):
        blobstore.store_stream(io.BytesIO(PNG))


def test_the_same_content_is_stored_once(world):
    contact_id = world.contact()
    first = _post_files(world, contact_id, (LARGE, "a.pdf"), (LARGE, "again.pdf"))
    second = _post_files(world, contact_id, (LARGE, "b.pdf"), body="the same file once more")
    assert first.status_code == second.status_code == 201
    assert {a["sha256"] for a in first.get_json()["attachments"] + second.get_json()["attachments"]} == {
        hashlib.sha256(LARGE).hexdigest()
    }
    assert (_blob_count(world.app), _chunk_count(world.app)) == (1, 3)
    assert len(_rows(world.app, "SELECT id FROM attachment")) == 3


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
    assert (_blob_count(app), _chunk_count(app)) == (1, 3)


def test_over_the_limit_is_413_and_stores_nothing(app_factory, world):
    small = app_factory(ATTACHMENT_STORE="database", MAX_ATTACHMENT_BYTES=CHUNK + 10)
    contact_id = world.contact()
    before = len(audit_entries(world.app))
    response = _post_files(world, contact_id, (PNG, "ok.png"), (LARGE, "too-big.pdf"),
                           client=small.test_client())
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert (_blob_count(small), _chunk_count(small)) == (0, 0)
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
    assert (_blob_count(small), _chunk_count(small)) == (1, 1)
    with small.app_context():
        assert b"".join(blobstore.iter_blob(stored.sha256)) == PNG


@pytest.mark.parametrize("statement", [
    "UPDATE evidence_blob_chunk SET data = data",
    "DELETE FROM evidence_blob_chunk",
    "UPDATE evidence_blob SET size = 1",
    "DELETE FROM evidence_blob",
])
def test_the_database_itself_refuses_changes_to_stored_files(world, statement):
    assert _post_files(world, world.contact(), (PNG, "screen.png")).status_code == 201
    with world.app.app_context():
        with pytest.raises(Exception, match="append-only"):  # noqa: B017 - driver-specific error types
            with get_engine().begin() as connection:
                connection.execute(text(statement))


def _index_of(app, message_id):
    return next(e["index"] for e in audit_entries(app)
                if e["action"] == "message.create" and e["object"]["id"] == message_id)


@pytest.mark.parametrize("damage", ["altered", "removed"])
def test_a_tampered_chunk_is_named_by_verify_with_its_attachment(world, runner, damage):
    contact_id = world.contact()
    answer = _post_files(world, contact_id, (LARGE, "chat-export.pdf")).get_json()
    world.message(contact_id, body="a later message", sent_at="2026-03-02T10:05:00+01:00")
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    sha256 = answer["attachments"][0]["sha256"]
    with world.app.app_context(), get_engine().begin() as connection:
        _without_triggers(connection, "evidence_blob_chunk")
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
    assert f"first bad entry: {_index_of(world.app, answer['id'])};" in result.output
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
    assert (_blob_count(world.app), _chunk_count(world.app)) == (1, 3)
    auth.login("lena")
    download = world.client.get(f"/authorization-documents/{document.id}")
    assert download.status_code == 200
    assert download.data == LARGE
    download.close()
    contact_id = world.contact()
    answer = _post_files(world, contact_id, (PNG, "screen.png")).get_json()
    bundle = tmp_path / "bundle.zip"
    result = runner.invoke(main, ["export", str(world.operation_id), "-o", str(bundle), "--as", "lena"])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        assert archive.read(f"attachments/{answer['attachments'][0]['sha256']}") == PNG
        order = next(name for name in names if document.sha256 in name)
        assert archive.read(order) == LARGE
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0


def test_move_files_to_database_and_back_verifies_every_hash(app_factory, world, runner):
    files_app = app_factory(ATTACHMENT_STORE="files")
    in_files = dataclasses.replace(world, app=files_app, client=files_app.test_client())
    contact_id = in_files.contact()
    answer = _post_files(in_files, contact_id, (LARGE, "export.pdf"), (PNG, "screen.png")).get_json()
    hashes = sorted(a["sha256"] for a in answer["attachments"])
    assert _files(files_app) == hashes and _blob_count(world.app) == 0
    download = world.get(f"/attachments/{answer['attachments'][0]['id']}", "lena")
    assert download.data == LARGE, "a file not yet moved is read from the file store"
    download.close()

    moved = runner.invoke(main, ["attachments", "move", "--to", "database"])
    assert moved.exit_code == 0, moved.output
    assert "2 copied to the database store" in moved.output and "2 source copies removed" in moved.output
    assert _files(files_app) == [] and (_blob_count(world.app), _chunk_count(world.app)) == (2, 4)
    entry = entries_for(world.app, "attachments.move")[-1]
    assert entry["details"]["from"] == "files" and entry["details"]["copied"] == 2
    download = world.get(f"/attachments/{answer['attachments'][0]['id']}", "lena")
    assert download.data == LARGE
    download.close()
    again = runner.invoke(main, ["attachments", "move", "--to", "database"])
    assert again.exit_code == 0 and "0 copied" in again.output and "2 already there" in again.output
    assert len(entries_for(world.app, "attachments.move")) == 1, "a move that changed nothing is not recorded"

    back = runner.invoke(main, ["attachments", "move", "--to", "files"])
    assert back.exit_code == 0, back.output
    assert _files(files_app) == hashes and (_blob_count(world.app), _chunk_count(world.app)) == (0, 0)
    assert sorted(row[0] for row in _rows(world.app, "SELECT sha256 FROM evidence_blob_release")) == hashes
    check = runner.invoke(main, ["attachments", "check"])
    assert check.exit_code == 0, check.output
    assert "2 only outside the configured store" in check.output
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    download = in_files.get(f"/attachments/{answer['attachments'][1]['id']}", "lena")
    assert download.data == PNG
    download.close()


def test_a_release_permits_deleting_only_the_copy_it_names(world, runner):
    assert _post_files(world, world.contact(), (PNG, "screen.png")).status_code == 201
    assert runner.invoke(main, ["attachments", "move", "--to", "files"]).exit_code == 0
    assert runner.invoke(main, ["attachments", "move", "--to", "database", "--keep-source"]).exit_code == 0
    assert _blob_count(world.app) == 1
    with world.app.app_context():
        with pytest.raises(Exception, match="append-only"):  # noqa: B017 - driver-specific error types
            with get_engine().begin() as connection:
                connection.execute(text("DELETE FROM evidence_blob_chunk"))


def test_a_corrupted_source_is_refused_naming_its_hash_and_nothing_is_removed(app_factory, world, runner):
    files_app = app_factory(ATTACHMENT_STORE="files")
    in_files = dataclasses.replace(world, app=files_app, client=files_app.test_client())
    answer = _post_files(in_files, in_files.contact(), (LARGE, "export.pdf"), (PNG, "screen.png")).get_json()
    damaged = answer["attachments"][1]["sha256"]
    with files_app.app_context():
        path = blobstore.path_for(damaged)
    path.chmod(0o600)
    path.write_bytes(PNG + b"!")
    result = runner.invoke(main, ["attachments", "move", "--to", "database"])
    assert result.exit_code == 1
    assert damaged in result.output and "refusing to move it" in result.output
    assert len(_files(files_app)) == 2, "no source copy is removed when any copy fails"
    assert _rows(world.app, "SELECT count(*) FROM evidence_blob WHERE sha256 = :h", h=damaged)[0][0] == 0
    assert entries_for(world.app, "attachments.move") == []

    path.write_bytes(PNG)
    assert runner.invoke(main, ["attachments", "move", "--to", "database"]).exit_code == 0
    intact = answer["attachments"][0]["sha256"]
    with world.app.app_context(), get_engine().begin() as connection:
        _without_triggers(connection, "evidence_blob_chunk")
        connection.execute(text("UPDATE evidence_blob_chunk SET data = :d WHERE sha256 = :h AND seq = 0"),
                           {"d": b"x" * CHUNK, "h": intact})
    result = runner.invoke(main, ["attachments", "move", "--to", "files"])
    assert result.exit_code == 1 and intact in result.output
    assert not any(name == intact for name in _files(files_app))
    assert _blob_count(world.app) == 2


def test_a_second_move_while_one_runs_is_refused_and_changes_nothing(world, runner):
    """Two moves at once (in opposite directions) could each remove the copy the other verified."""
    from decoy.blobstore.moving import MOVE_LOCK_KEY
    from decoy.locks import ExclusiveLock

    assert _post_files(world, world.contact(), (PNG, "screen.png")).status_code == 201
    with world.app.app_context():
        running = ExclusiveLock(world.app, MOVE_LOCK_KEY, "attachments-move.lock")
        assert running.try_acquire()
        try:
            refused = runner.invoke(main, ["attachments", "move", "--to", "files"])
        finally:
            running.release()
    assert refused.exit_code == 1 and "another attachments move is running" in refused.output
    assert _files(world.app) == [] and _blob_count(world.app) == 1
    assert entries_for(world.app, "attachments.move") == []
    assert runner.invoke(main, ["attachments", "move", "--to", "files"]).exit_code == 0
    assert len(_files(world.app)) == 1 and _blob_count(world.app) == 0


def test_verify_checks_every_copy_of_a_file_in_both_stores(world, runner):
    answer = _post_files(world, world.contact(), (PNG, "screen.png")).get_json()
    sha256 = answer["attachments"][0]["sha256"]
    kept = runner.invoke(main, ["attachments", "move", "--to", "files", "--keep-source"])
    assert kept.exit_code == 0, kept.output
    assert _files(world.app) == [sha256] and _blob_count(world.app) == 1
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    with world.app.app_context():
        path = blobstore.path_for(sha256)
    path.chmod(0o600)
    path.write_bytes(PNG + b"!")
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert sha256 in result.output and "altered" in result.output and "in the files store" in result.output


def test_a_genuine_upload_restores_a_damaged_file_and_sets_the_damaged_one_aside(app_factory, world, runner):
    files_app = app_factory(ATTACHMENT_STORE="files")
    in_files = dataclasses.replace(world, app=files_app, client=files_app.test_client())
    contact_id = in_files.contact()
    sha256 = _post_files(in_files, contact_id, (PNG, "screen.png")).get_json()["attachments"][0]["sha256"]
    with files_app.app_context():
        path = blobstore.path_for(sha256)
        aside = blobstore.root() / "damaged"
    path.chmod(0o600)
    path.write_bytes(PNG + b"!")
    again = _post_files(in_files, contact_id, (PNG, "screen again.png"))
    assert again.status_code == 201 and again.get_json()["attachments"][0]["sha256"] == sha256
    assert path.read_bytes() == PNG, "the fresh upload of the genuine content replaced the damaged copy"
    kept = list(aside.iterdir())
    assert len(kept) == 1 and kept[0].name.startswith(sha256) and kept[0].read_bytes() == PNG + b"!"
    with files_app.app_context():
        assert blobstore.problem(sha256) is None
