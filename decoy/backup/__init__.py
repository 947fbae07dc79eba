"""Consistent backups of a running Decoy and their restore into an empty data directory.

A backup is a folder: the database (an SQLite copy made with the online backup API, or a
``pg_dump --format=custom`` archive), every attachment the database references (each re-hashed on
the way: a file of the file store is copied; chunks of the database store travel inside the database
copy and are re-hashed in its snapshot), the key files (mode 0600), the published checkpoints and a
``manifest.json`` holding the SHA-256 of every file. The manifest is written last: a folder without one
is not a backup.

Order matters for consistency. The published checkpoint file is copied before the database snapshot,
so that every checkpoint it holds is also in the copied log (checkpoints are published after they
commit). Attachments are written to the file store before the row that references them commits, and
are never changed, so every file the snapshot references exists and can be copied afterwards; in the
database store they commit with that row, so the snapshot holds them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, make_url

from ..blobstore import database as database_store
from ..blobstore.files import fsync_dir

FORMAT = "decoy-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "decoy.db"
PG_DUMP_FILE = "decoy.pgdump"
CHUNK = 1024 * 1024
#: Tables whose rows name a stored file by its SHA-256.
REFERENCING_TABLES = ("attachment", "authorization_document")
#: Folders of the data directory that are copied by rule rather than as "other files".
MANAGED = {"attachments", "keys", "checkpoints.txt"}
PG_TIMEOUT_SECONDS = 6 * 3600


class BackupError(RuntimeError):
    """The backup or restore cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class Summary:
    """What a backup or restore handled."""

    directory: Path
    database: str
    audit_size: int
    attachments: int
    files: int


# ---------------------------------------------------------------- helpers


def _make_dirs(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


def hash_file(path: Path) -> tuple[str, int]:
    """The SHA-256 (hex) and size of a file."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def copy_verified(source: Path, target: Path, expected_sha256: str | None = None) -> tuple[str, int]:
    """Copy ``source`` to a new private file ``target``, hashing on the way; fsync; check the hash.

    :raises BackupError: when the copied bytes do not have ``expected_sha256`` (nothing is left behind).
    """
    _make_dirs(target.parent)
    digest = hashlib.sha256()
    size = 0
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with source.open("rb") as reader, os.fdopen(descriptor, "wb") as writer:
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    actual = digest.hexdigest()
    if expected_sha256 is not None and actual != expected_sha256:
        target.unlink(missing_ok=True)
        raise BackupError(f"{source}: content hash {actual} does not match the expected {expected_sha256}")
    return actual, size


def attachment_path(root: Path, sha256: str) -> Path:
    """Where a content-addressed file lives under ``root`` (the same layout as the blob store)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise BackupError(f"not a lowercase hex SHA-256: {sha256!r}")
    return root / sha256[:2] / sha256[2:4] / sha256


def referenced_hashes(connection: Connection) -> set[str]:
    """Every file hash the database references (attachments and authorization documents)."""
    present = set(inspect(connection).get_table_names())
    hashes: set[str] = set()
    for table in REFERENCING_TABLES:
        if table in present:
            # Table names come from the constant above, never from input.
            rows = connection.execute(text(f"SELECT DISTINCT sha256 FROM {table}"))  # noqa: S608  # nosec B608
            hashes.update(str(row[0]) for row in rows)
    return hashes


def held_in_database(connection: Connection, hashes: set[str]) -> set[str]:
    """Which of ``hashes`` the database store holds in this snapshot, each re-hashed from its chunks.

    :raises BackupError: naming the first stored copy whose chunks no longer hash to its name.
    """
    if "evidence_blob" not in inspect(connection).get_table_names():
        return set()
    held = database_store.stored_hashes(connection) & hashes
    for sha256 in sorted(held):
        problem = database_store.problem(connection, sha256)
        if problem:
            raise BackupError(f"attachment {sha256} in the database store: {problem}")
    return held


def audit_size(connection: Connection) -> int:
    """The number of entries in the audit log (0 when the schema has none)."""
    if "audit_head" not in inspect(connection).get_table_names():
        return 0
    return int(connection.execute(text("SELECT size FROM audit_head WHERE id = 1")).scalar_one())


def pg_tool(name: str) -> str:
    """Locate a PostgreSQL client program: the newest Debian installation first, then the PATH."""
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda path: [int(part) for part in path.parts[-3].split(".") if part.isdigit()])
    if candidates:
        return str(candidates[-1])
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install Debian's postgresql-client package")
    return found


