"""Moving attachments between the file store and the database store, and verifying every copy.

These run on SQLite and, with DECOY_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import text

from decoy import blobstore
from decoy.blobstore import CHUNK
from decoy.cli import main
from decoy.db import get_engine
from tests.decoy.evidence.support import entries_for
from tests.support import without_triggers

from .support import (
    LARGE,
    PNG,
    blob_count,
    chunk_count,
    files,
    post_files,
    rows,
)


@pytest.fixture
def app(app_factory):
    """The application with the database attachment store."""
    return app_factory(ATTACHMENT_STORE="database")


def test_move_files_to_database_and_back_verifies_every_hash(app_factory, world, runner):
    files_app = app_factory(ATTACHMENT_STORE="files")
    in_files = dataclasses.replace(world, app=files_app, client=files_app.test_client())
    contact_id = in_files.contact()
    answer = post_files(in_files, contact_id, (LARGE, "export.pdf"), (PNG, "screen.png")).get_json()
    hashes = sorted(a["sha256"] for a in answer["attachments"])
    assert files(files_app) == hashes and blob_count(world.app) == 0
    download = world.get(f"/attachments/{answer['attachments'][0]['id']}", "lena")
    assert download.data == LARGE, "a file not yet moved is read from the file store"
    download.close()

    moved = runner.invoke(main, ["attachments", "move", "--to", "database"])
    assert moved.exit_code == 0, moved.output
    assert "2 copied to the database store" in moved.output and "2 source copies removed" in moved.output
    assert files(files_app) == [] and (blob_count(world.app), chunk_count(world.app)) == (2, 4)
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
    assert files(files_app) == hashes and (blob_count(world.app), chunk_count(world.app)) == (0, 0)
    assert sorted(row[0] for row in rows(world.app, "SELECT sha256 FROM evidence_blob_release")) == hashes
    check = runner.invoke(main, ["attachments", "check"])
    assert check.exit_code == 0, check.output
    assert "2 only outside the configured store" in check.output
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    download = in_files.get(f"/attachments/{answer['attachments'][1]['id']}", "lena")
    assert download.data == PNG
    download.close()


def test_a_release_permits_deleting_only_the_copy_it_names(world, runner):
    assert post_files(world, world.contact(), (PNG, "screen.png")).status_code == 201
    assert runner.invoke(main, ["attachments", "move", "--to", "files"]).exit_code == 0
    assert runner.invoke(main, ["attachments", "move", "--to", "database", "--keep-source"]).exit_code == 0
    assert blob_count(world.app) == 1
    with world.app.app_context():
        with pytest.raises(Exception, match="append-only"):  # noqa: B017 - driver-specific error types
            with get_engine().begin() as connection:
                connection.execute(text("DELETE FROM evidence_blob_chunk"))


def test_a_corrupted_source_is_refused_naming_its_hash_and_nothing_is_removed(app_factory, world, runner):
    files_app = app_factory(ATTACHMENT_STORE="files")
    in_files = dataclasses.replace(world, app=files_app, client=files_app.test_client())
    answer = post_files(in_files, in_files.contact(), (LARGE, "export.pdf"), (PNG, "screen.png")).get_json()
    damaged = answer["attachments"][1]["sha256"]
    with files_app.app_context():
        path = blobstore.path_for(damaged)
    path.chmod(0o600)
    path.write_bytes(PNG + b"!")
    result = runner.invoke(main, ["attachments", "move", "--to", "database"])
    assert result.exit_code == 1
    assert damaged in result.output and "refusing to move it" in result.output
    assert len(files(files_app)) == 2, "no source copy is removed when any copy fails"
    assert rows(world.app, "SELECT count(*) FROM evidence_blob WHERE sha256 = :h", h=damaged)[0][0] == 0
    assert entries_for(world.app, "attachments.move") == []

    path.write_bytes(PNG)
    assert runner.invoke(main, ["attachments", "move", "--to", "database"]).exit_code == 0
    intact = answer["attachments"][0]["sha256"]
    with world.app.app_context(), get_engine().begin() as connection:
        without_triggers(connection, "evidence_blob_chunk")
        connection.execute(text("UPDATE evidence_blob_chunk SET data = :d WHERE sha256 = :h AND seq = 0"),
                           {"d": b"x" * CHUNK, "h": intact})
    result = runner.invoke(main, ["attachments", "move", "--to", "files"])
    assert result.exit_code == 1 and intact in result.output
    assert not any(name == intact for name in files(files_app))
    assert blob_count(world.app) == 2


def test_a_second_move_while_one_runs_is_refused_and_changes_nothing(world, runner):
    """Two moves at once (in opposite directions) could each remove the copy the other verified."""
    from decoy.blobstore.moving import MOVE_LOCK_KEY
    from decoy.locks import ExclusiveLock

    assert post_files(world, world.contact(), (PNG, "screen.png")).status_code == 201
    with world.app.app_context():
        running = ExclusiveLock(world.app, MOVE_LOCK_KEY, "attachments-move.lock")
        assert running.try_acquire()
        try:
            refused = runner.invoke(main, ["attachments", "move", "--to", "files"])
        finally:
            running.release()
    assert refused.exit_code == 1 and "another attachments move is running" in refused.output
    assert files(world.app) == [] and blob_count(world.app) == 1
    assert entries_for(world.app, "attachments.move") == []
    assert runner.invoke(main, ["attachments", "move", "--to", "files"]).exit_code == 0
    assert len(files(world.app)) == 1 and blob_count(world.app) == 0


def test_verify_checks_every_copy_of_a_file_in_both_stores(world, runner):
    answer = post_files(world, world.contact(), (PNG, "screen.png")).get_json()
    sha256 = answer["attachments"][0]["sha256"]
    kept = runner.invoke(main, ["attachments", "move", "--to", "files", "--keep-source"])
    assert kept.exit_code == 0, kept.output
    assert files(world.app) == [sha256] and blob_count(world.app) == 1
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
    sha256 = post_files(in_files, contact_id, (PNG, "screen.png")).get_json()["attachments"][0]["sha256"]
    with files_app.app_context():
        path = blobstore.path_for(sha256)
        aside = blobstore.root() / "damaged"
    path.chmod(0o600)
    path.write_bytes(PNG + b"!")
    again = post_files(in_files, contact_id, (PNG, "screen again.png"))
    assert again.status_code == 201 and again.get_json()["attachments"][0]["sha256"] == sha256
    assert path.read_bytes() == PNG, "the fresh upload of the genuine content replaced the damaged copy"
    kept = list(aside.iterdir())
    assert len(kept) == 1 and kept[0].name.startswith(sha256) and kept[0].read_bytes() == PNG + b"!"
    with files_app.app_context():
        assert blobstore.problem(sha256) is None
