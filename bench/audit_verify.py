"""Benchmark: full verification throughput (entries/s) from SQLite and PostgreSQL, beside raw SHA-256.

Fills a log of N entries (default 200,000) by bulk insert with the triggers briefly dropped, signs a
checkpoint, then times verify_store in a read-only snapshot (as the app verifies): in this process only
(workers=0), with the default worker processes, and with the default workers and an evidence callback
(as the app runs it). Each is run
REPEAT times (default 3) and reported as median, min and max, since the machine may be shared; beside
each run, the raw speed of SHA-256 in this process over the same entry bytes (every leaf and interior
node hash of the tree), the entries verified per CPU-second (this process and its workers: a figure
that other work on the machine changes little) and the 5-minute load average (other work's share).
PostgreSQL runs when DECOY_BENCH_DATABASE_URL is set.
Usage: python bench/audit_verify.py [entries] [repeat]
"""

from __future__ import annotations

import hashlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from audit_append import sqlite_engine
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text

from audit.checkpoint import Signer
from audit.entry import EntryInput, encode_entry
from audit.merkle import Frontier, leaf_hash
from audit.store import AuditStore, define_tables, drop_triggers, install_triggers
from audit.verify import verify_store

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ORIGIN = "decoy.example/bench"


def make_rows(count: int, start: int = 0) -> list[tuple[int, bytes, bytes]]:
    rows = []
    for index in range(start, start + count):
        entry = EntryInput(
            time=START + timedelta(milliseconds=index),
            actor=f"officer{index % 17}",
            action="message.record",
            object={"type": "message", "id": index},
            operation=index % 40,
            request=uuid.UUID(int=index * 0x9E3779B97F4A7C15 % (1 << 128)).hex,
            evidence={"body": hashlib.sha256(index.to_bytes(8, "big")).hexdigest()},
            details={"direction": "in" if index % 2 else "out", "flags": []},
        )
        data = encode_entry(entry, index)
        rows.append((index, data, leaf_hash(data)))
    return rows


def insert_rows(engine: Engine, store: AuditStore, rows: list[tuple[int, bytes, bytes]]) -> None:
    """Add rows after the current head, moving the head, with the triggers briefly dropped."""
    with engine.begin() as connection:
        frontier = Frontier.from_leaf_hashes(store.leaf_hashes(connection))
        for _, _, digest in rows:
            frontier.append(digest)
        drop_triggers(connection)  # bulk load only; appends one by one would take minutes
        connection.execute(
            store.tables.entry.insert(), [{"idx": i, "entry": e, "leaf_hash": h} for i, e, h in rows]
        )
        connection.execute(
            text("UPDATE audit_head SET size = :s, root = :r, frontier = :f WHERE id = 1"),
            {"s": frontier.size, "r": frontier.root(), "f": frontier.to_bytes()},
        )
        install_triggers(connection)


def create_store(engine: Engine) -> AuditStore:
    metadata = MetaData()
    tables = define_tables(metadata)
    metadata.create_all(engine)
    with engine.begin() as connection:
        install_triggers(connection)
    return AuditStore(tables)


def load(engine: Engine, rows: list[tuple[int, bytes, bytes]], signer: Signer) -> AuditStore:
    store = create_store(engine)
    insert_rows(engine, store, rows)
    with engine.begin() as connection:
        store.checkpoint(connection, signer, ORIGIN, START)
    return store


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction on one snapshot, as the app verifies in (decoy.db.snapshot_session)."""
    if engine.dialect.name == "sqlite":
        reader = create_engine(engine.url, connect_args={"isolation_level": None})
        event.listen(reader, "begin", lambda connection: connection.exec_driver_sql("BEGIN"))
        try:
            with reader.begin() as connection:
                yield connection
        finally:
            reader.dispose()
        return
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with connection.begin():
            yield connection


def raw_hashing(rows: list[tuple[int, bytes, bytes]]) -> float:
    """Entries per second of SHA-256 alone over the same bytes, in this process: every leaf hash
    SHA-256(0x00 || entry) and every interior node SHA-256(0x01 || left || right) up to the root."""
    datas = [data for _, data, _ in rows]
    sha256 = hashlib.sha256
    begin = time.perf_counter()
    level = [sha256(b"\x00" + data).digest() for data in datas]
    while len(level) > 1:
        pairs = iter(level)
        paired = [sha256(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=False)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return len(datas) / (time.perf_counter() - begin)


def no_evidence_problem(_index: int, _entry: dict[str, Any]) -> str | None:
    return None


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):7.0f}/s (min {min(values):7.0f}, max {max(values):7.0f})"


def measure(
    label: str, engine: Engine, store: AuditStore, signer: Signer, rows: list[Any], repeat: int
) -> None:
    """Time each mode ``repeat`` times, with a raw hashing run beside every verification."""
    medians: dict[str, tuple[float, float]] = {}
    modes: list[tuple[str, dict[str, Any]]] = [
        ("1 process", {"workers": 0}),
        ("default", {}),
        ("default+callback", {"checks": {"message.record": no_evidence_problem}}),
    ]
    for mode, options in modes:
        rates, raws, cpu_rates = [], [], []
        for _ in range(repeat):
            with read_snapshot(engine) as connection:
                before = os.times()
                begin = time.perf_counter()
                report = verify_store(connection, signer.verifier(), store, read_only=True, **options)
                elapsed = time.perf_counter() - begin
                after = os.times()
            assert report.ok, report.reason
            rates.append(report.entries / elapsed)
            # CPU seconds of this process and its worker processes: what the run costs, whatever else
            # the (shared) machine was doing meanwhile.
            cpu = sum(after[:4]) - sum(before[:4])
            cpu_rates.append(report.entries / cpu)
            raws.append(raw_hashing(rows))
        typical, raw = statistics.median(rates), statistics.median(raws)
        print(
            f"{label:10} {mode:16} {report.entries} entries, {repeat} runs: {_spread(rates)}; "
            f"per CPU-second {statistics.median(cpu_rates):7.0f}; load average {os.getloadavg()[1]:.1f}"
        )
        print(
            f"{'':10} {'':16} raw sha256 (leaves and nodes, 1 process) {_spread(raws)}; "
            f"verify/raw = {typical / raw:.3f} (1/3 would need {raw / 3:7.0f}/s)"
        )
        medians[mode] = (typical, typical / raw)
    single, default = medians["1 process"], medians["default"]
    workers = min(len(os.sched_getaffinity(0)), 4)
    for target, index, goal in (("150,000 entries/s", 0, 150_000.0), ("a third of raw SHA-256", 1, 1 / 3)):
        if single[index] >= goal:
            verdict = "reached in 1 process"
        elif default[index] >= goal:
            verdict = f"reached only with {workers} worker processes (which read their own blocks)"
        else:
            unit = "{:,.0f}/s" if index == 0 else "{:.3f} of raw"
            shown = [unit.format(pair[index]) for pair in (single, default)]
            verdict = f"not reached (1 process {shown[0]}, default {shown[1]}; medians)"
        print(f"{label:10} target {target}: {verdict}")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    signer = Signer.generate(ORIGIN)
    rows = make_rows(count)
    print(f"{count} entries, mean {sum(len(e) for _, e, _ in rows) / count:.0f} bytes, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as directory:
        engine = sqlite_engine(Path(directory) / "bench.db")
        measure("sqlite", engine, load(engine, rows, signer), signer, rows, repeat)
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
        measure("postgresql", engine, load(engine, rows, signer), signer, rows, repeat)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
