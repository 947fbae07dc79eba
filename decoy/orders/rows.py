"""Row hashes of withdrawals, closings and reopenings, end reports and their deliveries, and the checks
`decoy audit verify` makes of them.

A row's hash is the SHA-256 of the canonical JSON (the audit log's own encoding) of its columns, with
account ids for who did it and the SHA-256 of free text instead of the text (docs/evidence-format.md,
"Row hashes"). The hash is recorded in the row's audit entry when it is written; each check recomputes it
from the stored row, so that a row changed behind the database's triggers no longer matches its signed
entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session

from audit.entry import canonical_json, format_time

from ..evidence.checks import check_file, is_actor
from ..evidence.fingerprint import text_sha256
from ..models import AuthorizationWithdrawal, EndReport, EndReportDelivery, OperationClosure

_withdrawal: Table = AuthorizationWithdrawal.__table__  # type: ignore[attr-defined]
_closure: Table = OperationClosure.__table__  # type: ignore[attr-defined]
_end_report: Table = EndReport.__table__  # type: ignore[attr-defined]
_delivery: Table = EndReportDelivery.__table__  # type: ignore[attr-defined]


def row_hash(values: Any) -> str:
    """The SHA-256 (hex) of ``values`` in the audit log's canonical JSON: a row hash."""
    return hashlib.sha256(canonical_json(values)).hexdigest()


def withdrawal_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of a withdrawal (its reason by the SHA-256 of the text)."""
    return row_hash(
        {
            "id": row["id"],
            "authorization_id": row["authorization_id"],
            "operation_id": row["operation_id"],
            "effective_at": format_time(row["effective_at"]),
            "reason_sha256": text_sha256(row["reason"]),
            "withdrawn_by": row["withdrawn_by"],
            "recorded_at": format_time(row["recorded_at"]),
        }
    )


def closure_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of an operation's closing or reopening."""
    return row_hash(
        {
            "id": row["id"],
            "operation_id": row["operation_id"],
            "action": row["action"],
            "reason_sha256": text_sha256(row["reason"]),
            "decided_by": row["decided_by"],
            "decided_at": format_time(row["decided_at"]),
        }
    )


def end_report_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of an end report (its file by its SHA-256)."""
    return row_hash(
        {
            "id": row["id"],
            "operation_id": row["operation_id"],
            "closure_id": row["closure_id"],
            "sha256": row["sha256"],
            "size": row["size"],
            "created_by": row["created_by"],
            "created_at": format_time(row["created_at"]),
        }
    )


def delivery_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of an end report's delivery."""
    return row_hash(
        {
            "id": row["id"],
            "end_report_id": row["end_report_id"],
            "recipient": row["recipient"],
            "delivered_at": format_time(row["delivered_at"]),
            "recorded_by": row["recorded_by"],
            "recorded_at": format_time(row["recorded_at"]),
        }
    )


def row_check(
    table: Table, what: str, row_sha256: Callable[[Mapping[str, Any]], str], actor_column: str
) -> Callable[[Session, dict[str, Any]], tuple[str | None, Any]]:
    """A check that the row an entry names (by its object id) is stored as recorded, by the entry's actor;
    it answers the problem (or None) and the row. ``row_sha256`` hashes the row as a Core mapping."""

    def check(session: Session, entry: dict[str, Any]) -> tuple[str | None, Any]:
        object_id = (entry.get("object") or {}).get("id")
        where = f"{what} {object_id}"
        row = None
        if type(object_id) is int:
            query = select(table).where(table.c.id == object_id)
            row = session.connection().execute(query).mappings().first()
        if row is None:
            return f"{where} is missing", None
        if row_sha256(row) != (entry.get("evidence") or {}).get("row_sha256"):
            return f"{where}: the stored row differs from the recorded one", row
        if not is_actor(session, row[actor_column], entry):
            return f"{where}: {actor_column} is not the entry's actor {entry.get('actor')!r}", row
        return None, row

    return check


_withdrawal_check = row_check(_withdrawal, "withdrawal", withdrawal_row_sha256, "withdrawn_by")
_closure_check = row_check(_closure, "operation closing", closure_row_sha256, "decided_by")
_end_report_check = row_check(_end_report, "end report", end_report_row_sha256, "created_by")
_delivery_check = row_check(_delivery, "end report delivery", delivery_row_sha256, "recorded_by")


def check_withdrawal(session: Session, entry: dict[str, Any]) -> str | None:
    """The withdrawal is the row its entry recorded, by the entry's actor."""
    return _withdrawal_check(session, entry)[0]


def check_closure(session: Session, entry: dict[str, Any]) -> str | None:
    """The closing or reopening is the row its entry recorded, by the entry's actor."""
    return _closure_check(session, entry)[0]


def check_end_report(session: Session, entry: dict[str, Any]) -> str | None:
    """The end report is the row its entry recorded, and its file still has the content recorded."""
    problem, row = _end_report_check(session, entry)
    if problem is not None:
        return problem
    found = check_file(row["sha256"], session)
    return None if found is None else f"end report {row['id']}: {found}"


def check_delivery(session: Session, entry: dict[str, Any]) -> str | None:
    """The delivery is the row its entry recorded, by the entry's actor."""
    return _delivery_check(session, entry)[0]
