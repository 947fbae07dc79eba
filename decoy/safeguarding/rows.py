"""Row hashes of safeguarding cases, their actions and closings, and of openings of sensitive material, and
the checks `decoy audit verify` makes of them (docs/evidence-format.md, "Row hashes"): free text by its
SHA-256, who by account id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session

from audit.entry import format_time

from ..evidence.fingerprint import text_sha256
from ..models import SafeguardingAction, SafeguardingCase, SafeguardingClosure, SensitiveOpening
from ..orders.rows import row_check, row_hash


def case_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of a safeguarding case."""
    return row_hash(
        {
            "id": row["id"],
            "operation_id": row["operation_id"],
            "contact_id": row["contact_id"],
            "cause": row["cause"],
            "category_change_id": row["category_change_id"],
            "message_id": row["message_id"],
            "reason_sha256": text_sha256(row["reason"]),
            "opened_by": row["opened_by"],
            "opened_at": format_time(row["opened_at"]),
            "due_at": format_time(row["due_at"]),
        }
    )


def action_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of an action of a case."""
    return row_hash(
        {
            "id": row["id"],
            "case_id": row["case_id"],
            "operation_id": row["operation_id"],
            "kind": row["kind"],
            "reference_sha256": text_sha256(row["reference"]),
            "note_sha256": text_sha256(row["note"]),
            "taken_at": format_time(row["taken_at"]),
            "recorded_by": row["recorded_by"],
            "recorded_at": format_time(row["recorded_at"]),
        }
    )


def closure_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of a case's closing."""
    return row_hash(
        {
            "id": row["id"],
            "case_id": row["case_id"],
            "operation_id": row["operation_id"],
            "outcome_sha256": text_sha256(row["outcome"]),
            "closed_by": row["closed_by"],
            "closed_at": format_time(row["closed_at"]),
        }
    )


def opening_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of an opening of sensitive material."""
    return row_hash(
        {
            "id": row["id"],
            "attachment_id": row["attachment_id"],
            "operation_id": row["operation_id"],
            "reason_sha256": text_sha256(row["reason"]),
            "opened_by": row["opened_by"],
            "opened_at": format_time(row["opened_at"]),
        }
    )


_cases: Table = SafeguardingCase.__table__  # type: ignore[attr-defined]
_actions: Table = SafeguardingAction.__table__  # type: ignore[attr-defined]
_closures: Table = SafeguardingClosure.__table__  # type: ignore[attr-defined]
_openings: Table = SensitiveOpening.__table__  # type: ignore[attr-defined]
_case = row_check(_cases, "safeguarding case", case_row_sha256, "opened_by")
_action = row_check(_actions, "safeguarding action", action_row_sha256, "recorded_by")
_closure = row_check(_closures, "safeguarding closing", closure_row_sha256, "closed_by")
_opening = row_check(_openings, "opening of sensitive material", opening_row_sha256, "opened_by")


def check_case(session: Session, entry: dict[str, Any]) -> str | None:
    """The case is the row its entry recorded, opened by the entry's actor."""
    return _case(session, entry)[0]


def check_action(session: Session, entry: dict[str, Any]) -> str | None:
    """The action is the row its entry recorded, by the entry's actor."""
    return _action(session, entry)[0]


def check_closure(session: Session, entry: dict[str, Any]) -> str | None:
    """The closing is the row its entry recorded, by the entry's actor."""
    return _closure(session, entry)[0]


def check_opening(session: Session, entry: dict[str, Any]) -> str | None:
    """The opening is the row its entry recorded, by the entry's actor."""
    return _opening(session, entry)[0]
