"""The quick paths of the verifier (one-pass root, worker processes, whole blocks) give the plain answers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from audit_helpers import forged, rewrite, rows
from sqlalchemy import Engine
from test_audit_merkle import LEAVES, TREE
from test_audit_verify_store import build, flip, verify

import audit.verify_blocks
from audit.checkpoint import Signer
from audit.merkle import EMPTY_ROOT, Frontier, leaf_hash
from audit.store import AuditStore

Row = tuple[int, bytes, bytes]


def test_one_pass_roots_equal_the_reference_for_every_size_up_to_2000() -> None:
    """Frontier.extend (perfect blocks, no level kept) gives the root of the pymerkle-checked tree."""
    assert Frontier.empty().root() == EMPTY_ROOT
    for size in range(1, 2001):
        whole = Frontier.empty()
        whole.extend(LEAVES[:size])
        parts = Frontier.empty()
        for start in range(0, size, 1 + size // 3):  # pieces that do not start at a power of two
            parts.extend(LEAVES[start : min(size, start + 1 + size // 3)])
        assert whole.root() == parts.root() == TREE.root(size), size


def _flip_entry(stored: list[Row], k: int) -> None:
    stored[k] = (k, flip(stored[k][1], 8 * k + 3), stored[k][2])


def _rewrite_canonically(stored: list[Row], k: int) -> None:
    """Another valid entry, with its own leaf hash: only the tree (and the checkpoint) can tell."""
    stored[k] = forged(k, number=5000 + k)


def _non_canonical(stored: list[Row], k: int) -> None:
    data = stored[k][1].replace(b'"v":1}', b'"v":1 }')
    stored[k] = (k, data, leaf_hash(data))


def _swap(stored: list[Row], k: int) -> None:
    (a, ea, ha), (b, eb, hb) = stored[k], stored[k + 1]
    stored[k], stored[k + 1] = (a, eb, hb), (b, ea, ha)


def _delete(stored: list[Row], k: int) -> None:
    del stored[k]


TAMPERINGS: list[tuple[Callable[[list[Row], int], None], bool]] = [
    (_flip_entry, False),
    (_rewrite_canonically, True),
    (_non_canonical, True),
    (_swap, True),
    (_delete, False),
]


@pytest.mark.parametrize("k", [0, 39, 40, 137, 150, 151, 298])
def test_worker_processes_give_the_report_of_this_process(
    engine: Engine, store: AuditStore, signer: Signer, monkeypatch: pytest.MonkeyPatch, k: int
) -> None:
    """Blocks of 40 rows checked by two workers, out of turn: the same report, the same first bad index."""
    monkeypatch.setattr(audit.verify_blocks, "BLOCK", 40)
    build(engine, store, signer, 300, 150)
    original = rows(engine)
    for tamper, move_head in TAMPERINGS:
        stored = list(original)
        tamper(stored, k)
        rewrite(engine, stored, move_head=move_head)
        alone = verify(engine, store, signer, workers=0)
        assert verify(engine, store, signer, workers=2) == alone
        if tamper is _rewrite_canonically:
            # Only a signed checkpoint (of 150 entries) tells; the range it covers is named.
            assert alone.ok == (k >= 150) and alone.first_bad_index in (None, 0), alone.reason
        else:
            assert not alone.ok and alone.first_bad_index == k, (tamper.__name__, alone.reason)
    rewrite(engine, original, move_head=True)
    assert verify(engine, store, signer, workers=2) == verify(engine, store, signer, workers=0)
    assert verify(engine, store, signer, workers=2).ok
