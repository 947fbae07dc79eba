"""What every attachment store shares: chunk size, media-type sniffing, and receiving a stream once.

Receiving reads the upload once, hashing it and refusing it past the size limit before anything is
stored; the database store then copies it in a second pass inside the caller's transaction. A stream
that cannot be re-read is spooled to a private temporary file on the way, so memory never grows with
the size of the file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from flask_babel import gettext as _

from ..errors import TooLarge, Unavailable

CHUNK = 1024 * 1024
HEAD = 512

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


class BlobMismatch(RuntimeError):
    """Content does not hash to the name it is stored or copied under."""

    def __init__(self, sha256: str, actual: str, where: str) -> None:
        super().__init__(f"{sha256}: the {where} hashes to {actual}")
        self.sha256 = sha256
        self.actual = actual


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


def check_name(sha256: str) -> str:
    """``sha256`` if it is a lowercase hex SHA-256; else ValueError (it becomes a path or a key)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a lowercase hex SHA-256")
    return sha256


def chunks_of(stream: BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    """The stream in pieces of exactly ``size`` bytes (the last one shorter), however the stream reads."""
    while True:
        piece = stream.read(size)
        if not piece:
            return
        while len(piece) < size:
            more = stream.read(size - len(piece))
            if not more:
                break
            piece += more
        yield piece
        if len(piece) < size:
            return


class Measure:
    """Hash, size and leading bytes of content seen chunk by chunk, with a size limit."""

    def __init__(self, limit: int | None = None) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self.head = b""
        self.limit = limit

    def add(self, chunk: bytes) -> None:
        """Account for the next chunk; raise TooLarge past the limit."""
        self.size += len(chunk)
        if self.limit is not None and self.size > self.limit:
            message = _("the file exceeds the limit of %(limit)d bytes", limit=self.limit)
            raise TooLarge(message, field="attachments")
        if len(self.head) < HEAD:
            self.head += chunk[: HEAD - len(self.head)]
        self.digest.update(chunk)

    def blob(self) -> StoredBlob:
        """What was measured."""
        return StoredBlob(sha256=self.digest.hexdigest(), size=self.size, media_type=sniff(self.head))


def hash_chunks(chunks: Iterable[bytes]) -> str:
    """The SHA-256 of the concatenated chunks."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


class Received:
    """An upload read once (hashed, measured, within the limit) and ready to be read again from its start."""

    def __init__(self, blob: StoredBlob, source: BinaryIO, start: int, spool: BinaryIO | None) -> None:
        self.blob = blob
        self._source = source
        self._start = start
        self._spool = spool

    def chunks(self) -> Iterator[bytes]:
        """The content again, in chunks of exactly CHUNK bytes."""
        stream = self._spool or self._source
        stream.seek(self._start)
        return chunks_of(stream)

    def close(self) -> None:
        """Remove the spool, if one was needed (the caller's own stream stays open)."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None


def _position(stream: BinaryIO) -> int | None:
    """Where a re-readable stream stands now; None when it cannot be re-read."""
    try:
        if not stream.seekable():
            return None
        return stream.tell()
    except (AttributeError, OSError, ValueError):
        return None


def receive(stream: BinaryIO, limit: int | None) -> Received:
    """Read ``stream`` once: hash, size and media type; raise TooLarge past ``limit`` (keeping nothing)."""
    start = _position(stream)
    spool: BinaryIO | None = None
    if start is None:
        try:
            spool = tempfile.TemporaryFile(prefix="decoy-upload-")  # noqa: SIM115 - closed by Received
        except OSError as error:
            raise Unavailable(f"the evidence store cannot accept files: {error.strerror}") from error
    measure = Measure(limit)
    try:
        for chunk in chunks_of(stream):
            measure.add(chunk)
            if spool is not None:
                spool.write(chunk)
    except OSError as error:
        if spool is not None:
            spool.close()
        raise Unavailable(f"the evidence store could not receive the file: {error.strerror}") from error
    except BaseException:
        if spool is not None:
            spool.close()
        raise
    return Received(measure.blob(), stream, start or 0, spool)


class Prefixed:
    """A stream that yields ``head`` again before the rest of ``stream`` (after its head was sniffed)."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self.head = head
        self.stream = stream

    def read(self, size: int = -1) -> bytes:
        """The sniffed head first, then the rest of the stream."""
        if self.head:
            chunk, self.head = self.head, b""
            return chunk
        return self.stream.read(size)


def storable_name(value: Any, default: str) -> str:
    """A client's file name reduced to its last part, printable characters only (shown, never trusted)."""
    name = os.path.basename(str(value or "").replace("\\", "/")).strip()
    name = "".join(character for character in name if character.isprintable())
    return (name or default)[:255]
