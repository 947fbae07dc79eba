"""Several entries appended in one call: the same log, entry for entry, as appending them one by one,
inside the caller's transaction, and judged by the same triggers."""

from __future__ import annotations

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
