"""Merkle trees over stored leaf hashes: roots, inclusion and consistency proofs (RFC 9162 2.1.3, 2.1.4),
and the cache of a growing log's tree. Standard library only.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence

from audit.merkle import EMPTY_ROOT, HASH_SIZE, node_hash

__all__ = ["Tree", "TreeCache"]

_sha256 = hashlib.sha256


def _split(n: int) -> int:
    """Return the largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _grow_levels(levels: list[list[bytes]]) -> None:
    """Complete every level above the leaves after leaves were added to ``levels[0]`` (in place).

    levels[k][j] is the root of the perfect subtree of leaves [j * 2**k, (j + 1) * 2**k); nodes
    already present are never changed, so a tree viewing fewer leaves stays valid.
    """
    sha256 = _sha256
    k = 0
    while len(levels[k]) > 1 or k + 1 < len(levels):
        below = levels[k]
        if k + 1 == len(levels):
            levels.append([])
        above = levels[k + 1]
        above.extend(
            sha256(b"\x01" + below[i] + below[i + 1]).digest()
            for i in range(2 * len(above), len(below) - 1, 2)
        )
        k += 1


class Tree:
    """A tree over a fixed list of leaf hashes, with every perfect subtree kept for fast proofs."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        if not all(map(_is_hash, leaf_hashes)):
            raise ValueError("leaf hashes are 32 bytes")
        levels = [list(leaf_hashes)]
        _grow_levels(levels)
        self._levels = levels
        self._size = len(levels[0])

    @classmethod
    def _view(cls, levels: list[list[bytes]], size: int) -> Tree:
        """A tree of the first ``size`` leaves of ``levels``, which may hold more (see TreeCache)."""
        tree = cls.__new__(cls)
        tree._levels = levels
        tree._size = size
        return tree

    def __len__(self) -> int:
        return self._size

    def _check_size(self, size: int) -> None:
        if type(size) is not int or not 0 <= size <= len(self):
            raise ValueError(f"tree size {size!r} out of range 0..{len(self)}")

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH of leaves [start, end), where start is aligned to a power of two >= end - start."""
        if end == start:
            return EMPTY_ROOT
        parts = []
        position = start
        remaining = end - start
        while remaining:
            level = remaining.bit_length() - 1
            parts.append(self._levels[level][position >> level])
            position += 1 << level
            remaining -= 1 << level
        result = parts[-1]
        for value in reversed(parts[:-1]):
            result = node_hash(value, result)
        return result

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the first ``size`` leaves (all when None)."""
        if size is None:
            size = len(self)
        self._check_size(size)
        return self._range_hash(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """Return the RFC 9162 inclusion proof (PATH) of leaf ``index`` in the tree of ``size`` leaves."""
        self._check_size(size)
        if type(index) is not int or not 0 <= index < size:
            raise ValueError(f"index {index!r} out of range for size {size}")
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                proof.append(self._range_hash(start + k, end))
                end = start + k
            else:
                proof.append(self._range_hash(start, start + k))
                start += k
        proof.reverse()
        return proof

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """Return the RFC 9162 consistency proof between sizes ``first`` and ``second``."""
        self._check_size(second)
        if type(first) is not int or not 0 <= first <= second:
            raise ValueError(f"first size {first!r} out of range 0..{second}")
        if first in (0, second):
            return []
        proof: list[bytes] = []
        start, end, m, complete = 0, second, first, True
        while True:
            n = end - start
            if m == n:
                if not complete:
                    proof.append(self._range_hash(start, end))
                break
            k = _split(n)
            if m <= k:
                proof.append(self._range_hash(start + k, end))
                end = start + k
            else:
                proof.append(self._range_hash(start, start + k))
                start += k
                m -= k
                complete = False
        proof.reverse()
        return proof


class TreeCache:
    """The levels of a growing log's tree, kept between proof requests (see AuditStore.tree).

    A log only grows, so the tree of a larger size reuses every node of a smaller one: extending the
    cache hashes only the new leaves. The store checks the cache against the head's root on every use
    and rebuilds it when they differ (a rolled-back append, another database), so a cache never serves
    a tree the current head does not commit to. Safe to share between threads.
    """

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = [[]]
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._levels[0])

    def clear(self) -> None:
        """Forget every leaf."""
        self._levels = [[]]

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        """Add leaf hashes at the end."""
        if not all(map(_is_hash, leaf_hashes)):
            raise ValueError("leaf hashes are 32 bytes")
        self._levels[0].extend(leaf_hashes)
        _grow_levels(self._levels)

    def tree(self, size: int | None = None) -> Tree:
        """Return the tree of the first ``size`` cached leaves (all when None)."""
        if size is None:
            size = len(self)
        if type(size) is not int or not 0 <= size <= len(self):
            raise ValueError(f"tree size {size!r} out of range 0..{len(self)}")
        return Tree._view(self._levels, size)