def libpq_target(url: str | URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI (without the password) and the environment that carries the password."""
    parsed = make_url(url)
    environment = dict(os.environ)
    if parsed.password:
        environment["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _run(command: list[str], environment: dict[str, str], what: str) -> None:
    # A fixed client program with an argument list, never a shell.
    completed = subprocess.run(  # noqa: S603  # nosec B603
        command, env=environment, capture_output=True, text=True, timeout=PG_TIMEOUT_SECONDS, check=False,
    )
    if completed.returncode != 0:
        raise BackupError(f"{what} failed ({completed.returncode}): {completed.stderr.strip()[-2000:]}")


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database).resolve()


def _database_kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise BackupError(f"unsupported database {backend!r}")
    return backend


@contextmanager
def _engine_connection(url: str) -> Iterator[Connection]:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


# ---------------------------------------------------------------- backup


def _snapshot_sqlite(url: str, target: Path) -> tuple[set[str], set[str], int]:
    """Copy the live SQLite database with the online backup API.

    Returns the file hashes it references, those its database store holds (verified) and the log size.
    """
    source_path = _sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"the database {source_path} does not exist")
    copy_path = target / SQLITE_FILE
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=60)
    destination = sqlite3.connect(copy_path)
    try:
        # One step (pages=-1): the copy is a single read transaction, one consistent snapshot,
        # which in WAL mode does not block the writers of the running server.
        source.backup(destination)
        destination.execute("PRAGMA journal_mode=DELETE")
        destination.commit()
    finally:
        destination.close()
        source.close()
    os.chmod(copy_path, 0o600)
    with _engine_connection(f"sqlite:///{copy_path}") as connection:
        hashes = referenced_hashes(connection)
        return hashes, held_in_database(connection, hashes), audit_size(connection)


def _snapshot_postgresql(url: str, target: Path) -> tuple[set[str], set[str], int]:
    """Dump the database with pg_dump in one exported snapshot, read the file hashes in the same one.

    Returns the file hashes it references, those its database store holds (verified) and the log size.
    """
    uri, environment = libpq_target(url)
    dump = target / PG_DUMP_FILE
    with _engine_connection(url) as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            hashes = referenced_hashes(connection)
            size = audit_size(connection)
            # The exporting transaction stays open until pg_dump has imported the snapshot and finished.
            _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                  f"--snapshot={snapshot}", f"--file={dump}", f"--dbname={uri}"], environment, "pg_dump")
            # The chunks pg_dump copied, re-hashed in the same snapshot.
            held = held_in_database(connection, hashes)
    os.chmod(dump, 0o600)
    return hashes, held, size


def _other_files(data_dir: Path, database_files: set[Path]) -> Iterable[Path]:
    """Top-level regular files of the data directory besides the database (instance config, …)."""
    for path in sorted(data_dir.iterdir()):
        if path.name in MANAGED or not path.is_file() or path.resolve() in database_files:
            continue
        if path.name.endswith(("-wal", "-shm", "-journal")):
            continue
        yield path


def backup(*, data_dir: Path, database_url: str, target: Path) -> Summary:
    """Write a consistent backup of a (possibly running) Decoy into the new or empty folder ``target``."""
    kind = _database_kind(database_url)
    data_dir = data_dir.resolve()
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; a backup goes into a new or empty folder")
    _make_dirs(target)
    target = target.resolve()
    keys = data_dir / "keys"
    if not keys.is_dir():
        raise BackupError(f"{data_dir} holds no keys: not an initialised data directory")

    # 1. Published checkpoints before the snapshot: each of them is then also in the copied log.
    checkpoints = data_dir / "checkpoints.txt"
    if checkpoints.is_file():
        copy_verified(checkpoints, target / "checkpoints.txt")
    # 2. The database, as one snapshot.
    if kind == "sqlite":
        hashes, held, size = _snapshot_sqlite(database_url, target)
        database_files = {_sqlite_path(database_url)}
    else:
        hashes, held, size = _snapshot_postgresql(database_url, target)
        database_files = set()
    # 3. Every attachment the snapshot references, verified against its name: those of the database
    #    store were verified inside the snapshot, the others are copied from the file store.
    for sha256 in sorted(hashes - held):
        source = attachment_path(data_dir / "attachments", sha256)
        if not source.is_file():
            raise BackupError(f"the database references attachment {sha256}, which the store does not hold")
        copy_verified(source, attachment_path(target / "attachments", sha256), sha256)
    # 4. Keys (private) and the other files of the data directory.
    for key in sorted(path for path in keys.iterdir() if path.is_file()):
        copy_verified(key, target / "keys" / key.name)
    for path in _other_files(data_dir, database_files):
        copy_verified(path, target / path.name)

    files = _hash_tree(target)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": kind,
        "database_file": SQLITE_FILE if kind == "sqlite" else PG_DUMP_FILE,
        "audit_size": size,
        "attachments": len(hashes),
        "attachments_in_database": len(held),
        "files": files,
    }
    _write_private(target / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    for folder in {target, *((target / name).parent for name in files)}:
        fsync_dir(folder)
    return Summary(target, kind, size, len(hashes), len(files))


def _hash_tree(root: Path) -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            sha256, size = hash_file(path)
            files[path.relative_to(root).as_posix()] = {"sha256": sha256, "size": size}
    return files


def _write_private(path: Path, content: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


# ---------------------------------------------------------------- restore


def read_manifest(source: Path) -> dict[str, Any]:
    """Load the manifest and check every file it lists; refuse a damaged or incomplete backup."""
    try:
        manifest: dict[str, Any] = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError as error:
        raise BackupError(f"{source} holds no {MANIFEST}: not a complete backup") from error
    except (OSError, ValueError) as error:
        raise BackupError(f"{source / MANIFEST} is unreadable: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    for name, expected in manifest["files"].items():
        path = source / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise BackupError(f"the manifest names a path outside the backup: {name}")
        if not path.is_file():
            raise BackupError(f"the backup lacks {name}")
        sha256, size = hash_file(path)
        if sha256 != expected["sha256"] or size != expected["size"]:
            raise BackupError(f"{name} does not match the manifest (damaged backup)")
    return manifest


def _refuse_non_empty(data_dir: Path) -> None:
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupError(f"{data_dir} is not empty; restore only into an empty data directory")


def _restore_postgresql(dump: Path, url: str) -> None:
    with _engine_connection(url) as connection:
        tables = inspect(connection).get_table_names()
    if tables:
        raise BackupError(f"the database of DECOY_DATABASE_URL is not empty ({len(tables)} tables); "
                          "restore only into an empty database")
    uri, environment = libpq_target(url)
    _run([pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          f"--dbname={uri}", str(dump)], environment, "pg_restore")


def restore(*, source: Path, data_dir: Path, database_url: str | None) -> Summary:
    """Restore the backup in ``source`` into the empty ``data_dir`` (and the empty database of the URL).

    :param database_url: where the database goes; None means SQLite inside ``data_dir``.
    """
    source = source.resolve()
    data_dir = data_dir.resolve()
    _refuse_non_empty(data_dir)
    manifest = read_manifest(source)
    kind = manifest["database"]
    url = database_url or f"sqlite:///{data_dir / SQLITE_FILE}"
    if _database_kind(url) != kind:
        raise BackupError(f"the backup holds a {kind} database but DECOY_DATABASE_URL selects "
                          f"{_database_kind(url)}")
    database_path = _sqlite_path(url) if kind == "sqlite" else None
    if database_path is not None and database_path.exists():
        raise BackupError(f"{database_path} exists; restore only into an empty data directory")

    _make_dirs(data_dir)
    attachments = 0
    for name, expected in sorted(manifest["files"].items()):
        if name == manifest["database_file"]:
            continue
        copy_verified(source / name, data_dir / name, expected["sha256"])
        attachments += name.startswith("attachments/")
    attachments += int(manifest.get("attachments_in_database", 0))
    _make_dirs(data_dir / "attachments")
    database_file = source / manifest["database_file"]
    if database_path is not None:
        copy_verified(database_file, database_path, manifest["files"][manifest["database_file"]]["sha256"])
    else:
        _restore_postgresql(database_file, url)
    for folder in {data_dir, data_dir / "keys"}:
        if folder.is_dir():
            fsync_dir(folder)
    return Summary(data_dir, kind, int(manifest["audit_size"]), attachments, len(manifest["files"]))
