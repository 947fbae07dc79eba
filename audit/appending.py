"""Appending one entry to the stored log, inside the caller's transaction, serialised.

SQLite: the caller's transaction holds the single write lock from BEGIN IMMEDIATE; the head is read,
the entry written and the head moved, three statements. PostgreSQL: one call of the database function
audit_append_entry (audit.triggers) takes the advisory lock and the head row FOR UPDATE, builds the
entry around its index, and writes entry and head. A caller whose own database function records a
change and its entry in one call hands it an AppendCall's arguments (see append_call).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import BigInteger, Connection, LargeBinary, bindparam, func, select, text
from sqlalchemy.exc import DBAPIError

from audit.entry import EntryInput, encode_entry, encode_entry_parts
from audit.errors import InconsistentLogError
from audit.merkle import Frontier, leaf_hash
from audit.triggers import HEAD_CORRUPT

__all__ = [
    "APPEND_LOCK_KEY",
    "CHECKPOINT_LOCK_KEY",
    "AppendCall",
    "Appended",
    "HeadRow",
    "append_call",
    "append_entries",
    "append_entry",
    "head_errors",
    "lock_checkpoints",
]

# Fixed keys for pg_advisory_xact_lock: "decoy-audit-append" / "-checkpoint" folded to signed 64 bits.
APPEND_LOCK_KEY = 0x6465636F79617564
CHECKPOINT_LOCK_KEY = 0x6465636F79636B70

# Built once: SQLAlchemy caches each statement's compiled form, and the append lock is held meanwhile.
_HEAD = text("SELECT size, root, frontier FROM audit_head WHERE id = 1")
_INSERT_ENTRY = text(
    "INSERT INTO audit_entry (idx, entry, leaf_hash) VALUES (:idx, :entry, :leaf)"
).bindparams(bindparam("entry", type_=LargeBinary), bindparam("leaf", type_=LargeBinary))
_SQLITE_INSERT_ENTRY = "INSERT INTO audit_entry (idx, entry, leaf_hash) VALUES (?, ?, ?)"
_SQLITE_MOVE_HEAD = "UPDATE audit_head SET size = ?, root = ?, frontier = ? WHERE id = 1 AND size = ?"
_MOVE_HEAD = text(
    "UPDATE audit_head SET size = :size, root = :root, frontier = :frontier WHERE id = 1 AND size = :old"
).bindparams(bindparam("root", type_=LargeBinary), bindparam("frontier", type_=LargeBinary))
_PG_APPEND = select(
    func.audit_append_entry(
        bindparam("key", type_=BigInteger),
        bindparam("prefix", type_=LargeBinary),
        bindparam("suffix", type_=LargeBinary),
        type_=BigInteger,
    )
)
#: PostgreSQL, for several entries: every entry in one statement, then the head moved once past them; the
#: triggers judge each entry (the next index) and the move (to one past the last entry), and at commit
#: that no entry lies beyond the head. Moving the head once keeps its lookups short (see audit.triggers).
_PG_WRITE_ENTRIES = text(
    "INSERT INTO audit_entry (idx, entry, leaf_hash) "
    "SELECT * FROM unnest(CAST(:idx AS bigint[]), CAST(:entry AS bytea[]), CAST(:leaf AS bytea[]))"
)
_PG_HEAD_FOR_APPEND = text("SELECT size, root, frontier FROM audit_head WHERE id = 1 FOR UPDATE")
_PG_APPEND_LOCK = select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger)))
_LOCK_CHECKPOINTS = select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger)))


@dataclass(frozen=True)
class Appended:
    """An appended entry: its index, leaf hash and exact stored bytes."""

    index: int
    leaf_hash: bytes
    entry_bytes: bytes


@dataclass(frozen=True)
class HeadRow:
    """The stored head: size, root and the frontier that makes the next append O(log n)."""

    size: int
    root: bytes
    frontier: bytes


@dataclass(frozen=True)
class AppendCall:
    """The arguments of ``audit_append_entry(lock_key, prefix, suffix)`` for one entry (PostgreSQL).

    The entry is ``prefix || index || suffix``; the database decides the index. A caller may make the
    call inside a database function of its own, so that a change and its entry cost one statement.
    """

    lock_key: int
    prefix: bytes
    suffix: bytes

    def appended(self, index: int) -> Appended:
        """The entry the call appended at ``index`` (the value audit_append_entry returned)."""
        data = self.prefix + str(index).encode() + self.suffix
        return Appended(index, leaf_hash(data), data)


def append_call(entry: EntryInput) -> AppendCall:
    """The arguments that append ``entry`` with audit_append_entry; ValueError for an invalid entry."""
    prefix, suffix = encode_entry_parts(entry)
    return AppendCall(APPEND_LOCK_KEY, prefix, suffix)


@contextmanager
def head_errors() -> Iterator[None]:
    """Raise InconsistentLogError where audit_append_entry refused a corrupt head (SQLSTATE DA001)."""
    try:
        yield
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == HEAD_CORRUPT:
            raise InconsistentLogError(str(error.orig).splitlines()[0]) from error
        raise


def lock_checkpoints(conn: Connection) -> None:
    """Serialise checkpoint signers: on PostgreSQL a transaction-level advisory lock of their own (an
    appender's lock is another); on SQLite the writing transaction already holds the one write lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_CHECKPOINTS, {"key": CHECKPOINT_LOCK_KEY})


def append_entry(conn: Connection, entry: EntryInput) -> Appended:
    """Append one entry inside the caller's transaction (its first statement begins one); O(log n)."""
    if conn.dialect.name == "postgresql":
        call = append_call(entry)
        with head_errors():
            index = conn.execute(
                _PG_APPEND, {"key": call.lock_key, "prefix": call.prefix, "suffix": call.suffix}
            ).scalar_one()
        return call.appended(int(index))
    row = conn.execute(_HEAD).one_or_none()
    if row is None:
        raise InconsistentLogError("audit_head row is missing; run install_triggers")
    size = int(row[0])
    frontier = Frontier.from_bytes(size, bytes(row[2]))
    if frontier.root() != bytes(row[1]):
        raise InconsistentLogError("audit_head frontier does not match its root")
    data = encode_entry(entry, size)
    digest = leaf_hash(data)
    frontier.append(digest)
    conn.execute(_INSERT_ENTRY, {"idx": size, "entry": data, "leaf": digest})
    moved = conn.execute(
        _MOVE_HEAD, {"size": size + 1, "root": frontier.root(), "frontier": frontier.to_bytes(), "old": size}
    ).rowcount
    if moved != 1:
        raise InconsistentLogError("audit_head moved during an append: appends are not serialised")
    return Appended(size, digest, data)


def append_entries(conn: Connection, entries: Sequence[EntryInput]) -> list[Appended]:
    """Append several entries, in order, inside the caller's transaction; each is its own leaf.

    The head is locked and read once (PostgreSQL: the append lock and the head row FOR UPDATE, as
    audit_append_entry takes them) and the entries and the tree are computed here. On PostgreSQL every
    entry is written in one statement and the head moved once past them; on SQLite, whose triggers admit
    one entry per move of the head, each entry is written with its move, two statements on the driver's
    cursor. The triggers judge every write either way.
    """
    if not entries:
        return []
    postgresql = conn.dialect.name == "postgresql"
    if postgresql:
        conn.execute(_PG_APPEND_LOCK, {"key": APPEND_LOCK_KEY})
    row = conn.execute(_PG_HEAD_FOR_APPEND if postgresql else _HEAD).one_or_none()
    if row is None:
        raise InconsistentLogError("audit_head row is missing; run install_triggers")
    size = int(row[0])
    frontier = Frontier.from_bytes(size, bytes(row[2]))
    if frontier.root() != bytes(row[1]):
        raise InconsistentLogError("audit_head frontier does not match its root")
    appended: list[Appended] = []
    moves: list[dict[str, object]] = []
    for index, entry in enumerate(entries, start=size):
        data = encode_entry(entry, index)
        digest = leaf_hash(data)
        frontier.append(digest)
        appended.append(Appended(index, digest, data))
        if not postgresql:
            moves.append(
                {
                    "idx": index,
                    "entry": data,
                    "leaf": digest,
                    "size": index + 1,
                    "root": frontier.root(),
                    "frontier": frontier.to_bytes(),
                }
            )
    if not postgresql:
        _write_on_sqlite(conn, moves)
        return appended
    with head_errors():
        conn.execute(
            _PG_WRITE_ENTRIES,
            {
                "idx": [item.index for item in appended],
                "entry": [item.entry_bytes for item in appended],
                "leaf": [item.leaf_hash for item in appended],
            },
        )
        head = {"size": size + len(entries), "root": frontier.root(), "frontier": frontier.to_bytes()}
        moved = conn.execute(_MOVE_HEAD, {**head, "old": size}).rowcount
    if moved != 1:
        raise InconsistentLogError("audit_head moved during an append: appends are not serialised")
    return appended


def _write_on_sqlite(conn: Connection, moves: list[dict[str, object]]) -> None:
    cursor = conn.connection.cursor()
    try:
        for move in moves:
            cursor.execute(_SQLITE_INSERT_ENTRY, (move["idx"], move["entry"], move["leaf"]))
            cursor.execute(_SQLITE_MOVE_HEAD, (move["size"], move["root"], move["frontier"], move["idx"]))
            if cursor.rowcount != 1:
                raise InconsistentLogError("audit_head moved during an append: appends are not serialised")
    finally:
        cursor.close()
