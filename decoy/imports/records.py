"""The rows an import writes besides its messages, their fingerprints, and their checks in
`decoy audit verify` (the import with its original file, its result, each reconciliation)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from audit.entry import canonical_json, format_time

from .. import blobstore
from ..evidence.checks import is_actor, usernames
from ..models import ExportReconciliation, MessageImport, MessageImportResult
from ..models.capture import DIFFERS, MISSING
from ..retention.verification import disposed_under

_import = MessageImport.__table__  # type: ignore[attr-defined]
_result = MessageImportResult.__table__  # type: ignore[attr-defined]
_reconciliation = ExportReconciliation.__table__  # type: ignore[attr-defined]

IMPORT_COLUMNS = (
    "id",
    "operation_id",
    "contact_id",
    "format",
    "sha256",
    "size",
    "filename",
    "decoy_name",
    "chat",
    "assumed_timezone",
    "capture_session_id",
    "imported_by",
)
RESULT_COLUMNS = (
    "import_id",
    "exported",
    "added",
    "duplicates",
    "differences",
    "system_lines",
)
RECONCILIATION_COLUMNS = ("id", "import_id", "message_id", "outcome", "export_message_id")


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


def _sha256(columns: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(columns)).hexdigest()


def import_fingerprint(row: Mapping[str, Any]) -> str:
    """The fingerprint of an import row (the file's hash among its columns)."""
    return _sha256({**{name: row[name] for name in IMPORT_COLUMNS}, "imported_at": _time(row["imported_at"])})


def result_fingerprint(row: Mapping[str, Any]) -> str:
    """The fingerprint of an import's result row."""
    return _sha256(
        {
            **{name: row[name] for name in RESULT_COLUMNS},
            "completed_at": _time(row["completed_at"]),
            "first_sent_at": _time(row["first_sent_at"]),
            "last_sent_at": _time(row["last_sent_at"]),
        }
    )


def reconciliation_fingerprint(row: Mapping[str, Any]) -> str:
    """The fingerprint of one reconciliation of a hand-typed message with an export."""
    return _sha256(
        {**{name: row[name] for name in RECONCILIATION_COLUMNS}, "recorded_at": _time(row["recorded_at"])}
    )


def _object_id(entry: dict[str, Any]) -> int | None:
    object_id = (entry.get("object") or {}).get("id")
    return object_id if type(object_id) is int else None


def _one(session: Session, table: Any, column: Any, value: int | None) -> Mapping[str, Any] | None:
    if value is None:
        return None
    return session.connection().execute(select(table).where(column == value)).mappings().first()


def check_import(session: Session, entry: dict[str, Any]) -> str | None:
    """The import row matches its entry, its importer is the entry's actor, and its original file is
    stored and still hashes to the SHA-256 the entry recorded."""
    import_id = _object_id(entry)
    evidence = entry.get("evidence") or {}
    row = _one(session, _import, _import.c.id, import_id)
    if row is None:
        return f"import {import_id} is missing"
    if row["sha256"] != evidence.get("file_sha256") or import_fingerprint(row) != evidence.get("row_sha256"):
        return f"import {import_id}: the stored row differs from the recorded one"
    problem = blobstore.problem(row["sha256"], connection=session.connection())
    if problem and not disposed_under(session, "import", import_id, row["sha256"]):
        return f"import {import_id}, the original file {row['sha256']}: {problem}"
    if not is_actor(session, row["imported_by"], entry):
        name = usernames(session).get(row["imported_by"])
        return f"import {import_id}: imported_by is {name!r}, the audit entry says {entry.get('actor')!r}"
    return None


def check_import_result(session: Session, entry: dict[str, Any]) -> str | None:
    """The import's result row matches its entry."""
    import_id = _object_id(entry)
    row = _one(session, _result, _result.c.import_id, import_id)
    if row is None:
        return f"the result of import {import_id} is missing"
    if result_fingerprint(row) != (entry.get("evidence") or {}).get("row_sha256"):
        return f"the result of import {import_id} differs from the recorded one"
    return None


def check_reconciliation(session: Session, entry: dict[str, Any]) -> str | None:
    """A reconciliation row matches its entry."""
    evidence = entry.get("evidence") or {}
    row_id = (entry.get("details") or {}).get("reconciliation")
    row = _one(session, _reconciliation, _reconciliation.c.id, row_id if type(row_id) is int else None)
    if row is None:
        return f"reconciliation {row_id} is missing"
    if row["message_id"] != _object_id(entry) or reconciliation_fingerprint(row) != evidence.get(
        "row_sha256"
    ):
        return f"reconciliation {row_id}: the stored row differs from the recorded one"
    return None


def contact_imports(
    session: Session,
    contact_id: int,
    names: Callable[[int | None, datetime | None], str | None],
    zone: ZoneInfo,
) -> list[dict[str, Any]]:
    """A contact's imports as a bundle lists them (``contacts/<id>/imports.json``): the original file
    (kept in the bundle at ``path``), how it was read, its result and its reconciliations."""
    connection = session.connection()
    rows = (
        connection.execute(
            select(_import, _result)
            .outerjoin(_result, _result.c.import_id == _import.c.id)
            .where(_import.c.contact_id == contact_id)
            .order_by(_import.c.id)
        )
        .mappings()
        .all()
    )
    reconciled = (
        connection.execute(
            select(_reconciliation)
            .where(_reconciliation.c.import_id.in_([row["id"] for row in rows]))
            .order_by(_reconciliation.c.id)
        )
        .mappings()
        .all()
    )
    listed = []
    for row in rows:
        listed.append(
            {
                "id": row["id"],
                "format": row["format"],
                "filename": row["filename"],
                "sha256": row["sha256"],
                "size": row["size"],
                "path": f"attachments/{row['sha256']}",
                "decoy_name": row["decoy_name"],
                "chat": row["chat"],
                "assumed_timezone": row["assumed_timezone"],
                "capture_session": row["capture_session_id"],
                "imported_by": names(row["imported_by"], row["imported_at"]),
                "imported_at": _local(row["imported_at"], zone),
                "result": None
                if row["completed_at"] is None
                else {
                    **{name: row[name] for name in RESULT_COLUMNS if name != "import_id"},
                    "first_sent_at": _local(row["first_sent_at"], zone),
                    "last_sent_at": _local(row["last_sent_at"], zone),
                },
                "reconciliations": [
                    {
                        "id": found["id"],
                        "message_id": found["message_id"],
                        "outcome": found["outcome"],
                        "export_message_id": found["export_message_id"],
                        "recorded_at": _local(found["recorded_at"], zone),
                    }
                    for found in reconciled
                    if found["import_id"] == row["id"]
                ],
            }
        )
    return listed


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return None if moment is None else moment.astimezone(zone).isoformat()


def later_flags_of_contact(session: Session, contact_id: int) -> dict[int, list[str]]:
    """The flags reconciliations found on a contact's typed messages, by message id."""
    rows = session.connection().execute(
        select(_reconciliation.c.message_id, _reconciliation.c.outcome)
        .join(_import, _import.c.id == _reconciliation.c.import_id)
        .where(_import.c.contact_id == contact_id, _reconciliation.c.outcome.in_((DIFFERS, MISSING)))
        .order_by(_reconciliation.c.id)
    )
    found: dict[int, list[str]] = {}
    for message_id, outcome in rows:
        found.setdefault(message_id, []).append(outcome)
    return found
