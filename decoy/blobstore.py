"""Content-addressed file store in the data directory: evidence files by SHA-256.

A file is streamed to a temporary file beside the store, hashed on the way, fsynced, then renamed to
its hash: a reader never sees a partial file, and an interrupted upload leaves only a temporary file
that no row points to.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import Flask, current_app

from .errors import TooLarge, Unavailable

CHUNK = 1024 * 1024

#: Leading bytes of the media types Decoy recognises; anything else is application/octet-stream.
SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"%PDF-", 0, "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"PK\x03\x04", 0, "application/zip"),
    (b"ftypheic", 4, "image/heic"),
    (b"ftypmp4", 4, "video/mp4"),
    (b"ftypisom", 4, "video/mp4"),
]


@dataclass(frozen=True)
class StoredBlob:
    """What the store knows of a file: its hash, size and sniffed media type."""

    sha256: str
    size: int
    media_type: str


def sniff(head: bytes) -> str:
    """The media type from the file's content (never from the name or the client's claim)."""
    for signature, offset, media_type in SIGNATURES:
        if head[offset:offset + len(signature)] == signature:
            if media_type == "image/webp" and not head.startswith(b"RIFF"):
                continue
            return media_type
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the end of the sample is still text.
        try:
            head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return "application/octet-stream"
    return "text/plain" if b"\x00" not in head else "application/octet-stream"


def root(app: Flask | None = None) -> Path:
    """The store's folder."""
    return Path((app or current_app).config["DATA_DIR"]) / "attachments"


def path_for(sha256: str, app: Flask | None = None) -> Path:
    """Where the file with this hash lives."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a lowercase hex SHA-256")
    return root(app) / sha256[:2] / sha256[2:4] / sha256


def store_stream(stream: BinaryIO, *, max_bytes: int | None = None, app: Flask | None = None) -> StoredBlob:
    """Stream a file into the store; raise TooLarge (storing nothing) past ``max_bytes``."""
    app = app or current_app
    limit = app.config["MAX_ATTACHMENT_BYTES"] if max_bytes is None else max_bytes
    base = root(app)
    incoming = base / "incoming"
    try:
        incoming.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=incoming, delete=False, prefix="upload-")  # noqa: SIM115
    except OSError as error:
        raise Unavailable(f"the evidence store cannot accept files: {error.strerror}") from error
    temporary = Path(handle.name)
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with handle:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"the file exceeds the limit of {limit} bytes", field="attachments")
                if len(head) < 512:
                    head += chunk[: 512 - len(head)]
                digest.update(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        sha256 = digest.hexdigest()
        final = path_for(sha256, app)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            temporary.unlink()
        else:
            os.replace(temporary, final)
            _fsync_dir(final.parent)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise Unavailable(f"the evidence store could not write the file: {error.strerror}") from error
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return StoredBlob(sha256=sha256, size=size, media_type=sniff(head))


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def exists(sha256: str, app: Flask | None = None) -> bool:
    """Whether the store holds the file."""
    return path_for(sha256, app).is_file()


def open_blob(sha256: str, app: Flask | None = None) -> BinaryIO:
    """Open a stored file for reading."""
    return path_for(sha256, app).open("rb")


def iter_blob(sha256: str, app: Flask | None = None) -> Iterator[bytes]:
    """The stored file in chunks."""
    with open_blob(sha256, app) as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def hash_file(sha256: str, app: Flask | None = None) -> str | None:
    """Recompute the hash of a stored file (None when it is missing)."""
    try:
        digest = hashlib.sha256()
        for chunk in iter_blob(sha256, app):
            digest.update(chunk)
        return digest.hexdigest()
    except FileNotFoundError:
        return None
