"""The outcome of a suspect's case (convicted, acquitted, dismissed, settled, not prosecuted), recorded by a
legal officer with the decision's reference and when it became final: it sets how long the suspect's data
is kept (decoy.retention.schedule). Append-only; the latest record is the contact's outcome. Each record
has its audit entry with its row hash in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Table
from sqlmodel import Session, col, select

from audit.entry import format_time

from .. import audit_bridge, clock
from ..access import Actor
from ..disclosure import codes
from ..errors import Forbidden, InvalidInput, RuleViolation
from ..evidence.categories import current_category
from ..evidence.fingerprint import columns
from ..evidence.reading import visible_contact
from ..models import CASE_OUTCOMES, Contact, ContactOutcome, Role
from ..operations.guards import clean, past_moment, storable
from ..orders.rows import row_check, row_hash

MAX_REFERENCE = 200
_outcomes: Table = ContactOutcome.__table__  # type: ignore[attr-defined]


def outcome_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of a case outcome."""
    return row_hash({
        "id": row["id"], "operation_id": row["operation_id"], "contact_id": row["contact_id"],
        "outcome": row["outcome"], "reference": row["reference"],
        "decided_at": format_time(row["decided_at"]), "recorded_by": row["recorded_by"],
        "recorded_at": format_time(row["recorded_at"]),
    })


_check = row_check(_outcomes, "case outcome", outcome_row_sha256, "recorded_by")


def check_outcome(session: Session, entry: dict[str, Any]) -> str | None:
    """The outcome is the row its entry recorded, by the entry's actor."""
    return _check(session, entry)[0]


def latest_outcome(session: Session, contact_id: int) -> ContactOutcome | None:
    """The contact's outcome now: its latest record, or None."""
    return session.exec(
        select(ContactOutcome).where(ContactOutcome.contact_id == contact_id)
        .order_by(col(ContactOutcome.id).desc()).limit(1)
    ).first()


def record_outcome(
    *, session: Session, actor: Actor, contact_id: int, outcome: str, reference: str,
    decided_at: datetime | str | None = None,
) -> ContactOutcome:
    """Record how the suspect's case ended (a legal officer, for a contact whose category is suspect); the
    caller commits."""
    contact = visible_contact(session, actor, contact_id)
    if not actor.has_role(Role.legal.value):
        raise Forbidden(_("only a legal officer records the outcome of a case"))
    if not isinstance(outcome, str) or outcome not in CASE_OUTCOMES:
        raise InvalidInput(_("outcome must be one of %(outcomes)s", outcomes=", ".join(CASE_OUTCOMES)),
                           field="outcome")
    reference = storable(clean(reference, "reference", max_length=MAX_REFERENCE, required=True,
                               single_line=True), "reference")
    now = clock.now()
    moment = past_moment(decided_at, "decided_at", now)
    session.exec(select(Contact).where(Contact.id == contact_id).with_for_update()).one()
    if current_category(session, contact_id) != "suspect":
        raise RuleViolation(_("only a suspect's case has an outcome: set the contact's category first"),
                            field="contact")
    row = ContactOutcome(operation_id=contact.operation_id, contact_id=contact_id, outcome=outcome,
                         reference=reference, decided_at=moment, recorded_by=actor.id,  # type: ignore[attr-defined]
                         recorded_at=now)
    session.add(row)
    session.flush()
    audit_bridge.record(
        session, actor=codes.officer_name(actor), action="contact.outcome",  # type: ignore[arg-type]
        object_type="contact_outcome", object_id=row.id, operation_id=contact.operation_id,
        evidence={"row_sha256": outcome_row_sha256(columns(row))},
        details={"contact": contact_id, "outcome": outcome, "decided_at": format_time(moment)},
    )
    return row
