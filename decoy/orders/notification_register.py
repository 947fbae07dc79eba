"""The notification register (art. 126bb Sv): whether and when each suspect was notified of the special
investigative power used against them, or why and until when notification is postponed.

The law asks for notification "as soon as the interest of the investigation permits" and sets no fixed
period, so Decoy keeps a configurable reminder: a suspect's notification is due NOTIFICATION_DUE_DAYS
(default 30) after their operation was closed, or at the end of the latest postponement. A legal officer
records each notification or postponement; the register lists every suspect contact with its state and
when it is due, and the legal officer's dashboard shows those due.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlmodel import Session, col, select

from audit.entry import canonical_json, format_time

from .. import access, audit_bridge, clock
from ..disclosure import codes
from ..errors import Forbidden, InvalidInput, RuleViolation
from ..evidence.categories import contacts_of_category, current_category
from ..evidence.fingerprint import text_sha256
from ..evidence.reading import visible_contact
from ..models import (
    NOTIFICATION_KINDS,
    ClosureAction,
    Contact,
    Operation,
    OperationClosure,
    OperationStatus,
    Role,
    SuspectNotification,
)
from ..operations.guards import clean
from .rows import row_check

DEFAULT_DUE_DAYS = 30
MAX_NOTE = 20_000
_record = SuspectNotification.__table__  # type: ignore[attr-defined]


def due_days() -> int:
    """The days after an operation's closing at which its suspects' notification is due."""
    if has_app_context():
        return int(current_app.config.get("NOTIFICATION_DUE_DAYS") or DEFAULT_DUE_DAYS)
    return DEFAULT_DUE_DAYS


def notification_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of a notification record (its note by the SHA-256 of the text)."""
    return hashlib.sha256(
        canonical_json(
            {
                "id": row["id"],
                "operation_id": row["operation_id"],
                "contact_id": row["contact_id"],
                "kind": row["kind"],
                "at": format_time(row["at"]),
                "note_sha256": text_sha256(row["note"]),
                "recorded_by": row["recorded_by"],
                "recorded_at": format_time(row["recorded_at"]),
            }
        )
    ).hexdigest()


def record_notification(
    *, session: Session, actor: Any, contact_id: int, kind: str, at: datetime, note: str
) -> SuspectNotification:
    """Record that the suspect was notified at ``at`` (how: ``note``), or that notification is postponed
    until ``at`` (why: ``note``); a legal officer may, for a contact whose category is suspect."""
    contact = visible_contact(session, actor, contact_id)
    if not actor.has_role(Role.legal.value) or actor.id is None:
        raise Forbidden(_("only a legal officer records notifications (art. 126bb Sv)"))
    if kind not in NOTIFICATION_KINDS:
        raise InvalidInput(_("kind must be notified or postponed"), field="kind")
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise InvalidInput(_("at needs a date, a time and an offset"), field="at")
    note = clean(note, "note", max_length=MAX_NOTE, required=True)
    now = clock.now()
    if kind == "notified" and at > now:
        raise InvalidInput(_("a notification cannot lie in the future"), field="at")
    if kind == "postponed" and at <= now:
        raise InvalidInput(_("a postponement runs until a moment in the future"), field="at")
    if current_category(session, contact_id) != "suspect":
        raise RuleViolation(
            _("only a contact whose category is suspect is notified (art. 126bb Sv)"), field="contact"
        )
    record = SuspectNotification(
        operation_id=contact.operation_id,
        contact_id=contact_id,
        kind=kind,
        at=at,
        note=note,
        recorded_by=actor.id,
        recorded_at=now,
    )
    session.add(record)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="suspect.notification",
        object_type="suspect_notification",
        object_id=record.id,
        operation_id=contact.operation_id,
        evidence={"row_sha256": notification_row_sha256(record.model_dump())},
        details={"contact": contact_id, "kind": kind, "at": at.isoformat(), "note_sha256": text_sha256(note)},
    )
    return record


def records_query(contact_id: int) -> Any:
    """The contact's notification records, oldest first."""
    return (
        select(SuspectNotification)
        .where(SuspectNotification.contact_id == contact_id)
        .order_by(col(SuspectNotification.id))
    )


@dataclass(frozen=True)
class RegisterLine:
    """A suspect contact in the register: its latest record and when its notification is due."""

    contact: Contact
    operation: Operation
    latest: SuspectNotification | None
    #: When notification is due (None: notified, or the operation is still open without a postponement).
    due_at: datetime | None

    @property
    def state(self) -> str:
        """``notified``, ``postponed``, or ``open`` (nothing recorded yet)."""
        return self.latest.kind if self.latest else "open"

    def is_due(self, now: datetime) -> bool:
        """Whether the notification is due (or overdue) at ``now``."""
        return self.due_at is not None and self.due_at <= now


def register(session: Session, actor: Any) -> list[RegisterLine]:
    """Every suspect contact of the operations ``actor`` may see, with its state and due time."""
    if not access.sees_evidence(actor):
        return []
    suspects = contacts_of_category(session, "suspect")
    if not suspects:
        return []
    rows = session.exec(
        select(Contact, Operation)
        .join(Operation, col(Operation.id) == Contact.operation_id)
        .where(col(Contact.id).in_(suspects), access.operation_clause(actor, Operation.id))
        .order_by(col(Contact.id))
    ).all()
    latest: dict[int, SuspectNotification] = {}
    for record in session.exec(
        select(SuspectNotification)
        .where(col(SuspectNotification.contact_id).in_(suspects))
        .order_by(col(SuspectNotification.id))
    ).all():
        latest[record.contact_id] = record
    closed_at = _closings(session, {operation.id for _contact, operation in rows})  # type: ignore[misc]
    wait = timedelta(days=due_days())
    lines = []
    for contact, operation in rows:
        record = latest.get(contact.id)  # type: ignore[arg-type]
        if record is not None and record.kind == "notified":
            due = None
        elif record is not None:
            due = record.at
        elif operation.status == OperationStatus.closed.value and operation.id in closed_at:
            due = closed_at[operation.id] + wait  # type: ignore[index]
        else:
            due = None
        lines.append(RegisterLine(contact, operation, record, due))
    return lines


def _closings(session: Session, operation_ids: set[int]) -> dict[int, datetime]:
    """When each operation was last closed."""
    found: dict[int, datetime] = {}
    for closure in session.exec(
        select(OperationClosure)
        .where(
            col(OperationClosure.operation_id).in_(operation_ids),
            OperationClosure.action == ClosureAction.close,
        )
        .order_by(col(OperationClosure.id))
    ).all():
        found[closure.operation_id] = closure.decided_at
    return found


_check = row_check(_record, "suspect notification", notification_row_sha256, "recorded_by")


def check_notification(session: Session, entry: dict[str, Any]) -> str | None:
    """The notification record is the row its entry recorded, by the entry's actor."""
    return _check(session, entry)[0]
