"""Benchmark: signing a checkpoint, and proofs with and without a TreeCache, on a large log.

Fills a SQLite log (PostgreSQL too when DECOY_BENCH_DATABASE_URL is set) with N entries (default
200,000) by bulk insert, the previous checkpoint 1,000 entries before the head (the common case: a
checkpoint every minute while the log grows). Times store.checkpoint at the head (in a transaction
rolled back, so each run does the same work), then inclusion and consistency proofs without a cache,
with a cold cache, a warm one, and one the log grew 1,000 entries past. Best and median of REPEAT.
Usage: python bench/audit_checkpoint.py [entries] [repeat]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from audit_append import sqlite_engine
from audit_verify import ORIGIN, START, create_store, insert_rows, make_rows
from sqlalchemy import Engine, create_engine, text

from audit.checkpoint import Signer
from audit.store import AuditStore

try:
    from audit.tree import TreeCache
except ImportError:  # the library before TreeCache, for before/after figures
    TreeCache = None  # type: ignore[assignment,misc]

GROWTH = 1_000


def timed(repeat: int, run: Callable[[], Any]) -> str:
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        run()
        times.append(time.perf_counter() - begin)
    return f"best {min(times) * 1000:8.1f} ms, median {statistics.median(times) * 1000:8.1f} ms"


def measure(label: str, engine: Engine, count: int, repeat: int) -> None:
    signer = Signer.generate(ORIGIN)
    store: AuditStore = create_store(engine)
    insert_rows(engine, store, make_rows(count - GROWTH))
    with engine.begin() as connection:
        store.checkpoint(connection, signer, ORIGIN, START)
    insert_rows(engine, store, make_rows(GROWTH, count - GROWTH))

    def checkpoint() -> None:
        with engine.connect() as connection:
            transaction = connection.begin()
            made = store.checkpoint(connection, signer, ORIGIN, START)
            assert made.size == count
            transaction.rollback()

    print(f"{label:10} checkpoint at {count} (previous at {count - GROWTH}): {timed(repeat, checkpoint)}")
    with engine.connect() as connection:
        print(
            f"{label:10} inclusion proof, no cache:      "
            f"{timed(repeat, lambda: store.inclusion_proof(connection, count // 3, count))}"
        )
        print(
            f"{label:10} consistency proof, no cache:    "
            f"{timed(repeat, lambda: store.consistency_proof(connection, count // 2, count))}"
        )
        connection.rollback()
    if TreeCache is None:
        print(f"{label:10} (no TreeCache in this version)")
        return
    cache = TreeCache()
    with engine.connect() as connection:
        print(
            f"{label:10} inclusion proof, cold cache:    "
            f"{timed(1, lambda: store.inclusion_proof(connection, count // 3, count, cache))}"
        )
        print(
            f"{label:10} inclusion proof, warm cache:    "
            f"{timed(repeat, lambda: store.inclusion_proof(connection, count // 3, count, cache))}"
        )
        print(
            f"{label:10} consistency proof, warm cache:  "
            f"{timed(repeat, lambda: store.consistency_proof(connection, count // 2, count, cache))}"
        )
        connection.rollback()
    insert_rows(engine, store, make_rows(GROWTH, count))
    with engine.connect() as connection:
        print(
            f"{label:10} inclusion proof, log grew {GROWTH}: "
            f"{timed(1, lambda: store.inclusion_proof(connection, count // 3, count + GROWTH, cache))}"
        )
        connection.rollback()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as directory:
        engine = sqlite_engine(Path(directory) / "bench.db")
        measure("sqlite", engine, count, repeat)
        engine.dispose()
    url = os.environ.get("DECOY_BENCH_DATABASE_URL")
    if not url:
        print("postgresql skipped: set DECOY_BENCH_DATABASE_URL")
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        measure("postgresql", engine, count, repeat)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
