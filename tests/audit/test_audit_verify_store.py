"""verify_store detects every kind of tampering with the stored log and names the first bad index."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from audit_helpers import ORIGIN, forged, make_entry, rewrite, rows
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from audit.checkpoint import Signer
from audit.entry import decode_entry
from audit.merkle import EMPTY_ROOT, leaf_hash
from audit.store import AuditStore, drop_triggers, install_triggers
from audit.verify import VerifyReport, verify_store

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def build(engine: Engine, store: AuditStore, signer: Signer, size: int, checkpoint_at: int | None) -> None:
    """Empty the log and write ``size`` entries, with a checkpoint after ``checkpoint_at`` of them."""
    with engine.begin() as connection:
        drop_triggers(connection)
        for table in ("audit_entry", "audit_checkpoint", "audit_head"):
            connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
        install_triggers(connection)
        for number in range(size):
            if number == checkpoint_at:
                store.checkpoint(connection, signer, ORIGIN, NOW)
            store.append(connection, make_entry(number))
        if checkpoint_at == size:
            store.checkpoint(connection, signer, ORIGIN, NOW)


def verify(engine: Engine, store: AuditStore, signer: Signer, workers: int = 0) -> VerifyReport:
    with engine.begin() as connection:
        return verify_store(connection, signer.verifier(), store, workers=workers)


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Blocks of 3 rows (or the size given as parameter), so that small logs cross block boundaries
    (and worker results arrive out of turn). With a power of two, whole blocks reach the tree as the
    roots of their subtrees."""
    import audit.verify_blocks

    monkeypatch.setattr(audit.verify_blocks, "BLOCK", getattr(request, "param", 3))


