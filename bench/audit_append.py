"""Benchmark: audit append latency (p50/p99) and throughput with 1, 4, 16 and 32 writer threads.

Runs on a temporary SQLite file, and on PostgreSQL when DECOY_BENCH_DATABASE_URL is set (in a
throw-away schema). Usage: python bench/audit_append.py [appends per writer]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, text

from audit.entry import EntryInput
from audit.store import AuditStore, define_tables, install_triggers

WRITERS = (1, 4, 16, 32)


def sqlite_engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"isolation_level": None, "timeout": 60},
        pool_size=40,
        max_overflow=0,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        for pragma in ("journal_mode=WAL", "busy_timeout=60000", "synchronous=FULL"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def entry(writer: int, number: int) -> EntryInput:
    return EntryInput(
        time=datetime.now(UTC),
        actor=f"officer{writer}",
        action="message.record",
        object={"type": "message", "id": number},
        operation=writer,
        request=uuid.uuid4().hex,
        evidence={"body": "a" * 64},
        details={"direction": "in", "flags": []},
    )


def run(engine: Engine, store: AuditStore, writers: int, per_writer: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(writers + 1)

    def write(writer: int) -> None:
        mine = []
        barrier.wait()
        for number in range(per_writer):
            begin = time.perf_counter()
            with engine.begin() as connection:
                store.append(connection, entry(writer, number))
            mine.append(time.perf_counter() - begin)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - start


def report(label: str, engine: Engine, setup: Callable[[], AuditStore], per_writer: int) -> None:
    store = setup()
    with engine.begin() as connection:
        store.append(connection, entry(0, 0))  # warm the pool and caches
    for writers in WRITERS:
        latencies, elapsed = run(engine, store, writers, per_writer)
        latencies.sort()
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        print(
            f"{label:10} writers={writers:2}  appends={len(latencies):5}  p50={p50:7.2f} ms  "
            f"p99={p99:7.2f} ms  throughput={len(latencies) / elapsed:7.0f} appends/s"
        )


def main() -> None:
    per_writer = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory() as directory:
        engine = sqlite_engine(Path(directory) / "bench.db")

        def setup_sqlite() -> AuditStore:
            metadata = MetaData()
            tables = define_tables(metadata)
            metadata.create_all(engine)
            with engine.begin() as connection:
                install_triggers(connection)
            return AuditStore(tables)

        report("sqlite", engine, setup_sqlite, per_writer)
        engine.dispose()

    url = os.environ.get("DECOY_BENCH_DATABASE_URL")
    if not url:
        print("postgresql skipped: set DECOY_BENCH_DATABASE_URL")
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(
        url, connect_args={"options": f"-csearch_path={schema}"}, pool_size=40, max_overflow=0
    )
    try:

        def setup_postgresql() -> AuditStore:
            metadata = MetaData()
            tables = define_tables(metadata)
            metadata.create_all(engine)
            with engine.begin() as connection:
                install_triggers(connection)
            return AuditStore(tables)

        report("postgresql", engine, setup_postgresql, per_writer)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
