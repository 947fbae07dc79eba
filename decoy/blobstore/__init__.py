"""The evidence store for attachment content, addressed by SHA-256, in one of two places.

``ATTACHMENT_STORE = "files"`` (default) keeps files under DATA_DIR/attachments, written before the
message commits. ``"database"`` keeps them as chunked rows written in the caller's transaction, so
that every app server reaches them and a rolled-back message leaves none behind. Readers look in the
configured store first and then in the other one, so that attachments stay readable while
`decoy attachments move` carries them across.

A write has two steps: :func:`prepare` reads the upload once (hash, size, media type, size limit; the
file store writes the file then), and :func:`save` stores it inside the caller's transaction (the
database store writes it then). :func:`store_stream` does both at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import Flask, current_app
from sqlalchemy import Connection

from .. import clock
from . import database, files
from .content import CHUNK, SIGNATURES, BlobMismatch, Received, StoredBlob, chunks_of, receive, sniff
from .database import BlobDamaged

__all__ = [
    "CHUNK", "SIGNATURES", "STORES", "BlobDamaged", "BlobMismatch", "Incoming", "StoredBlob", "configured",
    "copy_problem", "exists", "hash_file", "holds", "iter_blob", "locate", "path_for", "prepare", "problem",
    "root", "save", "sniff", "store_stream",
]

STORES = ("files", "database")


def configured(app: Flask | None = None) -> str:
    """The store new attachments go to: ``files`` or ``database``."""
    return str((app or current_app).config.get("ATTACHMENT_STORE") or "files")


def root(app: Flask | None = None) -> Path:
    """The file store's folder."""
    return Path((app or current_app).config["DATA_DIR"]) / "attachments"


def path_for(sha256: str, app: Flask | None = None) -> Path:
    """Where the file store keeps the file with this hash."""
    return files.path_for(root(app), sha256)


@dataclass
class Incoming:
    """An upload after :func:`prepare`: measured and within the limit; stored once :func:`save` ran."""

    blob: StoredBlob
    received: Received | None = None

    def close(self) -> None:
        """Release the temporary copy of an upload that was not saved."""
        if self.received is not None:
            self.received.close()
            self.received = None


def prepare(stream: BinaryIO, *, max_bytes: int | None = None, app: Flask | None = None) -> Incoming:
    """Read an upload once; raise TooLarge (storing nothing) past ``max_bytes``.

    The file store writes the file now, outside any transaction; the database store only hashes it
    (spooling a stream that cannot be re-read), so that no write lock is held while it does.
    """
    app = app or current_app
    limit = app.config["MAX_ATTACHMENT_BYTES"] if max_bytes is None else max_bytes
    if configured(app) == "files":
        return Incoming(files.write(root(app), chunks_of(stream), limit=limit))
    received = receive(stream, limit)
    return Incoming(received.blob, received)


def save(incoming: Incoming, *, connection: Connection | None = None) -> StoredBlob:
    """Store a prepared upload in the transaction of ``connection`` (database store; files are written)."""
    if incoming.received is None:
        return incoming.blob
    if connection is None:
        raise ValueError("the database attachment store writes in the caller's transaction: "
                         "pass its connection")
    try:
        return database.save(connection, incoming.received, now=clock.now())
    finally:
        incoming.close()


def store_stream(stream: BinaryIO, *, max_bytes: int | None = None, app: Flask | None = None,
                 connection: Connection | None = None) -> StoredBlob:
    """Stream a file into the configured store; raise TooLarge (storing nothing) past ``max_bytes``.

    :param connection: the caller's transaction, required by the database store.
    """
    incoming = prepare(stream, max_bytes=max_bytes, app=app)
    try:
        return save(incoming, connection=connection)
    finally:
        incoming.close()


def holds(store: str, sha256: str, app: Flask, connection: Connection | None = None) -> bool:
    """Whether ``store`` holds a copy of the file."""
    if store == "files":
        return files.exists(root(app), sha256)
    if connection is not None:
        return database.holds(connection, sha256)
    with database.reading(app.extensions["decoy.engine"]) as reading:
        return database.holds(reading, sha256)


def search_order(app: Flask | None = None) -> tuple[str, str]:
    """The configured store first, then the other one."""
    first = configured(app)
    return (first, "files" if first == "database" else "database")


def locate(sha256: str, *, app: Flask | None = None, connection: Connection | None = None) -> str | None:
    """Which store holds the file (the configured one first), or None."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    for store in search_order(app):
        if holds(store, sha256, app, connection):
            return store
    return None


def exists(sha256: str, app: Flask | None = None, *, connection: Connection | None = None) -> bool:
    """Whether either store holds the file."""
    return locate(sha256, app=app, connection=connection) is not None


def iter_blob(
    sha256: str, app: Flask | None = None, *, connection: Connection | None = None
) -> Iterator[bytes]:
    """The stored file in chunks, from whichever store holds it (FileNotFoundError when none does).

    :param connection: read database chunks in this transaction (an export's snapshot); without it each
        chunk is read on a short connection of its own, which suits responses streamed after the request.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    where = locate(sha256, app=app, connection=connection)
    if where == "database":
        if connection is not None:
            yield from database.iter_chunks(connection, sha256)
        else:
            yield from database.iter_chunks_from(app.extensions["decoy.engine"], sha256)
    else:
        yield from files.iter_file(root(app), sha256)


def problem(sha256: str, app: Flask | None = None, *, connection: Connection | None = None) -> str | None:
    """Why a stored copy does not hold this content (missing, altered, a chunk lost); None when intact.

    Every copy is checked: while attachments move between stores, or servers are configured for
    different stores, either copy may be the one served and exported.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    held = [store for store in search_order(app) if holds(store, sha256, app, connection)]
    if not held:
        return f"file {sha256} is missing from the evidence store"
    for store in held:
        found = copy_problem(store, sha256, app, connection)
        if found:
            return f"{found} (in the {store} store)" if len(held) > 1 else found
    return None


def copy_problem(store: str, sha256: str, app: Flask, connection: Connection | None = None) -> str | None:
    """Why the copy in ``store`` does not hold this content; None when it does."""
    if store == "database":
        if connection is not None:
            return database.problem(connection, sha256)
        with database.reading(app.extensions["decoy.engine"]) as reading:
            return database.problem(reading, sha256)
    try:
        digest = hashlib.sha256()
        for chunk in files.iter_file(root(app), sha256):
            digest.update(chunk)
    except FileNotFoundError:
        return f"file {sha256} is missing from the evidence store"
    actual = digest.hexdigest()
    return None if actual == sha256 else f"file {sha256} has been altered (its content hashes to {actual})"


def hash_file(sha256: str, app: Flask | None = None, *, connection: Connection | None = None) -> str | None:
    """Recompute the hash of a stored file (None when it is missing or a chunk of it is)."""
    from .content import hash_chunks

    try:
        return hash_chunks(iter_blob(sha256, app, connection=connection))
    except (FileNotFoundError, BlobDamaged):
        return None
