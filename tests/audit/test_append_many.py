"""Several entries appended in one call: the same log, entry for entry, as appending them one by one,
inside the caller's transaction, and judged by the same triggers."""

from __future__ import annotations

from typing import Any

import pytest
from audit_helpers import fill, make_entry, rows
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from audit.entry import encode_entry
from audit.merkle import Frontier
from audit.store import AuditStore


@pytest.mark.parametrize("before", [0, 1, 5, 64])
def test_many_entries_make_the_log_that_single_appends_make(
    engine: Engine, store: AuditStore, before: int
) -> None:
    fill(engine, store, before)
    entries = [make_entry(number) for number in range(before, before + 130)]
    with engine.begin() as connection:
        appended = store.append_many(connection, entries)
    assert [item.index for item in appended] == list(range(before, before + 130))
    stored = rows(engine)
    assert [(index, data) for index, data, _leaf in stored[before:]] == [
        (before + offset, encode_entry(entry, before + offset)) for offset, entry in enumerate(entries)
    ]
    assert [item.entry_bytes for item in appended] == [data for _index, data, _leaf in stored[before:]]
    frontier = Frontier.empty()
    frontier.extend([leaf for _index, _data, leaf in stored])
    with engine.begin() as connection:
        assert store.head(connection) == (before + 130, frontier.root())


def test_many_entries_roll_back_with_the_transaction(engine: Engine, store: AuditStore) -> None:
    fill(engine, store, 3)
    with engine.connect() as connection:
        transaction = connection.begin()
        store.append_many(connection, [make_entry(number) for number in range(3, 10)])
        transaction.rollback()
    with engine.begin() as connection:
        assert store.size(connection) == 3
    assert len(rows(engine)) == 3


def test_an_empty_list_appends_nothing(engine: Engine, store: AuditStore) -> None:
    with engine.begin() as connection:
        assert store.append_many(connection, []) == []
        assert store.size(connection) == 0


def test_the_head_trigger_still_refuses_an_entry_off_the_head(engine: Engine, store: AuditStore) -> None:
    fill(engine, store, 2)
    with pytest.raises(DBAPIError), engine.begin() as connection:
        connection.execute(
            text("INSERT INTO audit_entry (idx, entry, leaf_hash) VALUES (5, :e, :h)"),
            {"e": b"{}", "h": b"\x00" * 32},
        )


# PostgreSQL's triggers for a batch: entries at the next index, the head moved once past them ----------------


def _postgresql_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's triggers admit one entry per move of the head")


def _write(connection: Any, index: int) -> None:
    connection.execute(
        text("INSERT INTO audit_entry (idx, entry, leaf_hash) VALUES (:i, :e, :h)"),
        {"i": index, "e": b"{}", "h": b"\x00" * 32},
    )


def _move(connection: Any, size: int) -> None:
    connection.execute(text("UPDATE audit_head SET size = :s WHERE id = 1"), {"s": size})


def test_a_batch_moves_the_head_once_on_postgresql(engine: Engine, store: AuditStore) -> None:
    _postgresql_only(engine)
    fill(engine, store, 3)
    # The backend's updates of the head not yet reported (earlier transactions' may be among them).
    updates = text("SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relid = 'audit_head'::regclass")
    with engine.begin() as connection:
        before = connection.execute(updates).scalar_one()
        store.append_many(connection, [make_entry(number) for number in range(3, 53)])
        after = connection.execute(updates).scalar_one()
    assert after - before == 1  # one new row version of the head for fifty entries
    assert len(rows(engine)) == 53


@pytest.mark.parametrize(
    ("indexes", "head", "refused"),
    [
        ([3, 4], None, "beyond the head at commit"),  # written, the head left behind
        ([3], 5, "one past the last entry"),  # the head moved past an entry not written
        ([3, 4, 5], 5, "one past the last entry"),  # the head moved short of the entries written
        ([4], None, "appended at the head"),  # an index skipped
        ([3, 3], None, "appended at the head|duplicate key"),  # the same index twice
        ([2], None, "appended at the head|duplicate key"),  # below the head
    ],
)
def test_postgresql_refuses_a_batch_that_breaks_the_log(
    engine: Engine, store: AuditStore, indexes: list[int], head: int | None, refused: str
) -> None:
    _postgresql_only(engine)
    fill(engine, store, 3)
    before = rows(engine)
    with pytest.raises(DBAPIError, match=refused), engine.begin() as connection:
        for index in indexes:
            _write(connection, index)
        if head is not None:
            _move(connection, head)
    assert rows(engine) == before
    with engine.begin() as connection:
        assert store.size(connection) == 3


def test_postgresql_admits_entries_written_first_and_the_head_moved_once(
    engine: Engine, store: AuditStore
) -> None:
    """The rule itself, without the library: what a batch writes passes the triggers (the tree is not
    theirs to judge: the verifier recomputes it)."""
    _postgresql_only(engine)
    fill(engine, store, 3)
    with engine.begin() as connection:
        for index in (3, 4, 5):
            _write(connection, index)
        _move(connection, 6)
    assert [index for index, _entry, _leaf in rows(engine)] == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("shadow", "statements"),
    [
        # A temporary head ahead of the log, an entry there and that head moved: the real head stays behind.
        (
            "CREATE TEMP TABLE audit_head (id int, size bigint); INSERT INTO audit_head VALUES (1, 100)",
            ["INSERT INTO {schema}.audit_entry (idx, entry, leaf_hash) VALUES (100, '{}', '\\x00')",
             "UPDATE pg_temp.audit_head SET size = 101"],
        ),
        # A temporary entry far ahead, and the real head moved to it over the entries never written.
        (
            "CREATE TEMP TABLE audit_entry (idx bigint); INSERT INTO audit_entry VALUES (999)",
            ["UPDATE {schema}.audit_head SET size = 1000"],
        ),
    ],
)
def test_temporary_tables_never_stand_in_for_the_log_on_postgresql(
    engine: Engine, store: AuditStore, shadow: str, statements: list[str]
) -> None:
    _postgresql_only(engine)
    fill(engine, store, 3)
    before = rows(engine)
    with pytest.raises(DBAPIError, match="head"), engine.begin() as connection:
        for statement in shadow.split("; "):
            connection.exec_driver_sql(statement)
        schema = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
        for statement in statements:
            connection.exec_driver_sql(statement.replace("{schema}", schema))
    assert rows(engine) == before
    with engine.begin() as connection:
        assert store.size(connection) == 3
