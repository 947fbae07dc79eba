"""The floor of bench/messages_throughput.py: the database driver alone, one durable INSERT per request.

A minimal Flask app parses the same JSON message and inserts its text with the driver itself (sqlite3 or
psycopg, no SQLAlchemy), one connection per worker, served by the same gunicorn settings as `decoy serve`
(decoy.cli.serve.run_server, only the WSGI app is swapped) on the same database:

- SQLite: WAL with synchronous=FULL (as Decoy's engine); each request one INSERT .. RETURNING in a
  BEGIN IMMEDIATE transaction, the lock waited for in the same short steps as Decoy's writers;
- PostgreSQL (fsync on): each request one INSERT .. RETURNING in autocommit mode, a single round trip
  that commits durably on its own.

Usage: python bench/messages_bare.py DATABASE_URL PORT WORKERS
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402

from decoy.cli.serve import DecoyServer, run_server  # noqa: E402

TABLE = (
    "CREATE TABLE IF NOT EXISTS bare_message (id {key}, direction VARCHAR(3) NOT NULL, "
    "sent_at VARCHAR(40) NOT NULL, recorded_at VARCHAR(40) NOT NULL, body TEXT NOT NULL)"
)
INSERT = "INSERT INTO bare_message (direction, sent_at, recorded_at, body) VALUES ({marks}) RETURNING id"
#: SQLite's write lock is tried every 0.2 ms at first, then less often, up to every 2 ms (as Decoy does).
_FIRST_WAIT, _LONGEST_WAIT, _LOCK_TIMEOUT = 0.0002, 0.002, 30.0


def _sqlite_path(database_url: str) -> str:
    return database_url.removeprefix("sqlite:///")


def _psycopg_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def create_table(database_url: str) -> None:
    """The bare table, made once before the workers start."""
    if database_url.startswith("sqlite"):
        with sqlite3.connect(_sqlite_path(database_url), isolation_level=None) as connection:
            connection.execute(TABLE.format(key="INTEGER PRIMARY KEY AUTOINCREMENT"))
        return
    with psycopg.connect(_psycopg_url(database_url), autocommit=True) as connection:
        connection.execute(TABLE.format(key="SERIAL PRIMARY KEY"))


def _sqlite_inserter(path: str) -> Callable[[tuple[str, str, str, str]], int]:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA busy_timeout=0")
    sql = INSERT.format(marks="?, ?, ?, ?")

    def insert(values: tuple[str, str, str, str]) -> int:
        deadline, wait = time.monotonic() + _LOCK_TIMEOUT, _FIRST_WAIT
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                    raise
            time.sleep(wait)
            wait = min(wait * 1.5, _LONGEST_WAIT)
        try:
            (row_id,) = connection.execute(sql, values).fetchone()
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return int(row_id)

    return insert


def _postgresql_inserter(url: str) -> Callable[[tuple[str, str, str, str]], int]:
    connection = psycopg.connect(url, autocommit=True)
    sql = INSERT.format(marks="%s, %s, %s, %s")

    def insert(values: tuple[str, str, str, str]) -> int:
        row = connection.execute(sql, values).fetchone()
        assert row is not None
        return int(row[0])

    return insert


def build(database_url: str) -> Flask:
    """The bare application (its connection opened in the worker, on its first request)."""
    app = Flask("bare")
    inserter: list[Callable[[tuple[str, str, str, str]], int]] = []

    def insert(values: tuple[str, str, str, str]) -> int:
        if not inserter:
            if database_url.startswith("sqlite"):
                inserter.append(_sqlite_inserter(_sqlite_path(database_url)))
            else:
                inserter.append(_postgresql_inserter(_psycopg_url(database_url)))
        return inserter[0](values)

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify({"status": "ok"})

    @app.post("/bare")
    def bare() -> Any:
        data = request.get_json()
        row_id = insert((data["direction"], data["sent_at"], datetime.now(UTC).isoformat(), data["body"]))
        return jsonify({"id": row_id}), 201

    return app


def main() -> None:
    """Serve the bare app with decoy's gunicorn settings."""
    database_url, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    create_table(database_url)

    def load(_self: Any) -> Flask:
        return build(database_url)

    DecoyServer.load = load  # type: ignore[method-assign]
    sys.argv = sys.argv[:1]  # gunicorn reads its own command line
    run_server({"bind": f"127.0.0.1:{port}", "workers": workers})


if __name__ == "__main__":
    main()
