"""The audit log on SQLAlchemy Core (SQLite and PostgreSQL), written inside the caller's transaction.

Appends are serialised: on PostgreSQL by a transaction-scoped advisory lock and a row lock on the
head; on SQLite by the database's single writer, which requires the caller to open every transaction
with ``BEGIN IMMEDIATE`` (otherwise two writers may read the same head, and the second one fails
with "database is locked" instead of waiting). Either way a fork is impossible: the entry index is
the primary key, a trigger admits only the index the head names, and the head moves by one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    insert,
    select,
    text,
)

from audit.appending import (
    APPEND_LOCK_KEY,
    AppendCall,
    Appended,
    HeadRow,
    append_call,
    append_entries,
    append_entry,
    head_errors,
    lock_checkpoints,
)
from audit.checkpoint import Checkpoint, CheckpointError, Signer, split_note
from audit.entry import EntryInput, format_time
from audit.entry_reader import ENTRY_ROWS, LEAF_HASH_ROWS, fetch_rows
from audit.errors import InconsistentLogError
from audit.merkle import EMPTY_ROOT, HASH_SIZE, Frontier
from audit.tree import Tree, TreeCache
from audit.triggers import drop_triggers, install_trigger_sql

__all__ = [
    "APPEND_LOCK_KEY",
    "AppendCall",
    "Appended",
    "AuditStore",
    "AuditTables",
    "HeadRow",
    "InconsistentLogError",
    "StoredCheckpoint",
    "TreeCache",
    "append_call",
    "define_tables",
    "head_errors",
    "drop_triggers",
    "install_triggers",
]

_CHUNK = 50_000


@dataclass(frozen=True)
class AuditTables:
    """The three audit tables."""

    entry: Table
    head: Table
    checkpoint: Table


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint as stored: ``note`` is the full signed note text."""

    id: int
    size: int
    root: bytes
    note: str
    created: datetime


def define_tables(metadata: MetaData) -> AuditTables:
    """Add audit_entry, audit_head and audit_checkpoint to ``metadata`` (once) and return them."""
    if "audit_entry" in metadata.tables:
        return AuditTables(
            metadata.tables["audit_entry"], metadata.tables["audit_head"], metadata.tables["audit_checkpoint"]
        )
    # On SQLite an INTEGER PRIMARY KEY is the rowid, so the log is stored in index order.
    index_type = BigInteger().with_variant(Integer(), "sqlite")
    entry = Table(
        "audit_entry",
        metadata,
        Column("idx", index_type, primary_key=True, autoincrement=False),
        Column("entry", LargeBinary, nullable=False),
        Column("leaf_hash", LargeBinary(32), nullable=False),
        CheckConstraint("idx >= 0", name="ck_audit_entry_idx_nonnegative"),
    )
    head = Table(
        "audit_head",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("size", BigInteger, nullable=False),
        Column("root", LargeBinary(32), nullable=False),
        Column("frontier", LargeBinary, nullable=False),
        CheckConstraint("id = 1", name="ck_audit_head_single_row"),
    )
    checkpoint = Table(
        "audit_checkpoint",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("size", BigInteger, nullable=False, index=True),
        Column("root", LargeBinary(32), nullable=False),
        Column("note", Text, nullable=False),
        # Text "YYYY-MM-DDTHH:MM:SS.ffffffZ" reads back identically on both databases.
        Column("created_at", String(32), nullable=False),
    )
    return AuditTables(entry, head, checkpoint)


def install_triggers(connection: Connection) -> None:
    """Create the append-only triggers for the connection's dialect and the head row; idempotent."""
    for statement in install_trigger_sql(connection.dialect.name):
        connection.execute(text(statement))
    connection.execute(
        text(
            "INSERT INTO audit_head (id, size, root, frontier) VALUES (1, 0, :root, :frontier) "
            "ON CONFLICT (id) DO NOTHING"
        ).bindparams(bindparam("root", type_=LargeBinary), bindparam("frontier", type_=LargeBinary)),
        {"root": EMPTY_ROOT, "frontier": b""},
    )


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.removesuffix("Z")).replace(tzinfo=UTC)


