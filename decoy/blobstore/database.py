"""The database store: a header row per file and its content in ~1 MiB chunks, written in the caller's
transaction, so that a file commits or rolls back with the message and audit entry that reference it.

Chunks are written only under their final hash (the upload was hashed when it was received), and only
when no copy is stored yet: two uploads of the same content store it once, and a concurrent second
writer waits on the header's unique key until the first commits or rolls back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select

from ..models import EvidenceBlob, EvidenceBlobChunk, EvidenceBlobRelease
from .content import CHUNK, BlobMismatch, Measure, Received, StoredBlob, check_name, hash_chunks

_blob = EvidenceBlob.__table__  # type: ignore[attr-defined]
_chunk = EvidenceBlobChunk.__table__  # type: ignore[attr-defined]
_release = EvidenceBlobRelease.__table__  # type: ignore[attr-defined]


class BlobDamaged(RuntimeError):
    """A stored copy cannot be read back whole (a chunk is missing)."""


def _insert_if_absent(connection: Connection, values: dict[str, Any]) -> bool:
    """Insert the header unless one with this hash exists (or is being inserted); whether it was."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    statement = (
        dialect_insert(_blob).values(values).on_conflict_do_nothing(index_elements=["sha256"]).returning(_blob.c.id)
    )
    return connection.execute(statement).first() is not None


def save(
    connection: Connection, received: Received, *, now: datetime, expected: str | None = None
) -> StoredBlob:
    """Store a received file in the transaction of ``connection`` unless a copy exists; re-hash on the way.

    :param expected: the hash the content must have (a copy from another store).
    :raises BlobMismatch: the content differs from its expected hash, or changed between the two reads;
        the caller's transaction must then roll back.
    """
    blob = received.blob
    if expected is not None and blob.sha256 != expected:
        raise BlobMismatch(expected, blob.sha256, "source")
    chunk_count = -(-blob.size // CHUNK)
    header = {
        "sha256": blob.sha256, "size": blob.size, "chunk_size": CHUNK, "chunk_count": chunk_count,
        "media_type": blob.media_type, "stored_at": now,
    }
    if not _insert_if_absent(connection, header):
        return blob
    measure = Measure()
    seq = 0
    for seq, chunk in enumerate(received.chunks()):
        measure.add(chunk)
        connection.execute(insert(_chunk).values(sha256=blob.sha256, seq=seq, data=chunk))
    again = measure.blob()
    if again.sha256 != blob.sha256 or again.size != blob.size or (chunk_count and seq != chunk_count - 1):
        raise BlobMismatch(blob.sha256, again.sha256, "file read a second time")
    return blob


def holds(connection: Connection, sha256: str) -> bool:
    """Whether a copy with this hash is stored."""
    found = connection.execute(select(_blob.c.id).where(_blob.c.sha256 == check_name(sha256)))
    return found.first() is not None


def chunk_count(connection: Connection, sha256: str) -> int | None:
    """How many chunks hold the stored copy (None when there is none)."""
    found = connection.execute(select(_blob.c.chunk_count).where(_blob.c.sha256 == check_name(sha256)))
    value = found.scalar_one_or_none()
    return None if value is None else int(value)


def _read_chunk(connection: Connection, sha256: str, seq: int) -> bytes:
    data = connection.execute(
        select(_chunk.c.data).where(_chunk.c.sha256 == sha256, _chunk.c.seq == seq)
    ).scalar_one_or_none()
    if data is None:
        raise BlobDamaged(f"chunk {seq} of stored file {sha256} is missing")
    return bytes(data)


def iter_chunks(connection: Connection, sha256: str) -> Iterator[bytes]:
    """The stored copy chunk by chunk, one query each (FileNotFoundError when there is none)."""
    count = chunk_count(connection, sha256)
    if count is None:
        raise FileNotFoundError(f"stored file {sha256} is not in the database")
    for seq in range(count):
        yield _read_chunk(connection, sha256, seq)


def iter_chunks_from(engine: Engine, sha256: str) -> Iterator[bytes]:
    """The stored copy chunk by chunk, each read on a connection held only for that chunk.

    For responses streamed after the request has ended: a slow client holds no connection, and on
    SQLite a read never takes the write lock.
    """
    with reading(engine) as connection:
        count = chunk_count(connection, sha256)
    if count is None:
        raise FileNotFoundError(f"stored file {sha256} is not in the database")
    for seq in range(count):
        with reading(engine) as connection:
            data = _read_chunk(connection, sha256, seq)
        yield data


class reading:  # noqa: N801 - used like a function, as a context manager
    """A short read-only connection (deferred BEGIN on SQLite, so it never takes the write lock)."""

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.connect()
        if engine.dialect.name == "sqlite":
            self.connection.execution_options(decoy_snapshot=True)

    def __enter__(self) -> Connection:
        return self.connection

    def __exit__(self, *_exc: object) -> None:
        self.connection.close()


def problem(connection: Connection, sha256: str) -> str | None:
    """Why the stored copy does not hold this content (None when it does); missing counts too."""
    try:
        actual = hash_chunks(iter_chunks(connection, sha256))
    except FileNotFoundError:
        return f"file {sha256} is missing from the evidence store"
    except BlobDamaged as error:
        return f"file {sha256} has been altered ({error})"
    extra = connection.execute(
        select(func.count()).select_from(_chunk).where(
            _chunk.c.sha256 == sha256, _chunk.c.seq >= chunk_count(connection, sha256)
        )
    ).scalar_one()
    if actual != sha256:
        return f"file {sha256} has been altered (its stored chunks hash to {actual})"
    if extra:
        return f"file {sha256} has been altered ({extra} chunks beyond its recorded length)"
    return None


def stored_hashes(connection: Connection) -> set[str]:
    """Every hash with a copy in the database."""
    return {str(row[0]) for row in connection.execute(select(_blob.c.sha256))}


def release(
    connection: Connection, sha256: str, *, actor: str, now: datetime, destination: str = "files"
) -> bool:
    """Record that the copy was verified elsewhere, then delete it (the triggers require the record).

    Returns whether there was a copy to remove.
    """
    blob_id = connection.execute(select(_blob.c.id).where(_blob.c.sha256 == check_name(sha256))).scalar()
    if blob_id is None:
        return False
    connection.execute(insert(_release).values(
        blob_id=blob_id, sha256=sha256, destination=destination, released_by=actor[:64], released_at=now,
    ))
    connection.execute(delete(_chunk).where(_chunk.c.sha256 == sha256))
    connection.execute(delete(_blob).where(_blob.c.id == blob_id))
    return True
