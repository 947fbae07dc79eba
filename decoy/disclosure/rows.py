"""Row hashes of disclosure decisions and journal notes, and the checks `decoy audit verify` makes of them.

A row's hash is the SHA-256 of the canonical JSON (the audit log's own encoding) of its columns, with
account ids for who did it and the SHA-256 of its free text instead of the text (docs/evidence-format.md,
"Row hashes"). The hash is recorded in the row's audit entry when it is written; the checks recompute it
from the stored row, so that a row changed behind the database's triggers no longer matches its signed
entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session

from audit.entry import canonical_json, format_time

from ..evidence.checks import is_actor
from ..evidence.fingerprint import text_evidence, text_sha256
from ..models import DisclosureDecision, JournalNote
from ..retention.verification import text_state

_decision: Table = DisclosureDecision.__table__  # type: ignore[attr-defined]
_note: Table = JournalNote.__table__  # type: ignore[attr-defined]


def decision_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of a disclosure decision (an ORM object's columns or a Core row mapping)."""
    return hashlib.sha256(
        canonical_json(
            {
                "id": row["id"],
                "operation_id": row["operation_id"],
                "item_kind": row["item_kind"],
                "item_id": row["item_id"],
                "disclosure_class": row["disclosure_class"],
                "ground": row["ground"],
                "decision_reference": row["decision_reference"],
                "reason_sha256": text_sha256(row["reason"]),
                "decided_by": row["decided_by"],
                "decided_at": format_time(row["decided_at"]),
            }
        )
    ).hexdigest()


def note_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of a journal note: its body by its commitment (or, written before commitments, its
    ``body_sha256``; either checked against the text as stored, unless a disposal removed the text),
    never the text."""
    return hashlib.sha256(
        canonical_json(
            {
                "id": row["id"],
                "operation_id": row["operation_id"],
                "contact_id": row["contact_id"],
                **text_evidence(row),
                "written_by": row["written_by"],
                "written_at": format_time(row["written_at"]),
            }
        )
    ).hexdigest()


def _stored(session: Session, entry: dict[str, Any], table: Table, what: str) -> tuple[str, Any]:
    object_id = (entry.get("object") or {}).get("id")
    row = None
    if type(object_id) is int:
        row = session.connection().execute(select(table).where(table.c.id == object_id)).mappings().first()
    return f"{what} {object_id}", row


def check_disclosure_decision(session: Session, entry: dict[str, Any]) -> str | None:
    """The disclosure decision is the row its entry recorded, decided by the entry's actor."""
    where, row = _stored(session, entry, _decision, "disclosure decision")
    if row is None:
        return f"{where} is missing"
    if decision_row_sha256(row) != (entry.get("evidence") or {}).get("row_sha256"):
        return f"{where}: the stored row differs from the recorded one"
    if not is_actor(session, row["decided_by"], entry):
        return f"{where}: decided_by is not the entry's actor {entry.get('actor')!r}"
    return None


def check_journal_note(session: Session, entry: dict[str, Any]) -> str | None:
    """The journal note is the row its entry recorded (its text hashing to its ``body_sha256``), written
    by the entry's actor."""
    where, row = _stored(session, entry, _note, "journal note")
    if row is None:
        return f"{where} is missing"
    problem = text_state(session, "note", row)
    if problem is not None:
        return f"{where}: {problem}"
    if note_row_sha256(row) != (entry.get("evidence") or {}).get("row_sha256"):
        return f"{where}: the stored row differs from the recorded one"
    if not is_actor(session, row["written_by"], entry):
        return f"{where}: written_by is not the entry's actor {entry.get('actor')!r}"
    return None
