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

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..blobstore.files import fsync_dir
from .databases import (
    PG_DUMP_FILE,
    SQLITE_FILE,
    database_kind,
    restore_postgresql,
    snapshot_postgresql,
    snapshot_sqlite,
    sqlite_path,
)
from .files import (
    MANIFEST,
    BackupError,
    attachment_path,
    copy_verified,
    hash_file,
    hash_tree,
    make_dirs,
    write_private,
)

__all__ = ["BackupError", "Summary", "backup", "read_manifest", "restore"]

FORMAT = "decoy-backup/1"
#: Folders of the data directory that are copied by rule rather than as "other files".
MANAGED = {"attachments", "keys", "checkpoints.txt"}


@dataclass(frozen=True)
class Summary:
    """What a backup or restore handled."""

    directory: Path
    database: str
    audit_size: int
    attachments: int
    files: int


# ---------------------------------------------------------------- backup


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
    kind = database_kind(database_url)
    data_dir = data_dir.resolve()
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; a backup goes into a new or empty folder")
    make_dirs(target)
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
        hashes, held, size = snapshot_sqlite(database_url, target)
        database_files = {sqlite_path(database_url)}
    else:
        hashes, held, size = snapshot_postgresql(database_url, target)
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

    files = hash_tree(target)
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
    write_private(target / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    for folder in {target, *((target / name).parent for name in files)}:
        fsync_dir(folder)
    return Summary(target, kind, size, len(hashes), len(files))


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
    if database_kind(url) != kind:
        raise BackupError(f"the backup holds a {kind} database but DECOY_DATABASE_URL selects "
                          f"{database_kind(url)}")
    database_path = sqlite_path(url) if kind == "sqlite" else None
    if database_path is not None and database_path.exists():
        raise BackupError(f"{database_path} exists; restore only into an empty data directory")

    make_dirs(data_dir)
    attachments = 0
    for name, expected in sorted(manifest["files"].items()):
        if name == manifest["database_file"]:
            continue
        copy_verified(source / name, data_dir / name, expected["sha256"])
        attachments += name.startswith("attachments/")
    attachments += int(manifest.get("attachments_in_database", 0))
    make_dirs(data_dir / "attachments")
    database_file = source / manifest["database_file"]
    if database_path is not None:
        copy_verified(database_file, database_path, manifest["files"][manifest["database_file"]]["sha256"])
    else:
        restore_postgresql(database_file, url)
    for folder in {data_dir, data_dir / "keys"}:
        if folder.is_dir():
            fsync_dir(folder)
    return Summary(data_dir, kind, int(manifest["audit_size"]), attachments, len(manifest["files"]))
