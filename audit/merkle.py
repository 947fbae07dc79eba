"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, the frontier of a growing tree, and the
verification of proofs: what an independent verifier needs. Building proofs: audit.tree.

Standard library only, so that an independent verifier needs nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Frontier",
    "leaf_hash",
    "node_hash",
    "perfect_root",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256
# Proofs for trees of up to 2**64 leaves have at most 64 (inclusion) or 128 (consistency) hashes;
# anything longer is malformed and refused before hashing.
_MAX_SIZE = 1 << 64
_MAX_PATH = 128


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_size(value: object) -> bool:
    # bool is an int subclass; True must not pass for a tree size of 1.
    return type(value) is int and 0 <= value < _MAX_SIZE


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash (RFC 9162 2.1.1) of the given leaf hashes; EMPTY_ROOT for none."""
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        # Pairing level by level and promoting a lone last node gives exactly the MTH split
        # (largest power of two on the left).
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def perfect_root(leaves: Sequence[bytes]) -> bytes:
    """The root of the perfect subtree over ``leaves`` (a power of two of them), level by level."""
    level = list(leaves)
    sha256 = _sha256
    while len(level) > 1:
        pairs = iter(level)  # every level below the top has an even number of nodes
        level = [sha256(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=False)]
    return level[0]


class Frontier:
    """The right frontier (compact range) of a tree: roots of its perfect subtrees, largest first.

    It holds exactly what is needed to append a leaf and compute the root in O(log n).
    ``append`` changes the frontier in place.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int, hashes: list[bytes]) -> None:
        if not _is_size(size) or len(hashes) != size.bit_count() or not all(map(_is_hash, hashes)):
            raise ValueError("frontier does not match its size")
        self._size = size
        self._hashes = hashes

    @classmethod
    def empty(cls) -> Frontier:
        """Return the frontier of the empty tree."""
        return cls(0, [])

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        """Rebuild a frontier from its stored form (the concatenated subtree roots)."""
        if len(data) % HASH_SIZE:
            raise ValueError("frontier bytes are not a whole number of hashes")
        hashes = [bytes(data[i : i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE)]
        return cls(size, hashes)

    @classmethod
    def from_leaf_hashes(cls, hashes: Sequence[bytes]) -> Frontier:
        """Return the frontier of a tree with the given leaves."""
        frontier = cls.empty()
        for value in hashes:
            frontier.append(value)
        return frontier

    @property
    def size(self) -> int:
        """Number of leaves in the tree."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Perfect subtree roots, largest (leftmost) first."""
        return tuple(self._hashes)

    def append(self, leaf: bytes) -> None:
        """Append one leaf hash (in place)."""
        if not _is_hash(leaf):
            raise ValueError("a leaf hash is 32 bytes")
        hashes = self._hashes
        size = self._size
        # Every trailing one bit of the old size is a perfect subtree the new leaf completes.
        while size & 1:
            leaf = _sha256(b"\x01" + hashes.pop() + leaf).digest()
            size >>= 1
        hashes.append(leaf)
        self._size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Append many leaf hashes (in place); the same as appending them one by one, about twice as fast.

        The leaves are taken in perfect blocks aligned to the tree, each hashed level by level.
        """
        leaves = list(leaves)
        if not (set(map(type, leaves)) <= {bytes} and set(map(len, leaves)) <= {HASH_SIZE}):
            if not all(map(_is_hash, leaves)):
                raise ValueError("a leaf hash is 32 bytes")
        position, total = 0, len(leaves)
        while position < total:
            block = 1 << ((total - position).bit_length() - 1)
            if self._size:
                block = min(block, self._size & -self._size)
            self._push(perfect_root(leaves[position : position + block]), block.bit_length() - 1)
            position += block

    def extend_perfect(self, root: bytes, count: int) -> None:
        """Append ``count`` leaves (a power of two, dividing the size) given as their subtree's root."""
        if not _is_hash(root) or count < 1 or count.bit_count() != 1 or self._size % count:
            raise ValueError("not the root of a perfect subtree aligned to the tree")
        self._push(root, count.bit_length() - 1)

    def _push(self, subtree: bytes, height: int) -> None:
        """Append the root of a perfect subtree of 2**height leaves; the size is a multiple of that."""
        hashes = self._hashes
        carry = self._size >> height
        while carry & 1:
            subtree = _sha256(b"\x01" + hashes.pop() + subtree).digest()
            carry >>= 1
        hashes.append(subtree)
        self._size += 1 << height

    def root(self) -> bytes:
        """Return the tree's root hash."""
        hashes = self._hashes
        if not hashes:
            return EMPTY_ROOT
        result = hashes[-1]
        for value in reversed(hashes[:-1]):
            result = _sha256(b"\x01" + value + result).digest()
        return result

    def to_bytes(self) -> bytes:
        """Return the stored form: the subtree roots concatenated, largest first."""
        return b"".join(self._hashes)

    def copy(self) -> Frontier:
        """Return an independent copy."""
        return Frontier(self._size, list(self._hashes))


def verify_inclusion(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """Check an inclusion proof exactly as RFC 9162 2.1.3.2; never raises, False for malformed input."""
    try:
        if not (_is_size(index) and _is_size(size) and index < size):
            return False
        if not (_is_hash(leaf_hash) and _is_hash(root)) or len(proof) > _MAX_PATH:
            return False
        fn, sn, result = index, size - 1, leaf_hash
        for value in proof:
            if not _is_hash(value) or sn == 0:
                return False
            if fn & 1 or fn == sn:
                result = node_hash(value, result)
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
            else:
                result = node_hash(result, value)
            fn >>= 1
            sn >>= 1
        return sn == 0 and hmac.compare_digest(result, root)
    except Exception:  # a verifier answers False to anything it cannot read
        return False


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check a consistency proof exactly as RFC 9162 2.1.4.2; never raises, False for malformed input."""
    try:
        if not (_is_size(first) and _is_size(second) and first <= second):
            return False
        if not (_is_hash(first_root) and _is_hash(second_root)) or len(proof) > _MAX_PATH:
            return False
        if not all(map(_is_hash, proof)):
            return False
        if first == second:
            return len(proof) == 0 and hmac.compare_digest(first_root, second_root)
        if first == 0:
            # Every tree extends the empty one; only the empty root is a valid first root.
            return len(proof) == 0 and hmac.compare_digest(first_root, EMPTY_ROOT)
        if not proof:
            return False
        path = list(proof)
        if first & (first - 1) == 0:
            path.insert(0, first_root)
        fn, sn = first - 1, second - 1
        while fn & 1:
            fn >>= 1
            sn >>= 1
        fr = sr = path[0]
        for value in path[1:]:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                fr = node_hash(value, fr)
                sr = node_hash(value, sr)
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
            else:
                sr = node_hash(sr, value)
            fn >>= 1
            sn >>= 1
        return sn == 0 and hmac.compare_digest(fr, first_root) and hmac.compare_digest(sr, second_root)
    except Exception:  # a verifier answers False to anything it cannot read
        return False
