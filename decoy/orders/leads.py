"""The leads register: information an operation passed to another unit or agency.

A lead records to whom it went, on what legal basis, under which TLP label (FIRST TLP 2.0), the SHA-256
of what was sent (the material itself stays where it is), when it was passed and by whom. The supervisors
and detectives assigned to the operation record leads, and so do the legal officers; after the operation
is closed too, since information is still passed on then. A lead is append-only: a correction is a new
lead. Every lead has its audit entry, with its row hash and its description by SHA-256 only, in the same
transaction; ``check_lead`` lets `decoy audit verify` recompute that hash from the stored row.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Table, select
from sqlmodel import Session, col
from sqlmodel import select as select_model

from audit.entry import canonical_json, format_time

from .. import access, audit_bridge, clock
from ..access import Actor
from ..disclosure import codes
from ..errors import Forbidden, InvalidInput, NotFound
from ..evidence.checks import is_actor
from ..evidence.fingerprint import columns, text_sha256
from ..export.spreadsheet import csv_bytes
from ..models import MAX_ID, TLP_LABELS, Lead, Operation
from ..operations.guards import clean, past_moment, storable

#: The longest recipient or legal basis, and the longest description, in characters.
MAX_LINE = 200
MAX_DESCRIPTION = 20_000
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")

_lead: Table = Lead.__table__  # type: ignore[attr-defined]


def may_record(session: Session, actor: Actor, operation_id: int) -> bool:
    """Whether ``actor`` records the operation's leads: a supervisor or detective assigned to it, or a
    legal officer (who may see every operation)."""
    if not access.sees_evidence(actor):
        return False
    if actor.has_role("legal"):
        return True
    return actor.has_role("supervisor", "detective") and access.is_member(session, actor, operation_id)


def visible_operation(session: Session, actor: Actor, operation_id: int) -> Operation:
    """The operation, or NotFound when it does not exist or ``actor`` may not see it."""
    if isinstance(operation_id, bool) or not isinstance(operation_id, int) or not 0 < operation_id <= MAX_ID:
        raise NotFound(access.not_found("operation"))
    return access.visible_operation(session, actor, operation_id)


def require_recorder(session: Session, actor: Actor, operation_id: int) -> Operation:
    """The operation, if ``actor`` records its leads; NotFound for one they may not see, Forbidden for one
    they may only read."""
    operation = visible_operation(session, actor, operation_id)
    if not may_record(session, actor, operation_id):
        raise Forbidden(
            _("only the operation's supervisors and detectives, and legal officers, record leads")
        )
    return operation


def _tlp(value: Any) -> str:
    """The TLP label in its canonical form (given in any case); InvalidInput naming ``tlp`` otherwise."""
    label = clean(value, "tlp", max_length=32, required=True, single_line=True).upper()
    if label not in TLP_LABELS:
        raise InvalidInput(
            _("tlp must be one of %(labels)s", labels=", ".join(TLP_LABELS)), field="tlp"
        )
    return label


def _sha256(value: Any) -> str:
    """A SHA-256 digest as 64 lower-case hex digits (given in any case)."""
    digest = clean(value, "sha256", max_length=64, required=True, single_line=True).lower()
    if not SHA256_PATTERN.match(digest):
        raise InvalidInput(_("sha256 must be 64 hexadecimal digits (a SHA-256 digest)"), field="sha256")
    return digest


def record_lead(
    *,
    session: Session,
    actor: codes.Acting,
    operation_id: int,
    recipient: str,
    legal_basis: str,
    tlp: str,
    sha256: str,
    description: str,
    passed_at: datetime | str | None = None,
) -> Lead:
    """Record that information was passed from the operation to another unit or agency, with its audit
    entry; the caller commits.

    :param sha256: the SHA-256 of what was sent (any case; stored in lower case).
    :param passed_at: when it was passed (RFC 3339 with an offset, or an aware datetime); now if None.
    """
    require_recorder(session, actor, operation_id)
    name = codes.officer_name(actor)
    recipient = storable(clean(recipient, "recipient", max_length=MAX_LINE, required=True,
                                single_line=True), "recipient")
    legal_basis = storable(clean(legal_basis, "legal_basis", max_length=MAX_LINE, required=True,
                                  single_line=True), "legal_basis")
    label = _tlp(tlp)
    digest = _sha256(sha256)
    text = storable(clean(description, "description", max_length=MAX_DESCRIPTION, required=True),
                     "description")
    now = clock.now()
    row = Lead(
        operation_id=operation_id,
        recipient=recipient,
        legal_basis=legal_basis,
        tlp=label,
        sha256=digest,
        description=text,
        passed_at=past_moment(passed_at, "passed_at", now),
        passed_by=actor.id,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    audit_bridge.record(
        session,
        actor=name,
        action="lead.record",
        object_type="lead",
        object_id=row.id,
        operation_id=operation_id,
        evidence={"row_sha256": lead_row_sha256(columns(row))},
        details={
            "recipient": recipient,
            "legal_basis": legal_basis,
            "tlp": label,
            "sha256": digest,
            "passed_at": format_time(row.passed_at),
            "description_sha256": text_sha256(text),
        },
    )
    return row


def list_leads(session: Session, actor: Actor, operation_id: int) -> list[Lead]:
    """The operation's leads in the order they were recorded; NotFound for what ``actor`` may not see."""
    visible_operation(session, actor, operation_id)
    query = select_model(Lead).where(Lead.operation_id == operation_id).order_by(col(Lead.id))
    return list(session.exec(query).all())


