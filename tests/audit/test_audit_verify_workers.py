"""verify_store gives the same report whether forked workers read the rows or the verifying process does."""

from __future__ import annotations

import os
from typing import Any

import pytest
from audit_helpers import fill, forged, rewrite, rows
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, create_engine, event, text
from test_audit_verify_store import FIXTURES, build, flip

from audit.checkpoint import Signer
from audit.merkle import leaf_hash
from audit.store import AuditStore, drop_triggers
from audit.verify import EntryCheck, VerifyReport, verify_store

on_postgresql = pytest.mark.skipif(not os.environ.get("DECOY_TEST_DATABASE_URL"), reason="PostgreSQL only")


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Blocks of the size given as parameter (as in test_audit_verify_store)."""
    import audit.verify_blocks

    monkeypatch.setattr(audit.verify_blocks, "BLOCK", request.param)


def summary(report: VerifyReport) -> tuple[bool, int | None, str, int]:
    return report.ok, report.first_bad_index, report.reason, report.entries


def both(
    connection: Connection,
    signer: Signer,
    store: AuditStore,
    check: EntryCheck | None = None,
    *,
    read_only: bool = True,
) -> list[tuple[bool, int | None, str, int]]:
    """The reports of the one-process mode and of the forked workers, on the same connection; ``check``
    runs on the entries of both actions of the test entries."""
    checks = {} if check is None else {"message.record": check, "contact.create": check}
    return [
        summary(
            verify_store(
                connection, signer.verifier(), store, checks=checks, workers=n, read_only=read_only
            )
        )
        for n in (0, 2)
    ]


@pytest.mark.parametrize("small_blocks", [4], indirect=True)
def test_rows_the_verifying_transaction_changed_are_verified_as_it_sees_them(
    engine: Engine, store: AuditStore, signer: Signer, small_blocks: None
) -> None:
    """An entry altered (not yet committed) in the verifying transaction, which only it sees: workers do
    not read for a transaction that wrote (on PostgreSQL this is checked even when it claims otherwise)."""
    build(engine, store, signer, 12, 4)
    with engine.begin() as connection:
        drop_triggers(connection)
    claims = [False, True] if engine.dialect.name == "postgresql" else [False]
    for read_only in claims:
        with engine.connect() as connection:
            altered = flip(rows(engine)[6][1], 5)
            connection.execute(text("UPDATE audit_entry SET entry = :e WHERE idx = 6"), {"e": altered})
            one, forked = both(connection, signer, store, read_only=read_only)
            connection.rollback()
        assert not one[0] and one[1] == 6, one
        assert forked == one


def snapshot(engine: Engine) -> tuple[Engine, Connection]:
    """A connection reading one snapshot (SQLite: a deferred transaction; PostgreSQL: REPEATABLE READ)."""
    if engine.dialect.name == "sqlite":
        reader = create_engine(engine.url, connect_args={"isolation_level": None, "timeout": 30})
        connection = reader.connect()
        connection.exec_driver_sql("BEGIN")
        return reader, connection
    connection = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    return engine, connection


@pytest.mark.parametrize("small_blocks", [4], indirect=True)
def test_entries_committed_after_the_snapshot_are_not_read(
    engine: Engine, store: AuditStore, signer: Signer, small_blocks: None
) -> None:
    """The verifying transaction's snapshot holds 8 entries; 4 more committed since must not be counted."""
    build(engine, store, signer, 8, 4)
    reader, connection = snapshot(engine)
    try:
        assert store.head_row(connection).size == 8  # the snapshot starts here
        fill(engine, store, 4, start=8)
        one, forked = both(connection, signer, store)
    finally:
        connection.close()
        if reader is not engine:
            reader.dispose()
    assert one[0], one
    assert forked == one


