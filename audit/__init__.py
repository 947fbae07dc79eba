"""Decoy's tamper-evident audit log: an RFC 9162 Merkle tree of canonical entries with signed checkpoints.

A standalone library: no Flask, no application imports. The storage names (AuditStore, define_tables,
install_triggers, ...) are imported lazily, so that the verifier (``python -m audit verify``) needs only
the standard library and cryptography. Importing it registers nothing: checks of entries and bundles
are handed to the verifiers by their callers (Decoy's evidence bundles: audit.evidence_bundle).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from audit.bundle import BundleCheck, verify_bundle
from audit.checkpoint import (
    Checkpoint,
    Signer,
    Verifier,
    load_signer,
    publish,
    read_published,
    write_private_key,
)
from audit.entry import EntryInput, canonical_json, decode_entries, decode_entry, encode_entry
from audit.errors import AuditError, CheckpointError, InconsistentLogError, KeyFileError
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
from audit.verify import EntryCheck, VerifyReport, verify_store

if TYPE_CHECKING:
    from audit.store import (
        Appended,
        AuditStore,
        AuditTables,
        StoredCheckpoint,
        define_tables,
        drop_triggers,
        install_triggers,
    )

__all__ = [
    "EMPTY_ROOT",
    "Appended",
    "AuditError",
    "AuditStore",
    "AuditTables",
    "BundleCheck",
    "Checkpoint",
    "CheckpointError",
    "EntryCheck",
    "EntryInput",
    "Frontier",
    "InconsistentLogError",
    "KeyFileError",
    "Signer",
    "StoredCheckpoint",
    "Tree",
    "TreeCache",
    "Verifier",
    "VerifyReport",
    "canonical_json",
    "decode_entries",
    "decode_entry",
    "define_tables",
    "drop_triggers",
    "encode_entry",
    "install_triggers",
    "leaf_hash",
    "load_signer",
    "node_hash",
    "publish",
    "read_published",
    "root_from_leaf_hashes",
    "verify_bundle",
    "verify_consistency",
    "verify_inclusion",
    "verify_store",
    "write_private_key",
]

_STORE_NAMES = frozenset(
    {
        "Appended",
        "AuditStore",
        "AuditTables",
        "StoredCheckpoint",
        "define_tables",
        "drop_triggers",
        "install_triggers",
    }
)


def __getattr__(name: str) -> Any:
    """Import the SQLAlchemy-backed store only when one of its names is used."""
    if name in _STORE_NAMES:
        return getattr(importlib.import_module("audit.store"), name)
    raise AttributeError(f"module 'audit' has no attribute {name!r}")
