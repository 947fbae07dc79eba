"""An append builds the entry around its index: on PostgreSQL the database computes the leaf, the
frontier and the root (audit_append_entry), and they must be exactly those of audit.merkle."""

from __future__ import annotations

import pytest
from audit_helpers import fill, make_entry, rows
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from test_audit_entry import json_values

from audit.entry import EntryInput, encode_entry, encode_entry_parts
from audit.errors import InconsistentLogError
from audit.merkle import Frontier, leaf_hash
from audit.store import AuditStore, drop_triggers, install_triggers


@settings(max_examples=200, deadline=None)
@given(
    details=st.dictionaries(st.text(max_size=6), json_values, max_size=4),
    evidence_names=st.lists(st.text(min_size=1, max_size=6), max_size=3),
    index=st.integers(0, (1 << 63) - 1),
)
def test_the_parts_around_the_index_are_the_entry(
    details: dict[str, object], evidence_names: list[str], index: int
) -> None:
    """Whatever the details hold (keys such as "index" too), prefix + index + suffix is the entry."""
    base = make_entry(index % 1000)
    entry = EntryInput(
        time=base.time,
        actor=base.actor,
        action=base.action,
        object=base.object,
        operation=base.operation,
        request=base.request,
        evidence={name: "ab" * 32 for name in evidence_names},
        details={**details, "index": index},
    )
    prefix, suffix = encode_entry_parts(entry)
    assert prefix + str(index).encode() + suffix == encode_entry(entry, index)


def test_every_head_is_the_one_the_library_computes(engine: Engine, store: AuditStore) -> None:
    """Sizes 1 to 300 cross every frontier shape up to 2**8 and indexes of one to three digits."""
    frontier = Frontier.empty()
    for number in range(300):
        with engine.begin() as connection:
            appended = store.append(connection, make_entry(number))
            head = store.head_row(connection)
        assert appended.index == number
        assert appended.entry_bytes == encode_entry(make_entry(number), number)
        assert appended.leaf_hash == leaf_hash(appended.entry_bytes)
        frontier.append(appended.leaf_hash)
        assert (head.size, head.root, head.frontier) == (frontier.size, frontier.root(), frontier.to_bytes())
    assert rows(engine)[-1] == (299, appended.entry_bytes, appended.leaf_hash)


@pytest.mark.parametrize("damage", ["root", "frontier"])
def test_an_append_on_a_damaged_head_is_refused_and_writes_nothing(
    engine: Engine, store: AuditStore, damage: str
) -> None:
    fill(engine, store, 5)
    with engine.begin() as connection:
        drop_triggers(connection)
        column = "root" if damage == "root" else "frontier"
        value = b"\x00" * 32 if damage == "root" else b"\x00" * 64
        connection.execute(text(f"UPDATE audit_head SET {column} = :v WHERE id = 1"), {"v": value})  # noqa: S608
        install_triggers(connection)
    with pytest.raises(InconsistentLogError, match="frontier does not match its root"):
        with engine.begin() as connection:
            store.append(connection, make_entry(5))
    assert len(rows(engine)) == 5


def test_a_database_error_during_an_append_is_sqlalchemys_and_writes_nothing(
    engine: Engine, store: AuditStore
) -> None:
    """An entry row already at the head's index (written behind the log's back): the insert fails, as a
    SQLAlchemy IntegrityError on both databases (the app answers database errors by their class)."""
    fill(engine, store, 3)
    intruder = encode_entry(make_entry(99), 3)
    with engine.begin() as connection:
        drop_triggers(connection)
        connection.execute(
            text("INSERT INTO audit_entry (idx, entry, leaf_hash) VALUES (3, :e, :h)"),
            {"e": intruder, "h": leaf_hash(intruder)},
        )
        install_triggers(connection)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        store.append(connection, make_entry(3))
    with engine.begin() as connection:
        assert store.head_row(connection).size == 3
    assert rows(engine)[3][1] == intruder