@pytest.mark.parametrize("small_blocks", [4], indirect=True)
def test_a_worker_that_cannot_read_leaves_the_block_to_this_process(
    engine: Engine, store: AuditStore, signer: Signer, small_blocks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database error in a worker (busy, timeout, connection lost) is not the verifying process's."""
    import sqlite3

    from audit.entry_reader import EntryReader

    build(engine, store, signer, 12, 4)
    parent = os.getpid()
    rows_of = EntryReader.rows

    def failing(self: EntryReader, start: int, end: int) -> list[tuple[Any, Any]]:
        if os.getpid() != parent:
            raise sqlite3.OperationalError("database is locked")
        return rows_of(self, start, end)

    monkeypatch.setattr(EntryReader, "rows", failing)
    with engine.begin() as connection:
        one, forked = both(connection, signer, store)
    assert one[0], one
    assert forked == one


@pytest.mark.parametrize("small_blocks", [4], indirect=True)
def test_driver_memoryviews_reach_the_workers_as_bytes(
    engine: Engine, store: AuditStore, signer: Signer, small_blocks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drivers such as psycopg2 hand out memoryviews (which do not pickle): the blocks read here (the
    last one, or all when the pool is spawned) must still reach the workers."""
    build(engine, store, signer, 10, 4)
    chunks = store.iter_entry_chunks

    def as_views(conn: Connection, start: int = 0, chunk: int = 8192) -> Any:
        for part in chunks(conn, start, chunk):
            yield [(index, memoryview(entry), memoryview(digest)) for index, entry, digest in part]

    monkeypatch.setattr(store, "iter_entry_chunks", as_views)
    with engine.begin() as connection:
        one, forked = both(connection, signer, store, read_only=False)
    assert one[0], one
    assert forked == one


@on_postgresql
@pytest.mark.parametrize("small_blocks", [4], indirect=True)
def test_a_table_lock_held_by_the_verifying_transaction_does_not_stall_the_workers(
    engine: Engine, store: AuditStore, signer: Signer, small_blocks: None
) -> None:
    """Workers would wait for the verifying transaction's ACCESS EXCLUSIVE lock, which would wait for
    them; a transaction that holds one has written (DDL), so workers do not read for it. (lock_timeout
    is set here so that a regression ends as a failure, not a hang.)"""
    build(engine, store, signer, 12, 4)

    @event.listens_for(engine, "connect")
    def _lock_timeout(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SET lock_timeout = '3s'")
        cursor.close()
        dbapi_connection.commit()

    with engine.begin() as connection:
        drop_triggers(connection)  # DROP TRIGGER takes ACCESS EXCLUSIVE, as LOCK TABLE or ALTER TABLE would
        one, forked = both(connection, signer, store)
        connection.rollback()
    assert one[0], one
    assert forked == one


TAMPERING = ["none", "flip", "hash", "delete", "beyond", "duplicate", "forge"]


@pytest.mark.parametrize("small_blocks", [2, 4], indirect=True)
@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(
    size=st.sampled_from([1, 3, 4, 5, 7, 8, 9, 12, 13, 16]),
    tampering=st.sampled_from(TAMPERING),
    data=st.data(),
)
def test_workers_and_one_process_give_the_same_report(  # noqa: PLR0913 - fixtures and drawn values
    engine: Engine,
    store: AuditStore,
    signer: Signer,
    small_blocks: None,
    size: int,
    tampering: str,
    data: Any,
) -> None:
    checkpoint_at = data.draw(st.one_of(st.none(), st.integers(0, size)))
    k = data.draw(st.integers(0, size - 1))
    build(engine, store, signer, size, checkpoint_at)
    stored = rows(engine)
    if tampering == "flip":
        stored[k] = (k, flip(stored[k][1], data.draw(st.integers(0, 400))), stored[k][2])
    elif tampering == "hash":
        stored[k] = (k, stored[k][1], flip(stored[k][2], 7))
    elif tampering == "delete":
        del stored[k]
    elif tampering == "beyond":
        extra = forged(size)[1]
        stored.append((size, extra, leaf_hash(extra)))
    elif tampering == "duplicate":
        j = data.draw(st.integers(0, size - 1))
        stored[k] = (k, stored[j][1], stored[j][2])
    elif tampering == "forge":
        stored[k] = forged(k)
    if tampering != "none":
        rewrite(engine, stored, move_head=data.draw(st.booleans()))
    flagged = data.draw(st.one_of(st.none(), st.integers(0, size)))

    def check(index: int, entry: dict[str, Any]) -> str | None:
        assert entry["index"] == index
        return "evidence missing" if index == flagged else None

    with engine.begin() as connection:
        one, forked = both(connection, signer, store, check if data.draw(st.booleans()) else None)
    assert forked == one
