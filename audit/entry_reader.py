"""Reading stored entry rows, in the verifying process and in verification worker processes.

A worker forked from the verifying process inherits its engine (URL, connect arguments, connect
events) but must not touch the parent's pooled connections: ``dispose(close=False)`` forgets them
without closing them under the parent, and the worker opens its own. Without a snapshot to share it
reads on an AUTOCOMMIT connection (each statement reads what is committed, and no transaction is
begun: an engine's "begin" listener that opens write transactions, such as SQLite's ``BEGIN
IMMEDIATE``, must leave AUTOCOMMIT connections alone).

Workers must read what the verifying connection sees. They read only indexes below the head that
connection read, which an append-only log never changes; on PostgreSQL they share the verifying
transaction's snapshot when it has one (REPEATABLE READ), and they are not used at all when that
transaction has written anything (only it sees its own writes). On SQLite the caller vouches for that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.util import Finalize
from typing import Any

from sqlalchemy import BigInteger, Connection, Engine, TextClause, bindparam, text

__all__ = ["ENTRY_ROWS", "LEAF_HASH_ROWS", "EntryReader", "ReaderPlan", "fetch_rows", "reader_plan"]

_INDEXES = (bindparam("start", type_=BigInteger), bindparam("end", type_=BigInteger))
#: Up to ``limit`` rows (index, entry bytes, leaf hash) from index ``start`` on, in index order.
ENTRY_ROWS = text(
    "SELECT idx, entry, leaf_hash FROM audit_entry WHERE idx >= :start ORDER BY idx LIMIT :limit"
).bindparams(bindparam("start", type_=BigInteger), bindparam("limit", type_=BigInteger))
#: The rows (index, leaf hash) of the indexes ``start``..``end - 1``, in index order.
LEAF_HASH_ROWS = text(
    "SELECT idx, leaf_hash FROM audit_entry WHERE idx >= :start AND idx < :end ORDER BY idx"
).bindparams(*_INDEXES)
#: The rows (entry bytes, leaf hash) of the indexes ``start``..``end - 1``, in index order.
RANGE_ROWS = text(
    "SELECT entry, leaf_hash FROM audit_entry WHERE idx >= :start AND idx < :end ORDER BY idx"
).bindparams(*_INDEXES)
#: How long a worker waits for a lock on PostgreSQL before it gives its block back to the verifier.
LOCK_TIMEOUT = "10s"
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f-]{1,64}\Z")


def fetch_rows(
    conn: Connection, statement: TextClause, parameters: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """The rows of a statement as plain tuples (they are sent to worker processes, and pickled)."""
    return [tuple(row) for row in conn.execute(statement, parameters)]


@dataclass(frozen=True)
class ReaderPlan:
    """How workers read: on connections of ``engine``, in the exported PostgreSQL ``snapshot`` if any."""

    engine: Engine
    snapshot: str | None = None


def reader_plan(conn: Connection, read_only: bool) -> ReaderPlan | None:
    """How forked workers can read what ``conn`` sees below its head, or None if they cannot.

    ``read_only``: the caller's word that its transaction has written nothing (checked on PostgreSQL).
    """
    engine = conn.engine
    if engine.dialect.name == "sqlite":
        database = engine.url.database or ""
        in_memory = database in ("", ":memory:") or "mode=memory" in database
        if not read_only or in_memory or engine.url.query.get("mode") == "memory":
            return None
        return ReaderPlan(engine)
    if engine.dialect.name != "postgresql":
        return None
    if conn.execute(text("SELECT txid_current_if_assigned()")).scalar() is not None:
        return None  # this transaction wrote: only it sees its own writes
    isolation = conn.execute(text("SHOW transaction_isolation")).scalar()
    if isolation == "repeatable read":
        return ReaderPlan(engine, conn.execute(text("SELECT pg_export_snapshot()")).scalar())
    if isolation == "read committed":
        return ReaderPlan(engine)  # every statement reads what is committed, as the verifier's do
    return None


class EntryReader:
    """Entry rows read on a connection of this (forked) process, closed when the process ends."""

    def __init__(self, plan: ReaderPlan) -> None:
        engine = plan.engine
        engine.dispose(close=False)
        if plan.snapshot is None:
            self._connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        else:
            if not _SNAPSHOT_ID.match(plan.snapshot):
                raise ValueError(f"unexpected snapshot id {plan.snapshot!r}")
            # The snapshot is set by the first statement of a REPEATABLE READ transaction, kept open.
            self._connection = engine.connect().execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            self._connection.execute(text(f"SET TRANSACTION SNAPSHOT '{plan.snapshot}'"))
        Finalize(self, self._connection.close, exitpriority=10)
        if engine.dialect.name == "postgresql":
            self._connection.execute(text(f"SET lock_timeout = '{LOCK_TIMEOUT}'"))

    def rows(self, start: int, end: int) -> list[tuple[Any, ...]]:
        """The rows (entry, leaf hash) of indexes ``start``..``end - 1`` there are, as the driver has them.

        As many rows as indexes means none is missing (indexes are unique).
        """
        return fetch_rows(self._connection, RANGE_ROWS, {"start": start, "end": end})
