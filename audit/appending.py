"""Appending one entry to the stored log, inside the caller's transaction, serialised.

SQLite: the caller's transaction holds the single write lock from BEGIN IMMEDIATE; the head is read,
the entry written and the head moved on the driver's cursor. PostgreSQL: one call of the database
function audit_append_entry (audit.triggers) takes the advisory lock and the head row FOR UPDATE,
builds the entry around its index, and writes entry and head.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Insert,
    LargeBinary,
    bindparam,
    case,
    func,
    literal_column,
    select,
)
from sqlalchemy.exc import DBAPIError

from audit.driver import DriverStatement
from audit.entry import EntryInput, encode_entry, encode_entry_parts
from audit.errors import InconsistentLogError
from audit.merkle import Frontier, leaf_hash
from audit.triggers import HEAD_CORRUPT

__all__ = [
    "APPEND_LOCK_KEY",
    "CHECKPOINT_LOCK_KEY",
    "Appended",
    "Companion",
    "HeadRow",
    "append_entry",
    "lock_checkpoints",
]

# Fixed keys for pg_advisory_xact_lock: "decoy-audit-append" / "-checkpoint" folded to signed 64 bits.
APPEND_LOCK_KEY = 0x6465636F79617564
CHECKPOINT_LOCK_KEY = 0x6465636F79636B70
# Raw driver statements: the append lock is held until commit, so every statement compiled or round
# trip saved shortens the queue of writers. SQLite reads the head, writes the entry row, then moves the
# head; PostgreSQL does the whole append (locks, head, entry, tree) in one call of audit_append_entry.
_SQLITE_APPEND = (
    "SELECT size, root, frontier FROM audit_head WHERE id = 1",
    "INSERT INTO audit_entry (idx, entry, leaf_hash) VALUES (?, ?, ?)",
    "UPDATE audit_head SET size = ?, root = ?, frontier = ? WHERE id = 1 AND size = ?",
)
#: The call, alone or with a companion INSERT in its WITH clause (run on the driver's cursor).
_PG_APPEND_CALL = select(
    func.audit_append_entry(
        bindparam("audit_lock_key", type_=BigInteger),
        bindparam("audit_prefix", type_=LargeBinary),
        bindparam("audit_suffix", type_=LargeBinary),
    )
)


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


def lock_checkpoints(conn: Connection) -> None:
    """Serialise checkpoint signers: on PostgreSQL a transaction-level advisory lock of their own (an
    appender's lock is another); on SQLite the writing transaction already holds the one write lock."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (CHECKPOINT_LOCK_KEY,))


#: A row written with the entry: an INSERT whose values are bound parameters, and their values.
Companion = tuple[Insert, Mapping[str, Any]]


def append_entry(conn: Connection, entry: EntryInput, companion: Companion | None = None) -> Appended:
    """Append one entry inside the caller's transaction; O(log n).

    ``companion``: the row the entry records, written in the same transaction. On PostgreSQL the INSERT
    rides in the append's own statement (a data-modifying WITH), so that row and entry cost one round
    trip; elsewhere it is executed just before. Its parameter names must not start with ``audit_``.
    """
    if not conn.in_transaction():
        conn.begin()  # as any statement through SQLAlchemy would: the append rolls back with it
    if conn.dialect.name == "postgresql":
        return _append_in_postgresql(conn, entry, companion)
    if companion is not None:
        conn.execute(*companion)
    # SQLite: the driver's cursor directly (a statement through SQLAlchemy costs ten times as much
    # as SQLite's work here, and the write lock is held meanwhile); its errors wrapped as SQLAlchemy's.
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    select_sql, insert_sql, update_sql = _SQLITE_APPEND
    statement: str = select_sql
    try:
        row = cursor.execute(select_sql).fetchone()
        if row is None:
            raise InconsistentLogError("audit_head row is missing; run install_triggers")
        size = int(row[0])
        frontier = Frontier.from_bytes(size, bytes(row[2]))
        if frontier.root() != bytes(row[1]):
            raise InconsistentLogError("audit_head frontier does not match its root")
        data = encode_entry(entry, size)
        digest = leaf_hash(data)
        frontier.append(digest)
        statement = insert_sql
        cursor.execute(insert_sql, (size, data, digest))
        statement = update_sql
        update = (size + 1, frontier.root(), frontier.to_bytes(), size)
        moved = cursor.execute(update_sql, update).rowcount
    except conn.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(statement, None, error, conn.dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()
    if moved != 1:
        raise InconsistentLogError("audit_head moved during an append: appends are not serialised")
    return Appended(size, digest, data)


_APPEND_ALONE = DriverStatement(_PG_APPEND_CALL)


@lru_cache(maxsize=64)
def _append_with(companion: Insert) -> DriverStatement:
    """The append call with ``companion`` in its WITH clause (built once per companion statement).

    The call is made only if the companion wrote exactly one row (counting its RETURNING also runs the
    INSERT before the append takes its lock); otherwise the statement answers NULL and writes nothing.
    """
    written = companion.returning(literal_column("1")).cte("audit_companion")
    call = _PG_APPEND_CALL.selected_columns[0]
    one_row = select(func.count()).select_from(written).scalar_subquery() == 1
    return DriverStatement(select(case((one_row, call), else_=None)))


def _append_in_postgresql(conn: Connection, entry: EntryInput, companion: Companion | None) -> Appended:
    """The whole append in one round trip (audit_append_entry, installed with the triggers)."""
    prefix, suffix = encode_entry_parts(entry)
    parameters = {"audit_lock_key": APPEND_LOCK_KEY, "audit_prefix": prefix, "audit_suffix": suffix}
    statement = _APPEND_ALONE
    if companion is not None:
        statement = _append_with(companion[0])
        parameters = {**companion[1], **parameters}
    try:
        index = statement.rows(conn, parameters)[0][0]
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == HEAD_CORRUPT:
            raise InconsistentLogError(str(error.orig).splitlines()[0]) from error
        raise
    if index is None:
        raise InconsistentLogError("the row the entry records was not written; nothing was appended")
    data = prefix + str(index).encode() + suffix
    return Appended(index, leaf_hash(data), data)
