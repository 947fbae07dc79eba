"""Verification of the whole stored log, and (re-exported from audit.bundle) of an evidence bundle.

Nothing here imports SQLAlchemy: verify_store only calls the store object it is given, so the bundle
verifier stays usable with the standard library and cryptography alone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from audit import verify_blocks as blocks
from audit.bundle import VerifyReport, verify_bundle
from audit.checkpoint import Checkpoint, CheckpointError, Verifier
from audit.merkle import EMPTY_ROOT, Frontier

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from audit.store import AuditStore, HeadRow, StoredCheckpoint

__all__ = ["EntryCheck", "VerifyReport", "verify_bundle", "verify_store"]

#: A check of one entry (its index, its decoded fields): a failure reason, or None.
EntryCheck = Callable[[int, dict[str, Any]], str | None]

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


class _Pass:
    """One pass over the stored rows in index order: blocks queued (to workers or done here), their
    scans taken in order into the tree, the roots at checkpoint sizes, and the first problem met."""

    def __init__(
        self,
        conn: Connection,
        store: AuditStore,
        head: HeadRow,
        marks: list[int],
        checks: Mapping[str, EntryCheck],
    ) -> None:
        self.conn, self.store, self.head, self.checks = conn, store, head, checks
        self.marks = marks  # checkpoint sizes still ahead, ascending
        self.roots: dict[int, bytes] = {0: EMPTY_ROOT}
        self.frontier = Frontier.empty()
        self.keep = bool(checks)  # decoded entries are kept for the checks
        # The first problem in index order: (row where the pass stopped, index named, reason).
        self.found: tuple[int, int, str] | None = None
        # A row claiming another index: (row, claimed index, entry bytes), resolved once the
        # checkpoints are known.
        self.claim: tuple[int, int, bytes] | None = None
        self.checked = 0  # rows whose entries passed every check
        self.pool: Executor | None = None
        self.pending: deque[_Block] = deque()
        self.chunks: Iterator[list[Any]] | None = None
        self.following = 0  # the first index of the next block to queue

    def run(self, workers: int | None, read_only: bool) -> None:
        """Take every block in index order until the rows end or a problem is found."""
        executor, workers_read = blocks.start_pool(workers, self.head.size, self.conn, read_only)
        self.pool = executor
        if not workers_read:
            self.chunks = self.store.iter_entry_chunks(self.conn, 0, blocks.BLOCK)
        try:
            more = True
            while self.found is None:
                while more and len(self.pending) <= _MAX_PENDING:
                    more = self._queue()
                if not self.pending:
                    break
                block = self.pending.popleft()
                scan = self._scanned(block)
                if scan is None:
                    # Read from here on in this process, on the verifying connection, which decides.
                    for later in self.pending:
                        if later.future is not None:
                            later.future.cancel()
                    self.pending.clear()
                    self.chunks = self.store.iter_entry_chunks(self.conn, block.first, blocks.BLOCK)
                    self.following, more = block.first, True
                    continue
                if not self._take(scan):
                    break
        finally:
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)

    def _submit(self, function: Callable[..., blocks.Scan], *arguments: Any) -> Future[blocks.Scan] | None:
        """The block's work handed to the pool; None if there is none (the block is done here)."""
        if self.pool is not None:
            try:
                return self.pool.submit(function, *arguments)
            except (BrokenProcessPool, RuntimeError):
                self.pool = None
        return None

    def _queue(self) -> bool:
        """Queue the next block; False when there are no more rows."""
        first = self.following
        if self.chunks is None and first + blocks.BLOCK > self.head.size:
            # Workers read only below the head; the rest (rows beyond it too) is read here.
            self.chunks = self.store.iter_entry_chunks(self.conn, first, blocks.BLOCK)
        if self.chunks is None:
            self.pending.append(_Block(first, None, self._submit(blocks.read_and_scan, first, self.keep)))
            self.following += blocks.BLOCK
            return True
        rows = next(self.chunks, None)
        if rows is None:
            return False
        future = self._submit(blocks.scan, first, blocks.plain(rows), self.keep)
        self.pending.append(_Block(first, rows, future))
        self.following += len(rows)
        return True

    def _scanned(self, block: _Block) -> blocks.Scan | None:
        """The block's scan; None if a worker's reading of it must be done again here."""
        result: blocks.Scan | None = None
        if block.future is not None:
            try:
                result = block.future.result()
            except BrokenProcessPool:
                self.pool = None  # a worker died: the rest is read (and checked) here
            except Exception:  # noqa: BLE001 - a worker's error (its database, its memory): done here
                result = None
        if block.rows is None:
            if result is None or result.read < blocks.BLOCK or result.stop or result.result.bad is not None:
                return None
            return result
        return result or blocks.scan(block.first, block.rows, self.keep)

    def _extend(self, scan: blocks.Scan) -> None:
        """Extend the tree with a block's leaves, noting the root at every checkpoint size within it."""
        first, count, marks = scan.first, scan.count, self.marks
        if scan.top is not None and not (marks and marks[0] < first + count):
            self.frontier.extend_perfect(scan.top, count)
        else:
            digests = scan.digests
            leaves = [digests[at : at + 32] for at in range(0, 32 * count, 32)]
            position = 0
            while marks and marks[0] < first + count:
                upto = marks.pop(0) - first
                self.frontier.extend(leaves[position:upto])
                position = upto
                self.roots[first + upto] = self.frontier.root()
            self.frontier.extend(leaves[position:])
        if marks and marks[0] == first + count:
            self.roots[marks.pop(0)] = self.frontier.root()

    def _check_entries(self, scan: blocks.Scan, good: int) -> bool:
        """Run the checks of their actions on the block's first ``good`` entries; False at a failure."""
        first, decoded = scan.first, scan.result.decoded
        assert scan.blob is not None and scan.lengths is not None  # noqa: S101 - kept for the checks
        entries = iter(decoded) if decoded is not None else blocks.parsed(scan.blob, scan.lengths, good)
        for index, entry in zip(range(first, first + good), entries, strict=False):
            check = self.checks.get(entry["action"])
            problem = None if check is None else check(index, entry)
            if problem is not None:
                self.found = (index, index, f"entry {index}: {problem}")
                self.checked = index
                return False
        return True

    def _take(self, scan: blocks.Scan) -> bool:
        """Take a block's scan in index order; False once a problem was found."""
        self._extend(scan)
        first, count, result = scan.first, scan.count, scan.result
        good = count if result.bad is None else result.bad
        if self.keep and not self._check_entries(scan, good):
            return False
        self.checked = first + good
        if result.bad is not None:
            row = first + result.bad
            if result.claimed is not None:
                assert result.data is not None  # noqa: S101 - set with every claim
                self.claim = (row, result.claimed, result.data)
                self.found = (row, row, "")
            else:
                self.found = (row, row, f"entry {row}: {result.reason}")
            return False
        if scan.stop is not None:
            self.found = (first + count, first + count, scan.stop)
            return False
        return True


