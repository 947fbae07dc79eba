"""Blocks of stored rows, hashed and checked in the verifying process or in worker processes.

A block is up to BLOCK rows meant to hold the entries first..; a scan recomputes their leaf hashes
(and, for a whole aligned block, the root of its subtree) and checks every entry as decode_entry would.
Forked workers may read their own blocks (audit.entry_reader); verify_store takes the scans in order.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import operator
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from audit.entry_batch import decode_joined, parse_joined
from audit.merkle import perfect_root

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from audit.entry_reader import EntryReader, ReaderPlan

# Rows read and checked per block; blocks go to worker processes when the log is large.
BLOCK = 8192
# Below these sizes a pool costs more than it saves (fork starts in ~10 ms, spawn in ~300 ms).
_POOL_MIN_FORK = 20_000
_POOL_MIN_SPAWN = 300_000
_PART = 512


@dataclass(frozen=True)
class BlockResult:
    """What checking the entries of one block found: the first row that is not a valid entry at its
    index (``bad`` rows into the block), and why (``reason``) or which index it claims (``claimed``,
    with that row's bytes in ``data``)."""

    decoded: list[dict[str, Any]] | None
    bad: int | None = None
    reason: str | None = None
    claimed: int | None = None
    data: bytes | None = None


def check_block(first: int, blob: bytes, lengths: Sequence[int], keep: bool) -> BlockResult:
    """Decode and check the entries of rows ``first``.. (joined by commas in ``blob``), as decode_entry.

    Decodes a few hundred rows at a time: entries alive together in their thousands would make the
    cyclic garbage collector scan them over and over.
    """
    kept: list[dict[str, Any]] = []
    done = start = 0
    while done < len(lengths):
        part = lengths[done : done + _PART]
        end = start + sum(part) + len(part) - 1
        decoded, error = decode_joined(blob[start:end], part)
        claims = [entry["index"] for entry in decoded]
        if claims != list(range(first + done, first + done + len(claims))):
            bad = next(offset for offset, claim in enumerate(claims) if claim != first + done + offset)
            row = done + bad
            at = sum(lengths[:row]) + row
            data = blob[at : at + lengths[row]]
            return BlockResult(kept + decoded[:bad] if keep else None, row, None, claims[bad], data)
        if error is not None:
            return BlockResult(kept + decoded if keep else None, done + len(decoded), str(error))
        if keep:
            kept.extend(decoded)
        done += len(part)
        start = end + 1
    return BlockResult(kept if keep else None)


@dataclass(frozen=True)
class Scan:
    """One block of rows, read from index ``first`` on: the ``count`` leading rows that hold the
    entries first.. with their stored leaf hashes, those leaf hashes (32 bytes each, recomputed) and,
    for a whole aligned block, the root of their subtree (``top``); why the block ends after ``count``
    rows if it ends early (``stop``), and the entry checks of those rows. ``blob`` and ``lengths``
    (the entries joined by commas) come back only for the evidence check."""

    first: int
    read: int
    count: int
    digests: bytes
    top: bytes | None
    stop: str | None
    result: BlockResult
    blob: bytes | None = None
    lengths: list[int] | None = None


def scan(first: int, rows: Sequence[tuple[Any, Any, Any]], keep: bool) -> Scan:
    """Hash and check a block of rows (index, entry, stored leaf hash) meant to start at ``first``."""
    count = len(rows)
    stop: str | None = None
    if count and (rows[0][0] != first or rows[-1][0] != first + count - 1):
        # Indexes are unique and ascending, so the first and last tell whether one is missing.
        count = next(offset for offset, row in enumerate(rows) if row[0] != first + offset)
        stop = f"entry {first + count} is missing"
    entries, hashes = list(map(_SECOND, rows[:count])), list(map(_THIRD, rows[:count]))
    return _hashed(first, len(rows), entries, hashes, stop, keep)


def _hashed(
    first: int, read: int, entries: list[Any], hashes: list[Any], stop: str | None, keep: bool
) -> Scan:
    """Hash and check the entries first.. of a block (with their stored leaf hashes)."""
    datas, hashes = _as_bytes(entries), _as_bytes(hashes)
    sha256 = hashlib.sha256
    digests = [sha256(b"\x00" + data).digest() for data in datas]
    if digests != hashes:
        count = next(offset for offset, digest in enumerate(digests) if digest != hashes[offset])
        stop = f"entry {first + count}: stored leaf hash does not match the entry bytes"
        del datas[count:], digests[count:]
    count = len(digests)
    top = perfect_root(digests) if count == BLOCK and count.bit_count() == 1 and first % count == 0 else None
    blob = b",".join(datas)
    lengths = [len(data) for data in datas]
    result = check_block(first, blob, lengths, False)
    if not keep:
        return Scan(first, read, count, b"".join(digests), top, stop, result)
    return Scan(first, read, count, b"".join(digests), top, stop, result, blob, lengths)


_reader: EntryReader | None = None


def _worker_start(plan: ReaderPlan | None) -> None:
    # A worker's objects all die with each block: the cyclic collector would only cost time.
    gc.disable()
    if plan is not None:
        global _reader  # noqa: PLW0603 - one reader per worker process
        from audit.entry_reader import EntryReader  # noqa: PLC0415 - SQLAlchemy only with a store

        _reader = EntryReader(plan)


def read_and_scan(first: int, keep: bool) -> Scan:
    """In a worker that reads for itself: read the block of indexes from ``first`` on and scan it.

    A block with an index missing (or the last, shorter one) is left to the verifying process.
    """
    assert _reader is not None  # noqa: S101 - set by _worker_start
    rows = _reader.rows(first, first + BLOCK)
    if len(rows) < BLOCK:
        return Scan(first, len(rows), 0, b"", None, None, BlockResult(None))
    return _hashed(first, len(rows), list(map(_FIRST, rows)), list(map(_SECOND, rows)), None, keep)


_FIRST = operator.itemgetter(0)
_SECOND = operator.itemgetter(1)
_THIRD = operator.itemgetter(2)


def _as_bytes(values: list[Any]) -> list[bytes]:
    """The values as bytes (drivers may hand out memoryviews)."""
    if set(map(type, values)) <= {bytes}:
        return values
    return [bytes(value) for value in values]


def parsed(blob: bytes, lengths: list[int], count: int) -> Iterator[dict[str, Any]]:
    """The first ``count`` entries of a block a worker found valid, parsed a part at a time.

    Each of those rows is the canonical encoding of its element, so parsing is decoding; parts keep
    few entries alive at once (as check_block does), which spares the garbage collector.
    """
    start = 0
    for done in range(0, count, _PART):
        part = lengths[done : min(count, done + _PART)]
        end = start + sum(part) + len(part) - 1
        values = parse_joined(blob[start:end], len(part))
        yield from values if values is not None else decode_joined(blob[start:end], part)[0]
        start = end + 1


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def start_pool(
    workers: int | None, size: int, conn: Connection, read_only: bool
) -> tuple[Executor | None, bool]:
    """A process pool for the blocks (None: all in this process), and whether its workers read the rows.

    Forked workers open connections of their own and read their blocks themselves when they can read
    what ``conn`` sees (audit.entry_reader.reader_plan); otherwise, and in spawned pools (fork is unsafe
    while other threads run), they are handed the rows.
    """
    # fork is safe (and 30 times quicker to start) only while no other thread may hold a lock.
    fork = threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()
    if workers is None:
        workers = min(_cpus(), 4) if size >= (_POOL_MIN_FORK if fork else _POOL_MIN_SPAWN) else 0
    if workers < 2:
        return None, False
    plan = None
    if fork and size >= BLOCK:
        from audit.entry_reader import reader_plan  # noqa: PLC0415 - SQLAlchemy only with a store

        plan = reader_plan(conn, read_only)
    try:
        context = multiprocessing.get_context("fork" if fork else "spawn")
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start, initargs=(plan,))
    except (OSError, ValueError, RuntimeError):  # no processes here (a daemon, a sandbox): check inline
        return None, False
    return pool, plan is not None


def plain(rows: list[Any]) -> list[Any]:
    """Rows whose entry and leaf hash are bytes (drivers may hand out memoryviews, which do not pickle)."""
    if set(map(type, map(_SECOND, rows))) | set(map(type, map(_THIRD, rows))) <= {bytes}:
        return rows
    return [(index, bytes(entry), bytes(digest)) for index, entry, digest in rows]
