"""The Merkle tree agrees with RFC 6962/9162 test vectors, pymerkle and a naive reference, and its
verifiers reject every forged proof."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from audit.tree import Tree, TreeCache

# certificate-transparency-go / transparency-dev merkle test data: leaves, roots for sizes 1..8.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip
CT_CONSISTENCY = [
    (2, 8, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip


# The naive reference: RFC 9162 sections 2.1.1, 2.1.3.1 and 2.1.4.1 transcribed recursively.
def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return node_hash(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(2001)]
TREE = Tree(LEAVES)


def test_leaf_and_node_hashes_use_the_rfc_prefixes() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_roots_match_the_certificate_transparency_vectors() -> None:
    hashes = [leaf_hash(data) for data in CT_LEAVES]
    tree = Tree(hashes)
    assert root_from_leaf_hashes([]) == EMPTY_ROOT == tree.root(0)
    for size in range(1, 9):
        assert root_from_leaf_hashes(hashes[:size]).hex() == CT_ROOTS[size - 1]
        assert tree.root(size).hex() == CT_ROOTS[size - 1]
        assert Frontier.from_leaf_hashes(hashes[:size]).root().hex() == CT_ROOTS[size - 1]


def test_proofs_match_the_certificate_transparency_vectors() -> None:
    hashes = [leaf_hash(data) for data in CT_LEAVES]
    tree = Tree(hashes)
    for index, size, expected in CT_INCLUSION:
        proof = tree.inclusion_proof(index, size)
        assert [p.hex() for p in proof] == expected
        assert verify_inclusion(index, size, hashes[index], proof, bytes.fromhex(CT_ROOTS[size - 1]))
    for first, second, expected in CT_CONSISTENCY:
        proof = tree.consistency_proof(first, second)
        assert [p.hex() for p in proof] == expected
        roots = bytes.fromhex(CT_ROOTS[first - 1]), bytes.fromhex(CT_ROOTS[second - 1])
        assert verify_consistency(first, second, *roots, proof)


def test_roots_match_pymerkle_for_every_size_up_to_2000() -> None:
    reference = InmemoryTree(algorithm="sha256")
    # pymerkle hashes leaves and nodes with the 0x00 / 0x01 prefixes in its default (secure) mode.
    assert reference.hash_buff(b"x") == leaf_hash(b"x")
    assert reference.hash_pair(b"a" * 32, b"b" * 32) == node_hash(b"a" * 32, b"b" * 32)
    assert reference.get_root(0) == EMPTY_ROOT
    frontier = Frontier.empty()
    for size in range(1, 2001):
        reference.append_entry((size - 1).to_bytes(4, "big"))
        frontier.append(LEAVES[size - 1])
        expected = reference.get_root()
        assert frontier.root() == expected, size
        assert TREE.root(size) == expected, size
        if size % 97 == 0 or size < 70:
            assert root_from_leaf_hashes(LEAVES[:size]) == expected
            # pymerkle's path starts with the leaf itself; the rest is the RFC 9162 audit path.
            for index in {0, size // 3, size - 1}:
                assert (
                    TREE.inclusion_proof(index, size) == reference.prove_inclusion(index + 1, size).path[1:]
                )


def test_proofs_match_the_rfc_text_for_a_sample_of_sizes() -> None:
    for size in [*range(1, 70), 127, 128, 129, 255, 256, 257, 1000, 1023, 1024, 1025, 2000]:
        prefix = LEAVES[:size]
        root = TREE.root(size)
        assert root == ref_mth(prefix)
        for index in sorted({0, 1 % size, size // 2, size - 2 if size > 1 else 0, size - 1}):
            proof = TREE.inclusion_proof(index, size)
            assert proof == ref_path(index, prefix)
            assert verify_inclusion(index, size, LEAVES[index], proof, root)
        for first in sorted({1, 2 % size or 1, size // 2 or 1, size - 1 or 1, size}):
            proof = TREE.consistency_proof(first, size)
            assert proof == ([] if first == size else ref_subproof(first, prefix, True))
            assert verify_consistency(first, size, TREE.root(first), root, proof)


def test_every_proof_in_small_trees_verifies() -> None:
    for size in range(0, 65):
        root = TREE.root(size)
        for index in range(size):
            assert verify_inclusion(index, size, LEAVES[index], TREE.inclusion_proof(index, size), root)
        for first in range(0, size + 1):
            proof = TREE.consistency_proof(first, size)
            assert verify_consistency(first, size, TREE.root(first), root, proof)


def test_frontier_survives_storage() -> None:
    frontier = Frontier.from_leaf_hashes(LEAVES[:1234])
    again = Frontier.from_bytes(1234, frontier.to_bytes())
    assert again.root() == frontier.root() == TREE.root(1234)
    again.append(LEAVES[1234])
    assert again.root() == TREE.root(1235)
    with pytest.raises(ValueError):
        Frontier.from_bytes(1235, frontier.to_bytes())


@settings(max_examples=300, deadline=None)
@given(size=st.integers(1, 300), data=st.data())
def test_forged_inclusion_proofs_are_rejected(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    root = TREE.root(size)
    proof = TREE.inclusion_proof(index, size)
    leaf = LEAVES[index]
    assert verify_inclusion(index, size, leaf, proof, root)
    other = data.draw(st.integers(0, 400).filter(lambda i: i != index))
    assert not verify_inclusion(other, size, leaf, proof, root)
    wrong_size = data.draw(st.integers(1, 400).filter(lambda s: s != size))
    # A proof for another size, checked against that size's root, fails unless it is that proof too.
    if index >= wrong_size or TREE.inclusion_proof(index, wrong_size) != proof:
        assert not verify_inclusion(index, wrong_size, leaf, proof, TREE.root(wrong_size))
    assert not verify_inclusion(index, size, leaf, [*proof, LEAVES[0]], root)
    assert not verify_inclusion(index, size, leaf, [LEAVES[0], *proof], root)
    if proof:
        assert not verify_inclusion(index, size, leaf, proof[:-1], root)
        assert not verify_inclusion(index, size, leaf, proof[1:], root)
        position = data.draw(st.integers(0, len(proof) - 1))
        flipped = bytearray(proof[position])
        flipped[data.draw(st.integers(0, 31))] ^= 1 << data.draw(st.integers(0, 7))
        assert not verify_inclusion(
            index, size, leaf, [*proof[:position], bytes(flipped), *proof[position + 1 :]], root
        )
    assert not verify_inclusion(size, size, leaf, proof, root)
    assert not verify_inclusion(size + 5, size, leaf, proof, root)
    assert not verify_inclusion(-1, size, leaf, proof, root)
    assert not verify_inclusion(index, size, leaf[:31], proof, root)
    assert not verify_inclusion(index, size, leaf, proof, root + b"\x00")
    assert not verify_inclusion(True, size, leaf, proof, root) or index == 1


@settings(max_examples=300, deadline=None)
@given(second=st.integers(2, 300), data=st.data())
def test_forged_consistency_proofs_are_rejected(second: int, data: st.DataObject) -> None:
    first = data.draw(st.integers(1, second - 1))
    first_root, second_root = TREE.root(first), TREE.root(second)
    proof = TREE.consistency_proof(first, second)
    assert verify_consistency(first, second, first_root, second_root, proof)
    assert not verify_consistency(second, first, second_root, first_root, proof)
    for wrong in {first - 1, first + 1}:
        if 0 < wrong < second and TREE.consistency_proof(wrong, second) != proof:
            assert not verify_consistency(wrong, second, TREE.root(wrong), second_root, proof)
    for wrong in {second - 1, second + 1}:
        if first < wrong and TREE.consistency_proof(first, wrong) != proof:
            assert not verify_consistency(first, wrong, first_root, TREE.root(wrong), proof)
    assert not verify_consistency(first, second, first_root, second_root, [*proof, LEAVES[0]])
    assert not verify_consistency(first, second, first_root, second_root, proof[:-1])
    assert not verify_consistency(first, second, first_root, second_root, proof[1:])
    assert not verify_consistency(first, second, first_root, second_root, [])
    assert not verify_consistency(first, second, LEAVES[2000], second_root, proof)
    assert not verify_consistency(first, second, first_root, LEAVES[2000], proof)
    position = data.draw(st.integers(0, len(proof) - 1))
    flipped = bytearray(proof[position])
    flipped[data.draw(st.integers(0, 31))] ^= 1 << data.draw(st.integers(0, 7))
    forged = [*proof[:position], bytes(flipped), *proof[position + 1 :]]
    assert not verify_consistency(first, second, first_root, second_root, forged)


def test_degenerate_consistency_cases() -> None:
    root = TREE.root(4)
    assert verify_consistency(4, 4, root, root, [])
    assert not verify_consistency(4, 4, root, TREE.root(5), [])
    assert not verify_consistency(4, 4, root, root, [root])
    assert verify_consistency(0, 8, EMPTY_ROOT, TREE.root(8), [])
    assert not verify_consistency(0, 8, TREE.root(1), TREE.root(8), [])
    assert not verify_consistency(0, 8, EMPTY_ROOT, TREE.root(8), [root])


def test_verifiers_never_raise_on_garbage() -> None:
    root = TREE.root(8)
    for args in [
        ("x", 8, LEAVES[0], [], root),
        (0, None, LEAVES[0], [], root),
        (0, 8, None, [], root),
        (0, 8, LEAVES[0], None, root),
        (0, 8, LEAVES[0], ["not bytes"], root),
        (0, 8, LEAVES[0], [b"short"], root),
        (0, 1 << 70, LEAVES[0], [], root),
        (0, 8, LEAVES[0], [LEAVES[0]] * 500, root),
    ]:
        assert verify_inclusion(*args) is False  # type: ignore[arg-type]
    assert verify_consistency(1, 8, b"", root, [LEAVES[0]]) is False
    assert verify_consistency(1, 8, LEAVES[0], root, [b"short"]) is False  # type: ignore[list-item]
    assert verify_consistency("1", 8, LEAVES[0], root, []) is False  # type: ignore[arg-type]


def test_tree_refuses_out_of_range_requests() -> None:
    tree = Tree(LEAVES[:10])
    with pytest.raises(ValueError):
        tree.inclusion_proof(10, 10)
    with pytest.raises(ValueError):
        tree.inclusion_proof(0, 11)
    with pytest.raises(ValueError):
        tree.consistency_proof(5, 4)
    with pytest.raises(ValueError):
        tree.root(11)


@settings(max_examples=60, deadline=None)
@given(first=st.integers(0, 300), more=st.lists(st.integers(0, 130), max_size=4))
def test_frontier_extend_equals_appending_one_by_one(first: int, more: list[int]) -> None:
    total = first + sum(more)
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(total)]
    extended = Frontier.from_leaf_hashes(leaves[:first])
    appended = extended.copy()
    position = first
    for count in more:
        extended.extend(leaves[position : position + count])
        position += count
    for leaf in leaves[first:]:
        appended.append(leaf)
    assert extended.size == appended.size == total
    assert extended.to_bytes() == appended.to_bytes()
    assert extended.root() == root_from_leaf_hashes(leaves)
    with pytest.raises(ValueError):
        extended.extend([bytes(31)])


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(st.integers(0, 70), min_size=1, max_size=5), data=st.data())
def test_a_tree_cache_grows_into_the_same_tree(steps: list[int], data: st.DataObject) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(sum(steps))]
    cache = TreeCache()
    views = []
    for count in steps:
        cache.extend(leaves[len(cache) : len(cache) + count])
        views.append(cache.tree())
    for view in views:  # a tree handed out earlier keeps its size and its answers
        size = len(view)
        whole = Tree(leaves[:size])
        assert view.root() == whole.root()
        if size:
            index = data.draw(st.integers(0, size - 1))
            first = data.draw(st.integers(0, size))
            assert view.inclusion_proof(index, size) == whole.inclusion_proof(index, size)
            assert view.consistency_proof(first, size) == whole.consistency_proof(first, size)
    with pytest.raises(ValueError):
        cache.tree(len(cache) + 1)
    cache.clear()
    assert len(cache) == 0 and cache.tree().root() == EMPTY_ROOT