def _proven(
    by_size: dict[int, list[StoredCheckpoint]], roots: dict[int, bytes], count: int
) -> tuple[int, tuple[int, StoredCheckpoint] | None]:
    """The largest checkpoint size the pass reproduced, and the first checkpoint it did not (with the
    size proven before it). Checkpoints count up to the row where the pass stopped, in size order."""
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
    return proven, mismatch


def _first_problem(
    state: _Pass, store: AuditStore, count: int, proven: int, valid: list[StoredCheckpoint]
) -> tuple[int, str] | None:
    """The first bad index the pass met, or the entries missing beside the head and checkpoints."""
    head = state.head
    if state.claim is not None:
        row, claimed, data = state.claim
        bad = _displaced(state.conn, store, row, claimed, data, proven)
        return bad, f"entry {bad}: row {row} holds the entry recorded as index {claimed}"
    if state.found is not None:
        return state.found[1], state.found[2]
    largest = max(valid, key=lambda c: c.size, default=None)
    if count < head.size:
        return count, f"entry {count} is missing: the head says {head.size} entries"
    if largest is not None and count < largest.size:
        return count, f"entry {count} is missing: checkpoint {largest.id} covers {largest.size} entries"
    if count > head.size:
        return head.size, f"entry {head.size} lies beyond the head ({head.size} entries)"
    return None


def verify_store(
    conn: Connection,
    verifier: Verifier,
    store: AuditStore,
    *,
    checks: Mapping[str, EntryCheck] | None = None,
    workers: int | None = None,
    read_only: bool = False,
) -> VerifyReport:
    """Recompute the log from the stored rows and check it against the head and every checkpoint.

    The rows are read, hashed and checked in blocks, by ``workers`` processes (default: one per CPU,
    up to 4, when the log is large enough to gain; 0 does all in this process), and taken here in
    index order: the tree is extended with each block's leaf hashes, noting its root at every
    checkpoint size. ``checks`` maps an action to a check of its entries (``(index, entry) -> reason
    or None``), called here, in index order, with every entry of that action before the first bad one.

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
    state = _Pass(conn, store, head, sorted(size for size in by_size if size > 0), dict(checks or {}))
    state.run(workers, read_only)

    count = state.found[0] if state.found is not None else state.checked
    proven, mismatch = _proven(by_size, state.roots, count)
    local = _first_problem(state, store, count, proven, valid)

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
    frontier = state.frontier
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
