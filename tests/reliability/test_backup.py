"""`decoy backup` while changes keep arriving, and `decoy restore` into an empty directory that verifies."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from decoy import blobstore
from decoy.auth import services
from decoy.backup import BackupError, read_manifest, restore
from decoy.db import session_scope
from decoy.operations.authorizations import attach_order_document
from tests.factories import actor_for, make_authorization, make_operation
from tests.support import PG_URL, code_for, pg_execute

from .support import decoy_env, run_decoy


def _restore_target(tmp_path: Path) -> tuple[Path, str | None]:
    """An empty data directory and (on the PostgreSQL pass) an empty database."""
    if not PG_URL:
        return tmp_path / "restored", None
    from sqlalchemy.engine import make_url

    name = f"decoy_restore_{os.getpid()}_{int(time.monotonic() * 1000)}"
    pg_execute(PG_URL, f'CREATE DATABASE "{name}"')
    return tmp_path / "restored", make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _drop(url: str | None) -> None:
    if url:
        from sqlalchemy.engine import make_url

        pg_execute(PG_URL, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def _usernames(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {row[0] for row in connection.execute(text("SELECT username FROM user_account"))}
    finally:
        engine.dispose()


def _store_document(app: Any, content: bytes) -> str:
    """An authorization with a scanned order, made through the services (each with its audit entry)."""
    import io

    with app.app_context(), session_scope(app) as session:
        for username, role in (("sup1", "supervisor"), ("legal1", "legal")):
            if services.find_user(session, username) is None:
                services.create_user(session=session, actor="test", username=username, password="x" * 12,
                                     roles=[role], code=code_for(username))
    operation = make_operation(app, "sup1", name=f"op-{hashlib.sha256(content).hexdigest()[:8]}")
    authorization = make_authorization(app, "legal1", operation)
    with app.app_context(), session_scope(app) as session:
        document = attach_order_document(session=session, actor=actor_for(session, "legal1"),
                                         authorization_id=authorization, stream=io.BytesIO(content),
                                         filename="order.pdf")
        return document.sha256


def test_backup_during_writes_restores_every_change_committed_before_it(app: Any, runner: Any,
                                                                         tmp_path: Path) -> None:
    """A backup taken while accounts keep being created restores, verifies and holds every earlier change."""
    document = _store_document(app, b"%PDF-1.7 scanned order " * 100)
    committed: list[tuple[float, str]] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def keep_writing() -> None:
        number = 0
        try:
            while not stop.is_set() and number < 400:
                number += 1
                name = f"writer{number:04d}"
                with app.app_context(), session_scope(app) as session:
                    services.create_user(session=session, actor="test", username=name,
                                         password="backup test password", roles=["detective"])
                committed.append((time.monotonic(), name))
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)

    writer = threading.Thread(target=keep_writing, daemon=True)
    writer.start()
    deadline = time.monotonic() + 30
    while len(committed) < 15 and time.monotonic() < deadline:
        time.sleep(0.05)
    began = time.monotonic()
    target = tmp_path / "backup"
    result = runner.invoke(args=["backup", str(target)])
    ended = time.monotonic()
    time.sleep(0.3)
    stop.set()
    writer.join(timeout=60)
    assert not writer.is_alive()
    assert not errors, errors
    assert result.exit_code == 0, result.output
    before = {name for moment, name in committed if moment < began}
    assert len(before) >= 15
    assert any(began <= moment <= ended + 0.3 for moment, _name in committed) or len(committed) >= 400, \
        "the writer did not keep writing while the backup ran"

    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["database"] == ("postgresql" if PG_URL else "sqlite")
    assert f"attachments/{document[:2]}/{document[2:4]}/{document}" in manifest["files"]
    for name in ("keys/checkpoint.key", "keys/secrets.key", "keys/session.key"):
        assert name in manifest["files"]
        assert (target / name).stat().st_mode & 0o777 == 0o600

    data_dir, url = _restore_target(tmp_path)
    try:
        environment = decoy_env(data_dir, url)
        done = run_decoy(["restore", str(target)], environment)
        assert done.returncode == 0, done.stdout + done.stderr
        assert (data_dir / "keys" / "checkpoint.key").stat().st_mode & 0o777 == 0o600
        assert blobstore.path_for(document, app).read_bytes() == (
            data_dir / "attachments" / document[:2] / document[2:4] / document).read_bytes()
        verified = run_decoy(["audit", "verify"], environment)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "intact" in verified.stdout
        restored = _usernames(url or f"sqlite:///{data_dir / 'decoy.db'}")
        assert before <= restored, sorted(before - restored)
        assert restored <= {name for _moment, name in committed} | {"legal1", "sup1"}
        again = run_decoy(["restore", str(target)], environment)
        assert again.returncode != 0
        assert "not empty" in again.stderr
    finally:
        _drop(url)


def test_backup_refuses_a_damaged_attachment_naming_it(app: Any, runner: Any, tmp_path: Path) -> None:
    """An attachment whose bytes no longer match its hash stops the backup with its name."""
    sha256 = _store_document(app, b"%PDF-1.7 original order")
    stored = blobstore.path_for(sha256, app)
    stored.chmod(0o600)
    stored.write_bytes(b"%PDF-1.7 altered order")
    result = runner.invoke(args=["backup", str(tmp_path / "backup")])
    assert result.exit_code != 0
    assert sha256 in result.output
    assert not (tmp_path / "backup" / "manifest.json").exists()


def test_restore_refuses_a_damaged_backup_and_a_non_empty_directory(app: Any, runner: Any,
                                                                    tmp_path: Path) -> None:
    """A file changed after the backup, or a data directory in use, makes restore refuse before writing."""
    target = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "something").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        restore(source=target, data_dir=occupied, database_url=None)
    read_manifest(target)
    with (target / "keys" / "secrets.key").open("a") as handle:
        handle.write("tampered")
    with pytest.raises(BackupError, match="secrets.key does not match the manifest"):
        restore(source=target, data_dir=tmp_path / "fresh", database_url=None)
    assert not (tmp_path / "fresh").exists()
    (target / "manifest.json").unlink()
    with pytest.raises(BackupError, match="not a complete backup"):
        read_manifest(target)


def test_backup_into_a_non_empty_folder_is_refused(runner: Any, tmp_path: Path) -> None:
    """A backup never mixes with other files."""
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "file").write_text("x")
    result = runner.invoke(args=["backup", str(tmp_path / "old")])
    assert result.exit_code != 0
    assert "not empty" in result.output


def test_a_backup_of_the_database_store_carries_the_chunks_and_restores_verified(app_factory: Any,
                                                                                 tmp_path: Path) -> None:
    """With ATTACHMENT_STORE=database the attachments travel inside the database copy, re-hashed."""
    app = app_factory(ATTACHMENT_STORE="database")
    content = b"%PDF-1.7 an order kept in the database " * 60_000
    document = _store_document(app, content)
    assert not blobstore.path_for(document, app).exists()
    target = tmp_path / "backup"
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((target / "manifest.json").read_text())
    assert (manifest["attachments"], manifest["attachments_in_database"]) == (1, 1)
    assert not any(name.startswith("attachments/") for name in manifest["files"])

    data_dir, url = _restore_target(tmp_path)
    try:
        environment = decoy_env(data_dir, url, DECOY_ATTACHMENT_STORE="database")
        done = run_decoy(["restore", str(target)], environment)
        assert done.returncode == 0, done.stdout + done.stderr
        verified = run_decoy(["audit", "verify"], environment)
        assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout + verified.stderr
        checked = run_decoy(["attachments", "check"], environment)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "1 in the database store" in checked.stdout
    finally:
        _drop(url)


def test_backup_refuses_a_damaged_chunk_naming_its_file(app_factory: Any, tmp_path: Path) -> None:
    """A chunk whose bytes no longer match the file's hash stops the backup with the file's name."""
    from decoy.db import get_engine

    app = app_factory(ATTACHMENT_STORE="database")
    sha256 = _store_document(app, b"%PDF-1.7 original order")
    with app.app_context(), get_engine(app).begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER evidence_blob_chunk_no_update"))
        else:
            connection.execute(text("ALTER TABLE evidence_blob_chunk DISABLE TRIGGER USER"))
        connection.execute(text("UPDATE evidence_blob_chunk SET data = :data"), {"data": b"%PDF-1.7 altered"})
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backup")])
    assert result.exit_code != 0
    assert sha256 in result.output
    assert not (tmp_path / "backup" / "manifest.json").exists()
