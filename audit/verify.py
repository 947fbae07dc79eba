"""Verification of the whole stored log, and (re-exported from audit.bundle) of an evidence bundle.

Nothing here imports SQLAlchemy: verify_store only calls the store object it is given, so the bundle
verifier stays usable with the standard library and cryptography alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from audit.bundle import BUNDLE_CHECKS, VerifyReport, verify_bundle
from audit.checkpoint import Checkpoint, CheckpointError, Verifier
from audit.entry import decode_entry
from audit.merkle import EMPTY_ROOT, Frontier

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from audit.store import AuditStore, StoredCheckpoint

__all__ = ["BUNDLE_CHECKS", "EvidenceCheck", "VerifyReport", "verify_bundle", "verify_store"]

EvidenceCheck = Callable[[int, dict[str, Any]], str | None]


def _signed_checkpoints(
    verifier: Verifier, stored: list[StoredCheckpoint]
) -> tuple[list[StoredCheckpoint], str | None]:
    """Return the checkpoints whose signature and row agree, and the first problem found."""
    valid: list[StoredCheckpoint] = []
    problem: str | None = None
    for checkpoint in stored:
        try:
            signed: Checkpoint = verifier.verify_note(checkpoint.note)
        except CheckpointError as exc:
            problem = problem or f"checkpoint {checkpoint.id}: {exc}"
            continue
        if (signed.size, signed.root) != (checkpoint.size, checkpoint.root):
            problem = (
                problem or f"checkpoint {checkpoint.id}: stored size or root differs from its signed note"
            )
            continue
        if valid and checkpoint.size < valid[-1].size:
            problem = (
                problem or f"checkpoint {checkpoint.id} is smaller than checkpoint {valid[-1].id} before it"
            )
        valid.append(checkpoint)
    return valid, problem


def _displaced(conn: Connection, store: AuditStore, row: int, claimed: int, data: bytes, proven: int) -> int:
    """Name the first bad index when row ``row`` holds an entry claiming index ``claimed``."""
    if claimed > row or claimed < proven:
        # An entry from further on moved down (deletion, swap), or it duplicates a proven one.
        return row
    # Two rows claim the same index: a copy of the earlier one is bad where it lies;
    # otherwise the earlier row is the intruder (an entry inserted before this one).
    earlier = store.entries(conn, claimed, 1)
    if earlier and earlier[0][0] == claimed and earlier[0][1] == data:
        return row
    return claimed


def verify_store(
    conn: Connection,
    verifier: Verifier,
    store: AuditStore,
    evidence_check: EvidenceCheck | None = None,
) -> VerifyReport:
    """Recompute the log from the stored rows and check it against the head and every checkpoint."""
    head = store.head_row(conn)
    stored = store.checkpoints(conn)
    valid, checkpoint_problem = _signed_checkpoints(verifier, stored)
    by_size: dict[int, list[StoredCheckpoint]] = {}
    for checkpoint in valid:
        by_size.setdefault(checkpoint.size, []).append(checkpoint)

    proven = 0
    mismatch: tuple[int, StoredCheckpoint] | None = None
    local: tuple[int, str] | None = None
    for checkpoint in by_size.get(0, []):
        if checkpoint.root != EMPTY_ROOT:
            mismatch = (0, checkpoint)

    frontier = Frontier.empty()
    append = frontier.append
    sha256 = hashlib.sha256
    expected = 0
    for rows in store.iter_entry_chunks(conn):
        for index, raw, stored_hash in rows:
            data = bytes(raw)
            if index != expected:
                local = (expected, f"entry {expected} is missing")
                break
            digest = sha256(b"\x00" + data).digest()
            if digest != stored_hash:
                local = (index, f"entry {index}: stored leaf hash does not match the entry bytes")
                break
            try:
                decoded = decode_entry(data)
            except ValueError as exc:
                local = (index, f"entry {index}: {exc}")
                break
            if decoded["index"] != index:
                bad = _displaced(conn, store, index, decoded["index"], data, proven)
                local = (
                    bad,
                    f"entry {bad}: row {index} holds the entry recorded as index {decoded['index']}",
                )
                break
            if evidence_check is not None:
                problem = evidence_check(index, decoded)
                if problem is not None:
                    local = (index, f"entry {index}: {problem}")
                    break
            append(digest)
            expected += 1
            if expected in by_size:
                root = frontier.root()
                for checkpoint in by_size[expected]:
                    if root == checkpoint.root:
                        proven = max(proven, expected)
                    elif mismatch is None:
                        mismatch = (proven, checkpoint)
        if local is not None:
            break

    count = expected
    if local is None:
        largest = max(valid, key=lambda c: c.size, default=None)
        if count < head.size:
            local = (count, f"entry {count} is missing: the head says {head.size} entries")
        elif largest is not None and count < largest.size:
            local = (
                count,
                f"entry {count} is missing: checkpoint {largest.id} covers {largest.size} entries",
            )
        elif count > head.size:
            local = (head.size, f"entry {head.size} lies beyond the head ({head.size} entries)")

    def failed(index: int | None, reason: str) -> VerifyReport:
        return VerifyReport(False, index, reason, count, len(stored))

    if mismatch is not None:
        lower, checkpoint = mismatch
        if local is not None and lower <= local[0] < checkpoint.size:
            return failed(local[0], f"{local[1]} (checkpoint {checkpoint.id} does not match)")
        return failed(
            lower,
            f"entries {lower}..{checkpoint.size - 1} do not reproduce signed checkpoint {checkpoint.id} "
            f"(size {checkpoint.size}); the first altered entry is at index {lower} or later",
        )
    if local is not None:
        return failed(*local)
    if frontier.root() != head.root or frontier.to_bytes() != head.frontier:
        return failed(
            proven if proven < count else None,
            f"the head row does not match the entries (those after {proven} are not covered by a checkpoint)",
        )
    if checkpoint_problem is not None:
        return failed(None, checkpoint_problem)
    return VerifyReport(
        True, None, f"{count} entries and {len(stored)} checkpoints verified", count, len(stored)
    )
