"""The database of a backup: an SQLite copy or a pg_dump archive, one consistent snapshot, and its restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, make_url

from ..blobstore import database as database_store
from .files import BackupError

SQLITE_FILE = "decoy.db"
PG_DUMP_FILE = "decoy.pgdump"
#: Tables whose rows name a stored file by its SHA-256 (an import's row names the original export file).
REFERENCING_TABLES = (
    "attachment", "authorization_document", "message_import", "redaction", "signed_report", "end_report",
)
#: The tables whose rows a disposal may have emptied of their file, with the kind its tombstones name.
DISPOSABLE = {"attachment": "attachment", "redaction": "redaction", "message_import": "import"}
PG_TIMEOUT_SECONDS = 6 * 3600


def referenced_hashes(connection: Connection) -> set[str]:
    """Every file hash the database references (attachments, their redacted copies, authorization
    documents, imported files, signed reports, end reports), except the files of records a disposal
    removed: a backup taken after a disposal holds none of the disposed content."""
    present = set(inspect(connection).get_table_names())
    hashes: set[str] = set()
    for table in REFERENCING_TABLES:
        if table not in present:
            continue
        # Table names and kinds come from the constants above, never from input.
        query = f"SELECT DISTINCT sha256 FROM {table}"  # noqa: S608  # nosec B608
        kind = DISPOSABLE.get(table)
        if kind is not None and "disposal_tombstone" in present:
            query += (
                " WHERE id NOT IN (SELECT t.item_id FROM disposal_tombstone t"  # noqa: S608
                f" JOIN disposal_approval a ON a.disposal_id = t.disposal_id WHERE t.item_kind = '{kind}')"
            )
        hashes.update(str(row[0]) for row in connection.execute(text(query)))
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


def run_tool(command: list[str], environment: dict[str, str], what: str) -> None:
    # A fixed client program with an argument list, never a shell.
    completed = subprocess.run(  # noqa: S603  # nosec B603
        command, env=environment, capture_output=True, text=True, timeout=PG_TIMEOUT_SECONDS, check=False,
    )
    if completed.returncode != 0:
        raise BackupError(f"{what} failed ({completed.returncode}): {completed.stderr.strip()[-2000:]}")


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database).resolve()


def database_kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise BackupError(f"unsupported database {backend!r}")
    return backend


@contextmanager
def engine_connection(url: str) -> Iterator[Connection]:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def snapshot_sqlite(url: str, target: Path) -> tuple[set[str], set[str], int]:
    """Copy the live SQLite database with the online backup API.

    Returns the file hashes it references, those its database store holds (verified) and the log size.
    """
    source_path = sqlite_path(url)
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
    with engine_connection(f"sqlite:///{copy_path}") as connection:
        hashes = referenced_hashes(connection)
        return hashes, held_in_database(connection, hashes), audit_size(connection)


def snapshot_postgresql(url: str, target: Path) -> tuple[set[str], set[str], int]:
    """Dump the database with pg_dump in one exported snapshot, read the file hashes in the same one.

    Returns the file hashes it references, those its database store holds (verified) and the log size.
    """
    uri, environment = libpq_target(url)
    dump = target / PG_DUMP_FILE
    with engine_connection(url) as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            hashes = referenced_hashes(connection)
            size = audit_size(connection)
            # The exporting transaction stays open until pg_dump has imported the snapshot and finished.
            run_tool([pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                  f"--snapshot={snapshot}", f"--file={dump}", f"--dbname={uri}"], environment, "pg_dump")
            # The chunks pg_dump copied, re-hashed in the same snapshot.
            held = held_in_database(connection, hashes)
    os.chmod(dump, 0o600)
    return hashes, held, size


def restore_postgresql(dump: Path, url: str) -> None:
    with engine_connection(url) as connection:
        tables = inspect(connection).get_table_names()
    if tables:
        raise BackupError(f"the database of DECOY_DATABASE_URL is not empty ({len(tables)} tables); "
                          "restore only into an empty database")
    uri, environment = libpq_target(url)
    command = [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
               "--single-transaction", f"--dbname={uri}", str(dump)]
    run_tool(command, environment, "pg_restore")