def central_leads(session: Session, actor: Actor) -> list[tuple[Lead, Operation]]:
    """Every lead of the operations ``actor`` may see, with its operation, in the order recorded (the
    central record's register of leads)."""
    query = (
        select_model(Lead, Operation)
        .join(Operation, col(Operation.id) == Lead.operation_id)
        .where(access.operation_clause(actor, Lead.operation_id))
        .order_by(col(Lead.id))
    )
    return [(lead, operation) for lead, operation in session.exec(query).all()]


def local_time(moment: datetime, zone_name: str) -> str:
    """RFC 3339 text of ``moment`` at the offset of the operation's zone."""
    return moment.astimezone(ZoneInfo(zone_name)).isoformat()


CSV_HEADER = (
    "lead",
    "operation",
    "recipient",
    "legal basis",
    "TLP",
    "SHA-256 of what was sent",
    "description",
    "passed at",
    "passed by",
    "recorded at",
    "time zone",
)


def central_csv(session: Session, actor: Actor) -> bytes:
    """The register of leads ``actor`` may see as CSV: officers by verbalisant code, times in each
    operation's zone, every cell a spreadsheet could run as a formula neutralised."""
    officers = codes.Officers(session)
    rows = [
        [
            lead.id,
            operation.name,
            lead.recipient,
            lead.legal_basis,
            lead.tlp,
            lead.sha256,
            lead.description,
            local_time(lead.passed_at, operation.timezone),
            officers(lead.passed_by, lead.recorded_at) or "",
            local_time(lead.recorded_at, operation.timezone),
            operation.timezone,
        ]
        for lead, operation in central_leads(session, actor)
    ]
    return csv_bytes(CSV_HEADER, rows)


# --- the row hash and the check of `decoy audit verify` -------------------------------------------------


def lead_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of a lead (an ORM object's columns or a Core row mapping): its description by the
    SHA-256 of the text as stored, never the text."""
    return hashlib.sha256(
        canonical_json(
            {
                "id": row["id"],
                "operation_id": row["operation_id"],
                "recipient": row["recipient"],
                "legal_basis": row["legal_basis"],
                "tlp": row["tlp"],
                "sha256": row["sha256"],
                "description_sha256": text_sha256(row["description"]),
                "passed_at": format_time(row["passed_at"]),
                "passed_by": row["passed_by"],
                "recorded_at": format_time(row["recorded_at"]),
            }
        )
    ).hexdigest()


def check_lead(session: Session, entry: dict[str, Any]) -> str | None:
    """The lead is the row its entry recorded, passed on by the entry's actor."""
    object_id = (entry.get("object") or {}).get("id")
    row = None
    if type(object_id) is int:
        row = session.connection().execute(select(_lead).where(_lead.c.id == object_id)).mappings().first()
    where = f"lead {object_id}"
    if row is None:
        return f"{where} is missing"
    if row["operation_id"] != entry.get("operation"):
        recorded = entry.get("operation")
        return f"{where}: belongs to operation {row['operation_id']}, its entry recorded {recorded}"
    if lead_row_sha256(row) != (entry.get("evidence") or {}).get("row_sha256"):
        return f"{where}: the stored row differs from the recorded one"
    if not is_actor(session, row["passed_by"], entry):
        return f"{where}: passed_by is not the entry's actor {entry.get('actor')!r}"
    return None
