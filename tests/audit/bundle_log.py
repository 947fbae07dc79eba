"""A small signed log held in memory and the bundles made from it, for the bundle verifier's tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit_helpers import ORIGIN, build_bundle, make_entry

from audit.checkpoint import Checkpoint, Signer
from audit.entry import encode_entry
from audit.merkle import leaf_hash
from audit.tree import Tree

ROOT_DIR = Path(__file__).resolve().parents[2]
SIZE = 12
OPERATION_ENTRIES = [1, 4, 5, 9]  # the operation's entries among the log's


class Log:
    """A small log held in memory, as the export would read it from the store."""

    def __init__(self, signer: Signer, size: int = SIZE) -> None:
        self.signer = signer
        self.data = [
            encode_entry(make_entry(n, operation=1 if n in OPERATION_ENTRIES else 2), n) for n in range(size)
        ]
        self.hashes = [leaf_hash(d) for d in self.data]
        self.tree = Tree(self.hashes)

    def note(self, size: int) -> str:
        return self.signer.sign(Checkpoint(ORIGIN, size, self.tree.root(size)))

    def entries(self, indexes: list[int], size: int = SIZE) -> dict[int, tuple[bytes, bytes, list[bytes]]]:
        return {i: (self.data[i], self.hashes[i], self.tree.inclusion_proof(i, size)) for i in indexes}

    def bundle(self, path: Path, **options: Any) -> Path:
        return build_bundle(
            path,
            self.signer,
            self.entries(OPERATION_ENTRIES),
            self.note(SIZE),
            other_files={
                "transcripts/contact-1.json": b'{"messages": []}',
                "README.txt": b"How to verify.\n",
            },
            consistency=(self.note(5), self.tree.consistency_proof(5, SIZE)),
            **options,
        )
