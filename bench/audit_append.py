"""Benchmark: audit append latency (p50/p99) and throughput with 1, 4, 16 and 32 writers.

Each writer is a process with its own connection, as each gunicorn worker of `decoy serve` is; with
--threads the writers are threads of one process instead (which also measures Python's global lock).
Runs on a temporary SQLite file, and on PostgreSQL when DECOY_BENCH_DATABASE_URL is set (in a
throw-away schema). Usage: python bench/audit_append.py [appends per writer] [--threads]
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
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


def timed_appends(engine: Engine, store: AuditStore, writer: int, per_writer: int) -> list[float]:
    """Append ``per_writer`` entries, one transaction each; the seconds each took."""
    latencies = []
    for number in range(per_writer):
        begin = time.perf_counter()
        with engine.begin() as connection:
            store.append(connection, entry(writer, number))
        latencies.append(time.perf_counter() - begin)
    return latencies


def run(engine: Engine, store: AuditStore, writers: int, per_writer: int) -> tuple[list[float], float]:
    """Writer threads sharing one engine."""
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(writers + 1)

    def write(writer: int) -> None:
        barrier.wait()
        mine = timed_appends(engine, store, writer, per_writer)
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


def _process_writer(
    make_engine: Callable[[], Engine],
    writer: int,
    per_writer: int,
    barrier: Any,
    results: Any,
) -> None:
    """One writer process: its own engine and connection, like a gunicorn worker."""
    engine = make_engine()
    store = AuditStore(define_tables(MetaData()))
    with engine.connect():
        pass  # connect before the start line
    barrier.wait()
    mine = timed_appends(engine, store, writer, per_writer)
    engine.dispose()
    results.put(mine)


def run_processes(
    make_engine: Callable[[], Engine], writers: int, per_writer: int
) -> tuple[list[float], float]:
    """Writer processes, each with its own engine."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(writers + 1)
    results = context.Queue()
    processes = [
        context.Process(target=_process_writer, args=(make_engine, w, per_writer, barrier, results))
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    barrier.wait()
    start = time.perf_counter()
    latencies: list[float] = []
    for _process in processes:
        latencies.extend(results.get(timeout=600))
    elapsed = time.perf_counter() - start
    for process in processes:
        process.join(timeout=60)
    return latencies, elapsed


def report(
    label: str,
    engine: Engine,
    setup: Callable[[], AuditStore],
    per_writer: int,
    make_engine: Callable[[], Engine] | None,
) -> None:
    """Print p50/p99 and throughput at each number of writers (processes unless make_engine is None)."""
    store = setup()
    with engine.begin() as connection:
        store.append(connection, entry(0, 0))  # warm the pool and caches
    engine.dispose()  # no connection crosses a fork
    for writers in WRITERS:
        if make_engine is None:
            latencies, elapsed = run(engine, store, writers, per_writer)
        else:
            latencies, elapsed = run_processes(make_engine, writers, per_writer)
        latencies.sort()
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        kind = "threads" if make_engine is None else "processes"
        print(
            f"{label:10} writers={writers:2} {kind:9} appends={len(latencies):5}  p50={p50:7.2f} ms  "
            f"p99={p99:7.2f} ms  throughput={len(latencies) / elapsed:7.0f} appends/s",
            flush=True,
        )


def main() -> None:
    arguments = [argument for argument in sys.argv[1:] if argument != "--threads"]
    threads = "--threads" in sys.argv[1:]
    per_writer = int(arguments[0]) if arguments else 100
    print(f"audit appends, {os.cpu_count()} CPUs, each writer a {'thread' if threads else 'process'}")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.db"
        engine = sqlite_engine(path)

        def setup_sqlite() -> AuditStore:
            metadata = MetaData()
            tables = define_tables(metadata)
            metadata.create_all(engine)
            with engine.begin() as connection:
                install_triggers(connection)
            return AuditStore(tables)

        report("sqlite", engine, setup_sqlite, per_writer, None if threads else partial(sqlite_engine, path))
        engine.dispose()

    url = os.environ.get("DECOY_BENCH_DATABASE_URL")
    if not url:
        print("postgresql skipped: set DECOY_BENCH_DATABASE_URL")
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    make_pg = partial(
        create_engine, url, connect_args={"options": f"-csearch_path={schema}"}, pool_size=40, max_overflow=0
    )
    engine = make_pg()
    try:

        def setup_postgresql() -> AuditStore:
            metadata = MetaData()
            tables = define_tables(metadata)
            metadata.create_all(engine)
            with engine.begin() as connection:
                install_triggers(connection)
            return AuditStore(tables)

        report("postgresql", engine, setup_postgresql, per_writer, None if threads else make_pg)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
