"""The one-call PostgreSQL append (audit_append_entry, audit_frontier_root) and of the SQLite
append on the driver's cursor: the database's tree must be audit.merkle's in every size, and an append
must belong to the caller's transaction."""

from __future__ import annotations

import hashlib
import threading

import pytest
from audit_helpers import fill, make_entry, rows
from sqlalchemy import Engine, text

from audit.entry import encode_entry
from audit.merkle import Frontier, leaf_hash
from audit.store import AuditStore, drop_triggers, install_triggers

SIZES = [*range(0, 70), 127, 128, 129, 255, 256, 257, 1023, 1024, 1025]
LARGE_SIZES = [2**20 - 1, 2**20, 2**31 - 1, 2**31, 2**32 + 1, 2**40 - 1, 2**53 + 3]


def _hash(label: object) -> bytes:
    return hashlib.sha256(str(label).encode()).digest()


def _frontier(size: int) -> Frontier:
    """A frontier of ``size`` leaves with arbitrary (but fixed) subtree roots."""
    return Frontier(size, [_hash((size, position)) for position in range(size.bit_count())])


def _postgresql_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the database functions exist on PostgreSQL only")


@pytest.mark.parametrize("size", SIZES + LARGE_SIZES)
def test_the_frontier_root_function_is_the_librarys(engine: Engine, store: AuditStore, size: int) -> None:
    _postgresql_only(engine)
    frontier = _frontier(size)
    with engine.begin() as connection:
        found = connection.execute(
            text("SELECT audit_frontier_root(:f)"), {"f": frontier.to_bytes()}
        ).scalar()
    assert bytes(found) == frontier.root()


def _place_head(engine: Engine, frontier: Frontier) -> None:
    """Move the head to ``frontier`` behind the log's back (as a log of that size would have it)."""
    with engine.begin() as connection:
        drop_triggers(connection)
        connection.execute(
            text("UPDATE audit_head SET size = :s, root = :r, frontier = :f WHERE id = 1"),
            {"s": frontier.size, "r": frontier.root(), "f": frontier.to_bytes()},
        )
        install_triggers(connection)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 63, 64, 65, *LARGE_SIZES])
def test_an_append_at_any_size_moves_the_head_as_the_library_does(
    engine: Engine, store: AuditStore, size: int
) -> None:
    frontier = _frontier(size)
    _place_head(engine, frontier)
    with engine.begin() as connection:
        appended = store.append(connection, make_entry(7))
        head = store.head_row(connection)
    assert appended.index == size
    assert appended.entry_bytes == encode_entry(make_entry(7), size)
    assert appended.leaf_hash == leaf_hash(appended.entry_bytes)
    frontier.append(appended.leaf_hash)
    assert (head.size, head.root, head.frontier) == (frontier.size, frontier.root(), frontier.to_bytes())
    assert rows(engine) == [(size, appended.entry_bytes, appended.leaf_hash)]


def test_an_append_on_a_connection_not_yet_in_a_transaction_is_rolled_back_with_it(
    engine: Engine, store: AuditStore
) -> None:
    """SQLAlchemy 2 connections begin on their first statement ("commit as you go"); the append says it
    runs inside the caller's transaction, so the caller's rollback must take the entry away too."""
    fill(engine, store, 2)
    with engine.connect() as connection:
        store.append(connection, make_entry(2))
        connection.rollback()
    with engine.begin() as connection:
        assert store.head_row(connection).size == 2
    assert len(rows(engine)) == 2


def test_concurrent_appends_keep_one_tree(engine: Engine, store: AuditStore) -> None:
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for step in range(15):
                with engine.begin() as connection:
                    store.append(connection, make_entry(number * 100 + step))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    stored = rows(engine)
    assert [index for index, _, _ in stored] == list(range(90))
    assert all(digest == leaf_hash(data) for _, data, digest in stored)
    frontier = Frontier.from_leaf_hashes([digest for _, _, digest in stored])
    with engine.begin() as connection:
        head = store.head_row(connection)
    assert (head.size, head.root, head.frontier) == (90, frontier.root(), frontier.to_bytes())
