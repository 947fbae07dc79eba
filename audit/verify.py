"""Verification of the whole stored log, and (re-exported from audit.bundle) of an evidence bundle.

Nothing here imports SQLAlchemy: verify_store only calls the store object it is given, so the bundle
verifier stays usable with the standard library and cryptography alone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from audit import verify_blocks as blocks
from audit.bundle import BUNDLE_CHECKS, VerifyReport, verify_bundle
from audit.checkpoint import Checkpoint, CheckpointError, Verifier
from audit.merkle import EMPTY_ROOT, Frontier

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from audit.store import AuditStore, StoredCheckpoint

__all__ = ["BUNDLE_CHECKS", "EvidenceCheck", "VerifyReport", "verify_bundle", "verify_store"]

EvidenceCheck = Callable[[int, dict[str, Any]], str | None]

# Blocks waiting for their turn beside the one being taken (each up to blocks.BLOCK rows).
_MAX_PENDING = 4


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


@dataclass
class _Block:
    first: int
    rows: Sequence[tuple[Any, Any, Any]] | None  # None: a worker reads them
    future: Future[blocks.Scan] | None


def verify_store(  # noqa: C901, PLR0912, PLR0915 - one pass with its failure bookkeeping
    conn: Connection,
    verifier: Verifier,
    store: AuditStore,
    evidence_check: EvidenceCheck | None = None,
    *,
    workers: int | None = None,
    read_only: bool = False,
) -> VerifyReport:
    """Recompute the log from the stored rows and check it against the head and every checkpoint.

    The rows are read, hashed and checked in blocks, by ``workers`` processes (default: one per CPU,
    up to 4, when the log is large enough to gain; 0 does all in this process), and taken here in
    index order: the tree is extended with each block's leaf hashes, noting its root at every
    checkpoint size. ``evidence_check`` is called here, in index order, with every entry before the
    first bad one.

    ``read_only``: the caller's transaction has written nothing (on SQLite, a deferred transaction
    that only reads, which also keeps one snapshot). Forked workers may then read the blocks below the
    head on connections of their own (on PostgreSQL that is also checked, and REPEATABLE READ shares
    the transaction's snapshot with them); any block they find short, broken or bad, and whatever lies
    at or beyond the head, is read again here, on ``conn``, which decides.
    """
    head = store.head_row(conn)
    stored = store.checkpoints(conn)
    valid, checkpoint_problem = _signed_checkpoints(verifier, stored)
    by_size: dict[int, list[StoredCheckpoint]] = {}
    for checkpoint in valid:
        by_size.setdefault(checkpoint.size, []).append(checkpoint)
    marks = sorted(size for size in by_size if size > 0)
    roots: dict[int, bytes] = {0: EMPTY_ROOT}

    # The first problem in index order: (row where the pass stopped, index named, reason).
    found: tuple[int, int, str] | None = None
    # A row claiming another index: (row, claimed index, entry bytes), resolved once checkpoints are known.
    claim: tuple[int, int, bytes] | None = None
    frontier = Frontier.empty()
    keep = evidence_check is not None
    pool, workers_read = blocks.start_pool(workers, head.size, conn, read_only)
    executor = pool
    pending: deque[_Block] = deque()
    chunks: Iterator[list[Any]] | None = (
        None if workers_read else store.iter_entry_chunks(conn, 0, blocks.BLOCK)
    )
    following = 0  # the first index of the next block to queue
    checked = 0  # rows whose entries passed every check (and the evidence check)

    def submit(function: Callable[..., blocks.Scan], *arguments: Any) -> Future[blocks.Scan] | None:
        """The block's work handed to the pool; None if there is none (the block is done here)."""
        nonlocal pool
        if pool is not None:
            try:
                return pool.submit(function, *arguments)
            except (BrokenProcessPool, RuntimeError):
                pool = None
        return None

    def queue() -> bool:
        """Queue the next block; False when there are no more rows."""
        nonlocal following, chunks
        if chunks is None and following + blocks.BLOCK > head.size:
            # Workers read only below the head; the rest (rows beyond it too) is read here.
            chunks = store.iter_entry_chunks(conn, following, blocks.BLOCK)
        if chunks is None:
            pending.append(_Block(following, None, submit(blocks.read_and_scan, following, keep)))
            following += blocks.BLOCK
            return True
        rows = next(chunks, None)
        if rows is None:
            return False
        pending.append(_Block(following, rows, submit(blocks.scan, following, blocks.plain(rows), keep)))
        following += len(rows)
        return True

    def scanned(block: _Block) -> blocks.Scan | None:
        """The block's scan; None if a worker's reading of it must be done again here."""
        nonlocal pool
        result: blocks.Scan | None = None
        if block.future is not None:
            try:
                result = block.future.result()
            except BrokenProcessPool:
                pool = None  # a worker died: the rest is read (and checked) here
            except Exception:  # noqa: BLE001 - a worker's error (its database, its memory): done here
                result = None
        if block.rows is None:
            if result is None or result.read < blocks.BLOCK or result.stop or result.result.bad is not None:
                return None
            return result
        return result or blocks.scan(block.first, block.rows, keep)

    def take(scan: blocks.Scan) -> bool:
        """Take a block's scan in index order; False once a problem was found."""
        nonlocal found, claim, checked
        first, count, result = scan.first, scan.count, scan.result
        if scan.top is not None and not (marks and marks[0] < first + count):
            frontier.extend_perfect(scan.top, count)
        else:
            digests = scan.digests
            leaves = [digests[at : at + 32] for at in range(0, 32 * count, 32)]
            position = 0
            while marks and marks[0] < first + count:
                upto = marks.pop(0) - first
                frontier.extend(leaves[position:upto])
                position = upto
                roots[first + upto] = frontier.root()
            frontier.extend(leaves[position:])
        if marks and marks[0] == first + count:
            roots[marks.pop(0)] = frontier.root()
        good = count if result.bad is None else result.bad
        if evidence_check is not None:
            decoded = result.decoded
            assert scan.blob is not None and scan.lengths is not None  # noqa: S101 - kept for the check
            entries = iter(decoded) if decoded is not None else blocks.parsed(scan.blob, scan.lengths, good)
            for index, entry in zip(range(first, first + good), entries, strict=False):
                problem = evidence_check(index, entry)
                if problem is not None:
                    found = (index, index, f"entry {index}: {problem}")
                    checked = index
                    return False
        checked = first + good
        if result.bad is not None:
            row = first + result.bad
            if result.claimed is not None:
                assert result.data is not None  # noqa: S101 - set with every claim
                claim = (row, result.claimed, result.data)
                found = (row, row, "")
            else:
                found = (row, row, f"entry {row}: {result.reason}")
            return False
        if scan.stop is not None:
            found = (first + count, first + count, scan.stop)
            return False
        return True

    try:
        more = True
        while found is None:
            while more and len(pending) <= _MAX_PENDING:
                more = queue()
            if not pending:
                break
            block = pending.popleft()
            scan = scanned(block)
            if scan is None:
                # Read from here on in this process, on the verifying connection, which decides.
                for later in pending:
                    if later.future is not None:
                        later.future.cancel()
                pending.clear()
                chunks = store.iter_entry_chunks(conn, block.first, blocks.BLOCK)
                following, more = block.first, True
                continue
            if not take(scan):
                break
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    # Checkpoints count up to the row where the pass stopped, in size order, as the pass met them.
    count = found[0] if found is not None else checked
    proven = 0
    mismatch: tuple[int, StoredCheckpoint] | None = None
    for size in sorted(by_size):
        if size > count:
            break
        for checkpoint in by_size[size]:
            if roots[size] == checkpoint.root:
                proven = max(proven, size)
            elif mismatch is None:
                mismatch = (proven, checkpoint)
    local: tuple[int, str] | None = None
    if claim is not None:
        row, claimed, data = claim
        bad = _displaced(conn, store, row, claimed, data, proven)
        local = (bad, f"entry {bad}: row {row} holds the entry recorded as index {claimed}")
    elif found is not None:
        local = (found[1], found[2])

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
