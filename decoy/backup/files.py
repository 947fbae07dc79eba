"""Files of a backup: copied and hashed on the way, written privately (mode 0600)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
CHUNK = 1024 * 1024


class BackupError(RuntimeError):
    """The backup or restore cannot be made as asked; the message says why."""


def make_dirs(path: Path) -> None:
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
    make_dirs(target.parent)
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


def hash_tree(root: Path) -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            sha256, size = hash_file(path)
            files[path.relative_to(root).as_posix()] = {"sha256": sha256, "size": size}
    return files


def write_private(path: Path, content: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