class AuditStore:
    """Appends, reads, proofs and checkpoints of the audit log, each on a connection the caller owns."""

    def __init__(self, tables: AuditTables) -> None:
        self.tables = tables

    def append(self, conn: Connection, entry: EntryInput) -> Appended:
        """Append one entry inside the caller's transaction; O(log n)."""
        return append_entry(conn, entry)

    def append_many(self, conn: Connection, entries: list[EntryInput]) -> list[Appended]:
        """Append several entries, in order, inside the caller's transaction; each is its own leaf."""
        return append_entries(conn, entries)

    def head_row(self, conn: Connection) -> HeadRow:
        """Return the stored head row without locking it."""
        head = self.tables.head
        row = conn.execute(
            select(head.c.size, head.c.root, head.c.frontier).where(head.c.id == 1)
        ).one_or_none()
        if row is None:
            raise InconsistentLogError("audit_head row is missing; run install_triggers")
        return HeadRow(int(row[0]), bytes(row[1]), bytes(row[2]))

    def size(self, conn: Connection) -> int:
        """Return the number of entries in the log."""
        return self.head_row(conn).size

    def head(self, conn: Connection) -> tuple[int, bytes]:
        """Return (size, root) of the log."""
        row = self.head_row(conn)
        return row.size, row.root

    def entries(self, conn: Connection, start: int, limit: int) -> list[tuple[int, bytes, bytes]]:
        """Return up to ``limit`` (index, entry bytes, leaf hash) from index ``start``."""
        if type(start) is not int or type(limit) is not int or start < 0 or limit < 0:
            raise ValueError("start and limit must be non-negative integers")
        table = self.tables.entry
        rows = conn.execute(
            select(table.c.idx, table.c.entry, table.c.leaf_hash)
            .where(table.c.idx >= start)
            .order_by(table.c.idx)
            .limit(limit)
        )
        return [(int(i), bytes(e), bytes(h)) for i, e, h in rows]

    def iter_entry_chunks(
        self, conn: Connection, start: int = 0, chunk: int = _CHUNK
    ) -> Iterator[list[tuple[int, bytes, bytes]]]:
        """Yield every stored row from ``start`` in index order, in chunks of plain tuples."""
        while True:
            rows = fetch_rows(conn, ENTRY_ROWS, {"start": start, "limit": chunk})
            if not rows:
                return
            yield rows
            start = rows[-1][0] + 1

    def _leaf_hash_chunks(self, conn: Connection, start: int, end: int) -> Iterator[list[bytes]]:
        """Yield the stored leaf hashes of indexes [start, end) in chunks; InconsistentLogError on a gap."""
        while start < end:
            rows = fetch_rows(conn, LEAF_HASH_ROWS, {"start": start, "end": min(start + _CHUNK, end)})
            # Indexes are unique and ascending: the first and the last tell whether one is missing.
            if not rows or rows[0][0] != start or rows[-1][0] != start + len(rows) - 1:
                missing = next(
                    (start + i for i, row in enumerate(rows) if row[0] != start + i), start + len(rows)
                )
                raise InconsistentLogError(f"audit entry {missing} is missing")
            yield [bytes(digest) for _, digest in rows]
            start += len(rows)

    def leaf_hashes(self, conn: Connection, size: int | None = None) -> list[bytes]:
        """Return the first ``size`` stored leaf hashes (all when None), read in chunks."""
        head_size = self.size(conn)
        if size is None:
            size = head_size
        if type(size) is not int or not 0 <= size <= head_size:
            raise ValueError(f"size {size!r} out of range 0..{head_size}")
        hashes: list[bytes] = []
        for chunk in self._leaf_hash_chunks(conn, 0, size):
            hashes.extend(chunk)
        return hashes

    def tree(self, conn: Connection, size: int | None = None, cache: TreeCache | None = None) -> Tree:
        """Return a Merkle tree over the first ``size`` stored leaves (all when None).

        With a ``cache`` (a TreeCache the caller keeps between calls), only leaves appended since the
        cache was last used are read and hashed; the cache is checked against the head's root first
        and rebuilt from the stored leaves if it differs.
        """
        if cache is None:
            return Tree(self.leaf_hashes(conn, size))
        head = self.head_row(conn)
        if size is None:
            size = head.size
        if type(size) is not int or not 0 <= size <= head.size:
            raise ValueError(f"size {size!r} out of range 0..{head.size}")
        with cache.lock:
            for attempt in range(2):
                if attempt or len(cache) > head.size and cache.tree(head.size).root() != head.root:
                    cache.clear()
                for chunk in self._leaf_hash_chunks(conn, len(cache), head.size):
                    if not all(len(digest) == HASH_SIZE for digest in chunk):
                        raise InconsistentLogError("a stored leaf hash is not 32 bytes")
                    cache.extend(chunk)
                if cache.tree(head.size).root() == head.root:
                    return cache.tree(size)
            # The stored leaves do not reproduce the head: serve them uncached, as without a cache.
            cache.clear()
        return Tree(self.leaf_hashes(conn, size))

    def inclusion_proof(
        self, conn: Connection, index: int, size: int, cache: TreeCache | None = None
    ) -> list[bytes]:
        """Return the inclusion proof of ``index`` in the tree of ``size``; ValueError if out of range."""
        head_size = self.size(conn)
        if type(index) is not int or type(size) is not int or not 0 <= index < size <= head_size:
            raise ValueError(f"need 0 <= index < size <= {head_size}")
        return self.tree(conn, size, cache).inclusion_proof(index, size)

    def consistency_proof(
        self, conn: Connection, first: int, second: int, cache: TreeCache | None = None
    ) -> list[bytes]:
        """Return the consistency proof between two sizes; ValueError if out of range."""
        head_size = self.size(conn)
        if type(first) is not int or type(second) is not int or not 0 <= first <= second <= head_size:
            raise ValueError(f"need 0 <= first <= second <= {head_size}")
        return self.tree(conn, second, cache).consistency_proof(first, second)

    def _checkpoint_rows(
        self, conn: Connection, latest_only: bool, newest: int | None = None
    ) -> list[StoredCheckpoint]:
        table = self.tables.checkpoint
        query = select(table.c.id, table.c.size, table.c.root, table.c.note, table.c.created_at)
        if latest_only or newest is not None:
            query = query.order_by(table.c.id.desc()).limit(1 if latest_only else newest)
        else:
            query = query.order_by(table.c.id)
        return [
            StoredCheckpoint(int(i), int(size), bytes(root), str(note), _parse_time(str(created)))
            for i, size, root, note, created in conn.execute(query)
        ]

    def latest_checkpoint(self, conn: Connection) -> StoredCheckpoint | None:
        """Return the most recent stored checkpoint, or None."""
        rows = self._checkpoint_rows(conn, latest_only=True)
        return rows[0] if rows else None

    def checkpoints(self, conn: Connection) -> list[StoredCheckpoint]:
        """Return every stored checkpoint, oldest first."""
        return self._checkpoint_rows(conn, latest_only=False)

    def recent_checkpoints(self, conn: Connection, count: int) -> list[StoredCheckpoint]:
        """Return the ``count`` most recent stored checkpoints, newest first."""
        return self._checkpoint_rows(conn, latest_only=False, newest=count)

    def checkpoint(self, conn: Connection, signer: Signer, origin: str, time: datetime) -> StoredCheckpoint:
        """Sign and store a checkpoint of the current head, unless the log contradicts the previous one.

        Returns the latest checkpoint unchanged when the log has not grown. Raises InconsistentLogError
        (and signs nothing) when the stored leaves do not reproduce the head or the previous checkpoint.
        """
        created = format_time(time)
        # Appends go on meanwhile: what is below the head never changes, so the head read here
        # and the leaves read afterwards describe the same tree.
        lock_checkpoints(conn)
        head = self.head_row(conn)
        latest = self.latest_checkpoint(conn)
        if latest is not None:
            # Signatures are verify_store's business; here the row must agree with the note it stores.
            try:
                signed = Checkpoint.parse(split_note(latest.note)[0])
            except CheckpointError as exc:
                raise InconsistentLogError(f"checkpoint {latest.id} note is malformed: {exc}") from exc
            if (signed.size, signed.root) != (latest.size, latest.root):
                raise InconsistentLogError(f"checkpoint {latest.id} row differs from its signed note")
            if latest.size == head.size and latest.root == head.root:
                return latest
            if latest.size > head.size:
                raise InconsistentLogError(
                    f"log has {head.size} entries, fewer than checkpoint {latest.id} ({latest.size})"
                )
        # One pass over the stored leaf hashes gives the root at the previous checkpoint's size and at
        # the head's: when both match, the head's tree extends the checkpointed one (its first
        # latest.size leaves are the same), which is what a consistency proof would show.
        frontier = Frontier.empty()
        previous_root = EMPTY_ROOT
        mark = latest.size if latest is not None else 0
        try:
            for chunk in self._leaf_hash_chunks(conn, 0, head.size):
                if frontier.size < mark <= frontier.size + len(chunk):
                    split = mark - frontier.size
                    frontier.extend(chunk[:split])
                    previous_root = frontier.root()
                    chunk = chunk[split:]  # noqa: PLW2901
                frontier.extend(chunk)
        except ValueError as exc:
            raise InconsistentLogError(f"stored leaf hashes are malformed: {exc}") from exc
        if frontier.root() != head.root:
            raise InconsistentLogError("stored leaves do not reproduce the head root")
        if latest is not None and previous_root != latest.root:
            raise InconsistentLogError(
                f"log is not consistent with checkpoint {latest.id} of size {latest.size}"
            )
        note = signer.sign(Checkpoint(origin, head.size, head.root))
        table = self.tables.checkpoint
        result = conn.execute(
            insert(table).values(size=head.size, root=head.root, note=note, created_at=created)
        )
        key = result.inserted_primary_key
        if key is None:
            raise InconsistentLogError("the database did not return the checkpoint's id")
        identifier = int(key[0])
        return StoredCheckpoint(identifier, head.size, head.root, note, _parse_time(created))
