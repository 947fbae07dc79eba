"""The store appends inside the caller's transaction, serialises writers, and the database itself
refuses to change what was written."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from audit_helpers import ORIGIN, fill, make_entry, rows
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from audit.checkpoint import Signer
from audit.entry import decode_entry
from audit.errors import InconsistentLogError
from audit.merkle import EMPTY_ROOT, leaf_hash, verify_consistency, verify_inclusion
from audit.store import AuditStore, AuditTables, drop_triggers, install_triggers
from audit.tree import Tree, TreeCache
from audit.verify import verify_store

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_empty_log_has_the_empty_root(engine: Engine, store: AuditStore) -> None:
    with engine.begin() as connection:
        assert store.head(connection) == (0, EMPTY_ROOT)
        install_triggers(connection)  # idempotent
        assert store.size(connection) == 0


def test_append_records_canonical_entries_and_moves_the_head(engine: Engine, store: AuditStore) -> None:
    fill(engine, store, 10)
    stored = rows(engine)
    assert [index for index, _, _ in stored] == list(range(10))
    for index, data, digest in stored:
        assert digest == leaf_hash(data)
        assert decode_entry(data)["index"] == index
    with engine.begin() as connection:
        size, root = store.head(connection)
        assert size == 10 and root == Tree([h for _, _, h in stored]).root()
        assert store.entries(connection, 3, 2) == stored[3:5]
        assert store.leaf_hashes(connection, 4) == [h for _, _, h in stored[:4]]


def test_append_returns_what_was_stored(engine: Engine, store: AuditStore) -> None:
    with engine.begin() as connection:
        first = store.append(connection, make_entry(0))
        second = store.append(connection, make_entry(1))
    assert (first.index, second.index) == (0, 1)
    assert rows(engine)[1] == (1, second.entry_bytes, second.leaf_hash)


def test_a_rolled_back_append_leaves_nothing(engine: Engine, store: AuditStore) -> None:
    fill(engine, store, 3)
    with engine.begin() as connection:
        before = store.head(connection)
    with pytest.raises(RuntimeError), engine.begin() as connection:
        store.append(connection, make_entry(3))
        raise RuntimeError("the change failed, so its entry must go too")
    with engine.begin() as connection:
        assert store.head(connection) == before
    assert len(rows(engine)) == 3
    fill(engine, store, 1, start=3)
    assert [index for index, _, _ in rows(engine)] == [0, 1, 2, 3]


def test_an_invalid_entry_is_refused_before_anything_is_written(engine: Engine, store: AuditStore) -> None:
    bad = make_entry(0)
    object.__setattr__(bad, "actor", "")
    with pytest.raises(ValueError), engine.begin() as connection:
        store.append(connection, bad)
    assert rows(engine) == []


def test_proofs_from_the_store_verify(engine: Engine, store: AuditStore) -> None:
    fill(engine, store, 13)
    with engine.begin() as connection:
        _, root = store.head(connection)
        hashes = store.leaf_hashes(connection)
        for index in range(13):
            assert verify_inclusion(
                index, 13, hashes[index], store.inclusion_proof(connection, index, 13), root
            )
        small = store.tree(connection, 5).root()
        assert verify_consistency(5, 13, small, root, store.consistency_proof(connection, 5, 13))
        for bad in [(13, 13), (0, 14), (-1, 5), (3, 2)]:
            with pytest.raises(ValueError):
                store.inclusion_proof(connection, *bad)
        for bad in [(5, 14), (6, 5), (-1, 3)]:
            with pytest.raises(ValueError):
                store.consistency_proof(connection, *bad)


def test_proofs_from_a_tree_cache_are_the_same(engine: Engine, store: AuditStore) -> None:
    cache = TreeCache()
    fill(engine, store, 9)
    for grown in (9, 14, 30):
        fill(engine, store, grown - len(rows(engine)), start=len(rows(engine)))
        with engine.begin() as connection:
            for size in (1, grown // 2, grown):
                assert store.tree(connection, size, cache).root() == store.tree(connection, size).root()
                for index in (0, size // 2, size - 1):
                    assert store.inclusion_proof(connection, index, size, cache) == store.inclusion_proof(
                        connection, index, size
                    )
                assert store.consistency_proof(connection, size // 2, size, cache) == store.consistency_proof(
                    connection, size // 2, size
                )
            assert len(store.tree(connection, None, cache)) == grown
            with pytest.raises(ValueError):
                store.inclusion_proof(connection, 0, grown + 1, cache)
    assert len(cache) == 30


def test_a_tree_cache_forgets_a_rolled_back_append(engine: Engine, store: AuditStore) -> None:
    cache = TreeCache()
    fill(engine, store, 5)
    with pytest.raises(RuntimeError), engine.begin() as connection:
        store.append(connection, make_entry(100))
        store.append(connection, make_entry(101))
        assert len(store.tree(connection, 7, cache)) == 7
        raise RuntimeError("roll the appends back")
    assert len(cache) == 7  # holds two leaves that never were
    fill(engine, store, 3, start=5)  # other entries now sit at indexes 5 and 6
    with engine.begin() as connection:
        for size in (5, 6, 7, 8):
            assert store.tree(connection, size, cache).root() == store.tree(connection, size).root()
            assert store.inclusion_proof(connection, size - 1, size, cache) == store.inclusion_proof(
                connection, size - 1, size
            )


def test_a_tree_cache_only_serves_the_tree_the_head_commits_to(engine: Engine, store: AuditStore) -> None:
    warm = TreeCache()
    fill(engine, store, 6)
    with engine.begin() as connection:
        _, root = store.head(connection)
        store.tree(connection, 6, warm)
        drop_triggers(connection)
        connection.execute(text("UPDATE audit_entry SET leaf_hash = :h WHERE idx = 1"), {"h": bytes(32)})
    with engine.begin() as connection:
        # The leaves read before the change still reproduce the head: the cache keeps serving them.
        assert store.tree(connection, 6, warm).root() == root
        # A cache filled now cannot reproduce the head: it serves the stored leaves, as with no cache.
        cold = TreeCache()
        assert store.tree(connection, 6, cold).root() == store.tree(connection, 6).root() != root
        assert store.inclusion_proof(connection, 0, 6, cold) == store.inclusion_proof(connection, 0, 6)
        assert len(cold) == 0


def test_checkpoint_is_refused_when_a_leaf_hash_was_changed_below_the_last_checkpoint(
    engine: Engine, store: AuditStore, signer: Signer
) -> None:
    fill(engine, store, 6)
    with engine.begin() as connection:
        store.checkpoint(connection, signer, ORIGIN, NOW)
    fill(engine, store, 3, start=6)
    with engine.begin() as connection:
        drop_triggers(connection)
        connection.execute(text("UPDATE audit_entry SET leaf_hash = :h WHERE idx = 7"), {"h": bytes(31)})
    with pytest.raises(InconsistentLogError, match="malformed"), engine.begin() as connection:
        store.checkpoint(connection, signer, ORIGIN, NOW)
    with engine.begin() as connection:
        drop_triggers(connection)
        connection.execute(text("DELETE FROM audit_entry WHERE idx = 7"))
    with pytest.raises(InconsistentLogError, match="missing"), engine.begin() as connection:
        store.checkpoint(connection, signer, ORIGIN, NOW)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET entry = entry WHERE idx = 1",
        "DELETE FROM audit_entry WHERE idx = 1",
        "DELETE FROM audit_entry",
        "UPDATE audit_checkpoint SET note = 'x'",
        "DELETE FROM audit_checkpoint",
        "DELETE FROM audit_head",
        "UPDATE audit_head SET size = 1",
        "INSERT INTO audit_entry (idx, entry, leaf_hash) VALUES (7, :blob, :blob)",
    ],
)
def test_the_database_refuses_to_change_the_log(
    engine: Engine, store: AuditStore, signer: Signer, statement: str
) -> None:
    fill(engine, store, 3)
    with engine.begin() as connection:
        store.checkpoint(connection, signer, ORIGIN, NOW)
    before = rows(engine)
    with pytest.raises(DBAPIError, match="append|head"), engine.begin() as connection:
        connection.execute(text(statement), {"blob": b"\x00"} if ":blob" in statement else {})
    assert rows(engine) == before


def test_truncate_is_refused_on_postgresql(engine: Engine, store: AuditStore) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    fill(engine, store, 2)
    for table in ("audit_entry", "audit_checkpoint", "audit_head"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {table}"))
    assert len(rows(engine)) == 2


def test_checkpoint_is_signed_once_per_head(engine: Engine, store: AuditStore, signer: Signer) -> None:
    with engine.begin() as connection:
        empty = store.checkpoint(connection, signer, ORIGIN, NOW)
    assert (empty.size, empty.root) == (0, EMPTY_ROOT)
    fill(engine, store, 5)
    with engine.begin() as connection:
        first = store.checkpoint(connection, signer, ORIGIN, NOW)
        again = store.checkpoint(connection, signer, ORIGIN, NOW)
    assert again == first and first.size == 5 and first.created == NOW
    assert signer.verifier().verify_note(first.note).root == first.root
    fill(engine, store, 2, start=5)
    with engine.begin() as connection:
        second = store.checkpoint(connection, signer, ORIGIN, NOW)
        assert [c.id for c in store.checkpoints(connection)] == [empty.id, first.id, second.id]
        assert store.latest_checkpoint(connection) == second
    assert second.size == 7


def test_checkpoint_is_refused_when_the_log_was_rewritten(
    engine: Engine, store: AuditStore, tables: AuditTables, signer: Signer
) -> None:
    fill(engine, store, 6)
    with engine.begin() as connection:
        store.checkpoint(connection, signer, ORIGIN, NOW)
    fill(engine, store, 2, start=6)
    # An attacker with the database password rewrites entry 2 consistently (bytes, leaf hash, head).
    from audit_helpers import forged, rewrite

    tampered = rows(engine)
    tampered[2] = forged(2)
    rewrite(engine, tampered, move_head=True)
    with pytest.raises(InconsistentLogError, match="not consistent"), engine.begin() as connection:
        store.checkpoint(connection, signer, ORIGIN, NOW)
    with engine.begin() as connection:
        assert store.latest_checkpoint(connection).size == 6  # type: ignore[union-attr]


def test_checkpoint_is_refused_when_the_head_does_not_match_the_leaves(
    engine: Engine, store: AuditStore, signer: Signer
) -> None:
    fill(engine, store, 4)
    with engine.begin() as connection:
        drop_triggers(connection)
        connection.execute(text("UPDATE audit_entry SET leaf_hash = :h WHERE idx = 1"), {"h": bytes(32)})
    with pytest.raises(InconsistentLogError, match="head root"), engine.begin() as connection:
        store.checkpoint(connection, signer, ORIGIN, NOW)


@pytest.mark.parametrize("writers", [32])
def test_concurrent_writers_never_fork_or_lose_an_entry(
    engine: Engine, store: AuditStore, signer: Signer, writers: int
) -> None:
    per_writer = 20
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def write(writer: int) -> None:
        try:
            start.wait()
            for number in range(per_writer):
                with engine.begin() as connection:
                    store.append(connection, make_entry(writer * 1000 + number, operation=writer))
        except BaseException as exc:  # reported below, with the thread's own error
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = rows(engine)
    assert [index for index, _, _ in stored] == list(range(writers * per_writer))
    recorded = sorted(decode_entry(data)["object"]["id"] for _, data, _ in stored)
    assert recorded == sorted(w * 1000 + n for w in range(writers) for n in range(per_writer))
    with engine.begin() as connection:
        store.checkpoint(connection, signer, ORIGIN, NOW)
        report = verify_store(connection, signer.verifier(), store)
    assert report.ok, report.reason
    assert report.entries == writers * per_writer
