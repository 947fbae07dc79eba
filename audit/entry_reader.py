"""Reading stored entry rows in a verification worker process, on a database connection of its own.

A worker forked from the verifying process inherits its engine (URL, connect arguments, connect
events) but must not touch the parent's pooled connections: ``dispose(close=False)`` forgets them
without closing them under the parent, and the worker opens its own. It reads with the raw driver
outside any SQLAlchemy transaction, so that engine events that open write transactions (SQLite's
``BEGIN IMMEDIATE``) never run in a reader.

Workers must read what the verifying connection sees. They read only indexes below the head that
connection read, which an append-only log never changes; on PostgreSQL they share the verifying
transaction's snapshot when it has one (REPEATABLE READ), and they are not used at all when that
transaction has written anything (only it sees its own writes). On SQLite the caller vouches for that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from multiprocessing.util import Finalize
from typing import Any

from sqlalchemy import Connection, Engine

__all__ = ["ENTRY_ROWS_SQL", "EntryReader", "ReaderPlan", "reader_plan"]

#: Up to a number of rows (index, entry bytes, leaf hash) from an index on, in index order.
ENTRY_ROWS_SQL = "SELECT idx, entry, leaf_hash FROM audit_entry WHERE idx >= {mark} ORDER BY idx LIMIT {mark}"
#: The rows (entry bytes, leaf hash) of the indexes in a range, in index order.
RANGE_SQL = "SELECT entry, leaf_hash FROM audit_entry WHERE idx >= {mark} AND idx < {mark} ORDER BY idx"
#: How long a worker waits for a lock on PostgreSQL before it gives its block back to the verifier.
LOCK_TIMEOUT = "10s"
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f-]{1,64}\Z")


def placeholder(engine: Engine | Connection) -> str:
    """The driver's parameter mark."""
    return "?" if engine.dialect.paramstyle == "qmark" else "%s"


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
    if conn.exec_driver_sql("SELECT txid_current_if_assigned()").scalar() is not None:
        return None  # this transaction wrote: only it sees its own writes
    isolation = conn.exec_driver_sql("SHOW transaction_isolation").scalar()
    if isolation == "repeatable read":
        return ReaderPlan(engine, conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar())
    if isolation == "read committed":
        return ReaderPlan(engine)  # every statement reads what is committed, as the verifier's do
    return None


class EntryReader:
    """Entry rows read on a connection of this (forked) process, closed when the process ends."""

    def __init__(self, plan: ReaderPlan) -> None:
        engine = plan.engine
        engine.dispose(close=False)
        self._connection: Any = engine.raw_connection()
        Finalize(self, self._connection.close, exitpriority=10)
        self._sql = RANGE_SQL.format(mark=placeholder(engine))
        if engine.dialect.name == "postgresql":
            driver = self._connection.driver_connection
            driver.autocommit = True
            driver.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            if plan.snapshot is not None:
                if not _SNAPSHOT_ID.match(plan.snapshot):
                    raise ValueError(f"unexpected snapshot id {plan.snapshot!r}")
                driver.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                driver.execute(f"SET TRANSACTION SNAPSHOT '{plan.snapshot}'")

    def rows(self, start: int, end: int) -> list[tuple[Any, Any]]:
        """The rows (entry, leaf hash) of indexes ``start``..``end - 1`` there are, as the driver has them.

        As many rows as indexes means none is missing (indexes are unique).
        """
        cursor = self._connection.cursor()
        try:
            cursor.execute(self._sql, (start, end))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return rows if type(rows) is list else list(rows)
