"""Decoy's evidence bundles (docs/evidence-format.md): the checks of their files against their entries.

The one part of the audit package that knows the bundle's own files (records.py: their names and row
hashes; transcripts.py and legal_records.py: the checks). The verifier is given the checks
(EVIDENCE_BUNDLE_CHECKS) and notes explicitly, as ``python -m audit verify`` does.

Decoy's evidence bundles hold ``contacts/<id>/transcript.json`` files and ``attachments/<sha256>``
files. Each message was recorded with a ``message.create`` audit entry whose ``evidence`` holds the
SHA-256 of its verbatim text (``body_sha256``) and of its attachments, and whose ``details`` hold its
direction and flags; each contact with a ``contact.create`` entry holding the SHA-256 of the counterpart.
The legal records (``authorizations.json``, ``reviews.json``, ``profiles.json``) were recorded with
``authorization.register``, ``authorization.document_attach``, ``review.decide`` and ``profile.*``
entries, whose ``evidence`` holds the SHA-256 of each row's canonical columns (``row_sha256``, section
"Row hashes" of the format). These checks prove the files against those entries (which the bundle
proves against the signed checkpoint), in both directions: no record without its entry, no entry
without its record, and every name shown as who did it is the entry's actor. Standard library only.
"""

from __future__ import annotations

from audit.bundle import BundleCheck, BundleNote
from audit.evidence_bundle.initiative import check_initiative
from audit.evidence_bundle.legal_records import check_legal_records, note_rows_without_hash, rows_without_hash
from audit.evidence_bundle.notes import check_notes
from audit.evidence_bundle.records import (
    ROW_HASHED_ACTIONS,
    authorization_row_sha256,
    decision_row_sha256,
    profile_row_sha256,
    transition_row_sha256,
)
from audit.evidence_bundle.signed_reports import check_signed_reports
from audit.evidence_bundle.transcripts import check_transcripts

__all__ = [
    "EVIDENCE_BUNDLE_CHECKS",
    "EVIDENCE_BUNDLE_NOTES",
    "ROW_HASHED_ACTIONS",
    "authorization_row_sha256",
    "check_initiative",
    "check_legal_records",
    "check_notes",
    "check_signed_reports",
    "check_transcripts",
    "decision_row_sha256",
    "profile_row_sha256",
    "rows_without_hash",
    "transition_row_sha256",
]

#: Every check of an evidence bundle's files, in the order they run (after the audit part's own).
EVIDENCE_BUNDLE_CHECKS: tuple[BundleCheck, ...] = (
    check_transcripts,
    check_legal_records,
    check_initiative,
    check_notes,
    check_signed_reports,
)
#: The remarks on an intact evidence bundle.
EVIDENCE_BUNDLE_NOTES: tuple[BundleNote, ...] = (note_rows_without_hash,)
