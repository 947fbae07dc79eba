"""The file store: evidence files by SHA-256 under DATA_DIR/attachments.

A file is streamed to a temporary file beside the store, hashed on the way, fsynced, then renamed to
its hash: a reader never sees a partial file, and an interrupted upload leaves only a temporary file
that no row points to.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import Unavailable
from .content import CHUNK, BlobMismatch, Measure, StoredBlob, check_name

log = logging.getLogger("decoy.evidence")


def path_for(root: Path, sha256: str) -> Path:
    """Where the file with this hash lives under ``root``."""
    check_name(sha256)
    return root / sha256[:2] / sha256[2:4] / sha256


def write(root: Path, chunks: Iterable[bytes], *, limit: int | None = None,
          expected: str | None = None) -> StoredBlob:
    """Write the chunks as one file named by its hash; raise TooLarge past ``limit`` (storing nothing).

    :param expected: the hash the content must have (a copy from another store); on a mismatch
        nothing is kept and BlobMismatch is raised.
    """
    incoming = root / "incoming"
    try:
        incoming.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=incoming, delete=False, prefix="upload-")  # noqa: SIM115
    except OSError as error:
        raise Unavailable(f"the evidence store cannot accept files: {error.strerror}") from error
    temporary = Path(handle.name)
    measure = Measure(limit)
    try:
        with handle:
            for chunk in chunks:
                measure.add(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        blob = measure.blob()
        if expected is not None and blob.sha256 != expected:
            raise BlobMismatch(expected, blob.sha256, "copy written to the file store")
        final = path_for(root, blob.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists() and _intact(final, blob.sha256):
            temporary.unlink()
        else:
            if final.exists():
                _quarantine(root, final)
            os.replace(temporary, final)
            fsync_dir(final.parent)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise Unavailable(f"the evidence store could not write the file: {error.strerror}") from error
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return blob


def _intact(path: Path, sha256: str) -> bool:
    """Whether the stored file still hashes to its name."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest() == sha256


def _quarantine(root: Path, damaged: Path) -> None:
    """Set a stored file that no longer matches its hash aside (for investigation) before it is replaced
    by a fresh upload of the genuine content; the damage is logged, and was already reported by any
    verification run in between."""
    aside = root / "damaged" / f"{damaged.name}.{time.time_ns()}"
    aside.parent.mkdir(parents=True, exist_ok=True)
    os.replace(damaged, aside)
    log.error("stored file %s did not match its hash; set aside as %s and restored from a new upload",
              damaged.name, aside)


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink in ``path`` durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def exists(root: Path, sha256: str) -> bool:
    """Whether the store holds the file."""
    return path_for(root, sha256).is_file()


def iter_file(root: Path, sha256: str) -> Iterator[bytes]:
    """The stored file in chunks (FileNotFoundError when it is missing)."""
    with path_for(root, sha256).open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def remove(root: Path, sha256: str) -> bool:
    """Delete the stored file (after its copy elsewhere was verified); whether there was one."""
    path = path_for(root, sha256)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fsync_dir(path.parent)
    return True
