"""The baseline of bench/messages_throughput.py: a bare Flask endpoint doing one durable insert of the text.

Served by the same gunicorn settings as `decoy serve` (decoy.cli.serve.run_server, only the WSGI app is
swapped) on the same database with the same engine settings (decoy.db.make_engine: SQLite WAL with
synchronous=FULL and BEGIN IMMEDIATE, or PostgreSQL with fsync).

Usage: python bench/messages_bare.py DATABASE_URL PORT WORKERS
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, jsonify, request  # noqa: E402
from sqlalchemy import text  # noqa: E402

from decoy.cli import serve as server  # noqa: E402
from decoy.db import make_engine  # noqa: E402

TABLE = (
    "CREATE TABLE IF NOT EXISTS bare_message (id {key}, direction VARCHAR(3) NOT NULL, "
    "sent_at VARCHAR(40) NOT NULL, recorded_at VARCHAR(40) NOT NULL, body TEXT NOT NULL)"
)


def build(database_url: str) -> Flask:
    """The bare application."""
    app = Flask("bare")
    engine = make_engine(database_url)
    key = "INTEGER PRIMARY KEY AUTOINCREMENT" if database_url.startswith("sqlite") else "SERIAL PRIMARY KEY"
    with engine.begin() as connection:
        connection.execute(text(TABLE.format(key=key)))

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify({"status": "ok"})

    @app.post("/bare")
    def insert() -> Any:
        data = request.get_json()
        with engine.begin() as connection:
            row = connection.execute(
                text(
                    "INSERT INTO bare_message (direction, sent_at, recorded_at, body) "
                    "VALUES (:d, :s, :r, :b) RETURNING id"
                ),
                {
                    "d": data["direction"],
                    "s": data["sent_at"],
                    "r": datetime.now(UTC).isoformat(),
                    "b": data["body"],
                },
            ).one()
        return jsonify({"id": row[0]}), 201

    return app


def main() -> None:
    """Serve the bare app with decoy's gunicorn settings."""
    database_url, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

    def load(_self: Any) -> Flask:
        return build(database_url)

    server.DecoyServer.load = load  # type: ignore[method-assign]
    sys.argv = sys.argv[:1]  # gunicorn reads its own command line
    server.run_server({"bind": f"127.0.0.1:{port}", "workers": workers})


if __name__ == "__main__":
    main()