def flip(data: bytes, bit: int) -> bytes:
    changed = bytearray(data)
    changed[(bit // 8) % len(data)] ^= 1 << (bit % 8)
    return bytes(changed)


def test_an_intact_log_verifies(engine: Engine, store: AuditStore, signer: Signer) -> None:
    build(engine, store, signer, 20, 12)
    report = verify(engine, store, signer)
    assert report.ok and report.entries == 20 and report.checkpoints == 1 and report.first_bad_index is None


def test_an_empty_log_verifies(engine: Engine, store: AuditStore, signer: Signer) -> None:
    build(engine, store, signer, 0, 0)
    assert verify(engine, store, signer).ok


@pytest.mark.parametrize("workers", [0, 2])
def test_the_evidence_check_can_fail_an_entry(
    engine: Engine, store: AuditStore, signer: Signer, small_blocks: None, workers: int
) -> None:
    build(engine, store, signer, 6, None)
    seen: list[int] = []

    def evidence_check(index: int, entry: dict[str, object]) -> str | None:
        seen.append(index)
        return "attachment file is missing" if index == 4 else None

    # The check is called for the entries of its action only (make_entry: contact.create at even numbers).
    checks = {"contact.create": evidence_check}
    with engine.begin() as connection:
        report = verify_store(connection, signer.verifier(), store, checks=checks, workers=workers)
    assert not report.ok and report.first_bad_index == 4 and "attachment file is missing" in report.reason
    assert seen == [0, 2, 4]


def test_a_checkpoint_signed_by_another_key_fails(engine: Engine, store: AuditStore, signer: Signer) -> None:
    build(engine, store, signer, 3, 3)
    report = verify(engine, store, Signer.generate(ORIGIN))
    assert not report.ok and "checkpoint" in report.reason


def test_a_forged_checkpoint_row_fails(engine: Engine, store: AuditStore, signer: Signer) -> None:
    build(engine, store, signer, 3, 3)
    with engine.begin() as connection:
        drop_triggers(connection)
        connection.execute(text("UPDATE audit_checkpoint SET root = :r"), {"r": EMPTY_ROOT})
    assert not verify(engine, store, signer).ok


OPERATIONS = [
    "flip_entry",
    "flip_hash",
    "delete",
    "delete_renumber",
    "insert",
    "swap",
    "truncate",
    "truncate_head",
]


def tamper_and_verify(
    engine: Engine,
    store: AuditStore,
    signer: Signer,
    operation: str,
    size: int,
    data: st.DataObject,
    workers: int,
) -> None:
    checkpoint_at = data.draw(st.none() | st.integers(0, size), label="checkpoint_at")
    k = data.draw(st.integers(0, size - 1), label="k")
    build(engine, store, signer, size, checkpoint_at)
    stored = rows(engine)
    move_head = True
    if operation == "flip_entry":
        index, entry, digest = stored[k]
        stored[k] = (index, flip(entry, data.draw(st.integers(0, 8 * len(entry) - 1))), digest)
        move_head = False
    elif operation == "flip_hash":
        index, entry, digest = stored[k]
        stored[k] = (index, entry, flip(digest, data.draw(st.integers(0, 255))))
        move_head = False
    elif operation == "delete":
        del stored[k]
        move_head = False
    elif operation == "delete_renumber":
        assume(k < size - 1 or (checkpoint_at or 0) == size)
        stored = stored[:k] + [(index - 1, e, h) for index, e, h in stored[k + 1 :]]
    elif operation == "insert":
        stored = stored[:k] + [forged(k)] + [(index + 1, e, h) for index, e, h in stored[k:]]
    elif operation == "swap":
        assume(k < size - 1)
        (a, ea, ha), (b, eb, hb) = stored[k], stored[k + 1]
        stored[k], stored[k + 1] = (a, eb, hb), (b, ea, ha)
    elif operation == "truncate":
        stored = stored[:k]
        move_head = False
    elif operation == "truncate_head":
        assume(checkpoint_at is not None and checkpoint_at > k)
        stored = stored[:k]
    rewrite(engine, stored, move_head=move_head)
    report = verify(engine, store, signer, workers)
    assert not report.ok
    assert report.first_bad_index == k, report.reason


@settings(max_examples=120, deadline=None, suppress_health_check=FIXTURES)
@given(
    operation=st.sampled_from(OPERATIONS),
    size=st.integers(2, 24),
    data=st.data(),
)
def test_tampering_is_detected_at_the_first_bad_index(
    engine: Engine, store: AuditStore, signer: Signer, operation: str, size: int, data: st.DataObject
) -> None:
    tamper_and_verify(engine, store, signer, operation, size, data, workers=0)


@pytest.mark.parametrize("small_blocks", [3, 4], indirect=True)
@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(
    operation=st.sampled_from(OPERATIONS),
    size=st.integers(2, 24),
    data=st.data(),
)
def test_tampering_is_detected_at_the_first_bad_index_by_worker_processes(
    engine: Engine,
    store: AuditStore,
    signer: Signer,
    small_blocks: None,
    operation: str,
    size: int,
    data: st.DataObject,
) -> None:
    tamper_and_verify(engine, store, signer, operation, size, data, workers=2)


@pytest.mark.parametrize("workers", [0, 2])
def test_every_kind_of_invalid_entry_is_named(
    engine: Engine, store: AuditStore, signer: Signer, small_blocks: None, workers: int
) -> None:
    """An entry whose leaf hash matches but whose bytes are not a valid canonical entry is named."""
    from test_audit_entry import TAMPERING

    build(engine, store, signer, 8, None)
    original = rows(engine)
    for number, mutate in enumerate(TAMPERING):
        stored = list(original)
        k = number % 8
        changed = mutate(stored[k][1])
        try:
            decode_entry(changed)
            continue  # still a valid entry (the tampering list has a few)
        except ValueError as exc:
            reason = str(exc)
        stored[k] = (k, changed, leaf_hash(changed))
        rewrite(engine, stored, move_head=True)
        report = verify(engine, store, signer, workers)
        assert not report.ok and report.first_bad_index == k, report.reason
        assert report.reason == f"entry {k}: {reason}"


@pytest.mark.parametrize("small_blocks", [3, 4], indirect=True)
@pytest.mark.parametrize("workers", [0, 2])
def test_a_large_log_verifies_in_blocks(
    engine: Engine, store: AuditStore, signer: Signer, small_blocks: None, workers: int
) -> None:
    build(engine, store, signer, 40, 17)
    with engine.begin() as connection:
        store.checkpoint(connection, signer, ORIGIN, NOW)
    seen: list[int] = []

    def evidence_check(index: int, entry: dict[str, object]) -> str | None:
        assert entry == decode_entry(stored[index][1])
        seen.append(index)
        return None

    stored = rows(engine)
    checks = {"message.record": evidence_check, "contact.create": evidence_check}
    with engine.begin() as connection:
        report = verify_store(connection, signer.verifier(), store, checks=checks, workers=workers)
    assert report.ok and report.entries == 40 and report.checkpoints == 2, report.reason
    assert seen == list(range(40))


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(size=st.integers(2, 20), data=st.data())
def test_a_consistent_rewrite_below_a_checkpoint_is_detected(
    engine: Engine, store: AuditStore, signer: Signer, size: int, data: st.DataObject
) -> None:
    """Rewriting an entry together with its leaf hash and the head is caught by the signed checkpoint."""
    k = data.draw(st.integers(0, size - 1))
    checkpoint_at = data.draw(st.integers(k + 1, size))
    build(engine, store, signer, size, checkpoint_at)
    stored = rows(engine)
    stored[k] = forged(k)
    rewrite(engine, stored, move_head=True)
    report = verify(engine, store, signer)
    assert not report.ok
    assert report.first_bad_index is not None and report.first_bad_index <= k


def test_a_duplicated_entry_is_named_where_the_copy_lies(
    engine: Engine, store: AuditStore, signer: Signer
) -> None:
    build(engine, store, signer, 8, None)
    stored = rows(engine)
    stored[5] = (5, stored[2][1], stored[2][2])
    rewrite(engine, stored, move_head=True)
    report = verify(engine, store, signer)
    assert report.first_bad_index == 5


@pytest.mark.parametrize("extra", [1, 3])
def test_rows_beyond_the_head_are_named(
    engine: Engine, store: AuditStore, signer: Signer, extra: int
) -> None:
    build(engine, store, signer, 4, None)
    stored = rows(engine)
    for index in range(4, 4 + extra):
        data = bytes(forged(index)[1])
        stored.append((index, data, leaf_hash(data)))
    rewrite(engine, stored, move_head=False)
    report = verify(engine, store, signer)
    assert not report.ok and report.first_bad_index == 4
    assert decode_entry(stored[4][1])["index"] == 4


def test_workers_are_spawned_when_other_threads_run(
    engine: Engine, store: AuditStore, signer: Signer, small_blocks: None
) -> None:
    """With other threads about, fork is unsafe: the pool is spawned, and the answers are the same."""
    import threading

    build(engine, store, signer, 10, 4)
    stored = rows(engine)
    stored[6] = (6, flip(stored[6][1], 3), stored[6][2])
    rewrite(engine, stored, move_head=False)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        report = verify(engine, store, signer, workers=2)
    finally:
        release.set()
        other.join()
    assert not report.ok and report.first_bad_index == 6, report.reason


def test_a_worker_that_dies_leaves_the_checks_to_this_process(
    engine: Engine, store: AuditStore, signer: Signer, small_blocks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import audit.verify_blocks

    build(engine, store, signer, 12, 5)
    stored = rows(engine)
    stored[9] = (9, flip(stored[9][1], 20), stored[9][2])
    rewrite(engine, stored, move_head=False)
    parent = os.getpid()
    check_block = audit.verify_blocks.check_block

    def dying(*arguments: object) -> object:
        if os.getpid() != parent:
            os._exit(1)
        return check_block(*arguments)  # type: ignore[arg-type]

    dying.__module__, dying.__qualname__ = check_block.__module__, check_block.__qualname__
    monkeypatch.setattr(audit.verify_blocks, "check_block", dying)
    report = verify(engine, store, signer, workers=2)
    assert not report.ok and report.first_bad_index == 9, report.reason


@pytest.mark.parametrize("small_blocks", [4], indirect=True)
def test_entries_not_yet_committed_are_verified_by_the_verifying_connection(
    engine: Engine, store: AuditStore, signer: Signer, small_blocks: None
) -> None:
    """Workers read committed rows on connections of their own; what only the verifying transaction
    sees (entries it appended) is read and checked on its connection."""
    build(engine, store, signer, 10, 8)
    with engine.begin() as connection:
        for number in range(10, 15):
            store.append(connection, make_entry(number))
        report = verify_store(connection, signer.verifier(), store, workers=2)
    assert report.ok and report.entries == 15, report.reason
