"""Reading stored entry rows in a verification worker process, on a database connection of its own.

A worker forked from the verifying process inherits its engine (URL, connect arguments, connect
events) but must not touch the parent's pooled connections: ``dispose(close=False)`` forgets them
without closing them under the parent, and the worker opens its own. It reads with the raw driver
outside any SQLAlchemy transaction, so that engine events that open write transactions (SQLite's
``BEGIN IMMEDIATE``) never run in a reader.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

__all__ = ["ENTRY_ROWS_SQL", "EntryReader", "shareable_engine"]

#: Up to a number of rows (index, entry bytes, leaf hash) from an index on, in index order.
ENTRY_ROWS_SQL = "SELECT idx, entry, leaf_hash FROM audit_entry WHERE idx >= {mark} ORDER BY idx LIMIT {mark}"
#: The rows (entry bytes, leaf hash) of the indexes in a range, in index order.
RANGE_SQL = "SELECT entry, leaf_hash FROM audit_entry WHERE idx >= {mark} AND idx < {mark} ORDER BY idx"


def placeholder(engine: Engine | Connection) -> str:
    """The driver's parameter mark."""
    return "?" if engine.dialect.paramstyle == "qmark" else "%s"


def shareable_engine(conn: Connection) -> Engine | None:
    """The connection's engine if another process can open the same database (a file or a server)."""
    engine = conn.engine
    if engine.dialect.name == "sqlite":
        database = engine.url.database or ""
        in_memory = database in ("", ":memory:") or "mode=memory" in database
        if in_memory or engine.url.query.get("mode") == "memory":
            return None
    return engine


class EntryReader:
    """Entry rows read on a connection of this (forked) process."""

    def __init__(self, engine: Engine) -> None:
        engine.dispose(close=False)
        self._connection: Any = engine.raw_connection()
        self._sql = RANGE_SQL.format(mark=placeholder(engine))

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
