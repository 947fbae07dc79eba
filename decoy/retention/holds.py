"""Legal holds: a legal officer stops the disposal of an operation's data (every contact of it) or of one
contact, with a reason; another decision, with its reason, lifts it. Holds and lifts are append-only rows,
each with its audit entry (its row hash, the reason by SHA-256 only) in the same transaction.

``require_no_hold`` is what a disposal asks: a contact under any active hold (its own or its operation's)
is refused with 409 naming the hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Table, exists, or_
from sqlmodel import Session, col, select

from audit.entry import format_time

from .. import access, audit_bridge, clock
from ..access import Actor
from ..disclosure import codes
from ..errors import Forbidden, RuleViolation
from ..evidence import transcript
from ..evidence.fingerprint import columns, text_sha256
from ..evidence.reading import visible_contact
from ..models import LegalHold, LegalHoldLift, Role
from ..operations.guards import clean, storable
from ..orders.rows import row_check, row_hash

MAX_REASON = 20_000
_holds: Table = LegalHold.__table__  # type: ignore[attr-defined]
_lifts: Table = LegalHoldLift.__table__  # type: ignore[attr-defined]


def hold_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of a legal hold (its reason by the SHA-256 of the text)."""
    return row_hash({
        "id": row["id"], "operation_id": row["operation_id"], "contact_id": row["contact_id"],
        "reason_sha256": text_sha256(row["reason"]), "set_by": row["set_by"],
        "set_at": format_time(row["set_at"]),
    })


def lift_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of the lifting of a legal hold."""
    return row_hash({
        "id": row["id"], "hold_id": row["hold_id"], "operation_id": row["operation_id"],
        "reason_sha256": text_sha256(row["reason"]), "lifted_by": row["lifted_by"],
        "lifted_at": format_time(row["lifted_at"]),
    })


_hold_check = row_check(_holds, "legal hold", hold_row_sha256, "set_by")
_lift_check = row_check(_lifts, "lifting of a legal hold", lift_row_sha256, "lifted_by")


def check_hold(session: Session, entry: dict[str, Any]) -> str | None:
    """The hold is the row its entry recorded, set by the entry's actor."""
    return _hold_check(session, entry)[0]


def check_lift(session: Session, entry: dict[str, Any]) -> str | None:
    """The lifting is the row its entry recorded, by the entry's actor."""
    return _lift_check(session, entry)[0]


@dataclass(frozen=True)
class HoldState:
    """A hold and, once lifted, its lifting."""

    hold: LegalHold
    lift: LegalHoldLift | None

    @property
    def active(self) -> bool:
        """Whether the hold still stops disposal."""
        return self.lift is None


def _require_legal(actor: Actor) -> None:
    if not actor.has_role(Role.legal.value):
        raise Forbidden(_("only a legal officer sets or lifts a legal hold"))


def _reason(value: Any) -> str:
    return storable(clean(value, "reason", max_length=MAX_REASON, required=True), "reason")


def _record(session: Session, actor: Actor, action: str, object_type: str, row: Any, evidence: str,
            details: dict[str, Any]) -> None:
    audit_bridge.record(
        session, actor=codes.officer_name(actor), action=action,  # type: ignore[arg-type]
        object_type=object_type, object_id=row.id, operation_id=row.operation_id,
        evidence={"row_sha256": evidence}, details=details,
    )


def set_hold(
    *, session: Session, actor: Actor, reason: str, operation_id: int | None = None,
    contact_id: int | None = None,
) -> LegalHold:
    """Put the operation, or the one contact, under a legal hold; the caller commits."""
    if contact_id is not None:
        contact = visible_contact(session, actor, contact_id)
        operation_id = contact.operation_id
    else:
        access.visible_operation(session, actor, operation_id)  # type: ignore[arg-type]
    _require_legal(actor)
    text = _reason(reason)
    hold = LegalHold(operation_id=operation_id, contact_id=contact_id, reason=text,  # type: ignore[arg-type]
                     set_by=actor.id, set_at=clock.now())  # type: ignore[attr-defined]
    session.add(hold)
    session.flush()
    _record(session, actor, "legal_hold.set", "legal_hold", hold, hold_row_sha256(columns(hold)),
            {"contact": contact_id, "reason_sha256": text_sha256(text)})
    return hold


def visible_hold(session: Session, actor: Actor, hold_id: int, *, lock: bool = False) -> LegalHold:
    """The hold, or NotFound when it does not exist or ``actor`` may not see its operation."""
    found = transcript.by_id(session, LegalHold, hold_id, lock=lock)
    return access.require_visible(session, actor, found, "legal hold")  # type: ignore[no-any-return]


def lift_hold(*, session: Session, actor: Actor, hold_id: int, reason: str) -> LegalHoldLift:
    """Lift the hold, with a reason; a hold is lifted once (409 after). The caller commits."""
    hold = visible_hold(session, actor, hold_id, lock=True)
    _require_legal(actor)
    text = _reason(reason)
    if session.exec(select(LegalHoldLift.id).where(LegalHoldLift.hold_id == hold.id)).first() is not None:
        raise RuleViolation(_("legal hold %(id)s was lifted already", id=hold.id), field="hold")
    lift = LegalHoldLift(hold_id=hold.id, operation_id=hold.operation_id, reason=text,  # type: ignore[arg-type]
                         lifted_by=actor.id, lifted_at=clock.now())  # type: ignore[attr-defined]
    session.add(lift)
    session.flush()
    _record(session, actor, "legal_hold.lift", "legal_hold_lift", lift, lift_row_sha256(columns(lift)),
            {"hold": hold.id, "contact": hold.contact_id, "reason_sha256": text_sha256(text)})
    return lift


def holds_of_operation(session: Session, operation_id: int) -> list[HoldState]:
    """Every hold of the operation (on it or on one of its contacts), newest first, with its lifting."""
    rows = session.exec(
        select(LegalHold, LegalHoldLift)
        .join(LegalHoldLift, col(LegalHoldLift.hold_id) == LegalHold.id, isouter=True)
        .where(LegalHold.operation_id == operation_id)
        .order_by(col(LegalHold.id).desc())
    ).all()
    return [HoldState(hold, lift) for hold, lift in rows]


def active_holds(session: Session, operation_id: int, contact_id: int | None = None) -> list[LegalHold]:
    """The active holds over the contact (its own and its operation's), or over the operation itself."""
    lifted = exists().where(col(LegalHoldLift.hold_id) == LegalHold.id)
    scope = col(LegalHold.contact_id).is_(None)
    if contact_id is not None:
        scope = or_(scope, LegalHold.contact_id == contact_id)
    query = select(LegalHold).where(LegalHold.operation_id == operation_id, scope, ~lifted)
    return list(session.exec(query.order_by(col(LegalHold.id))).all())


def require_no_hold(session: Session, operation_id: int, contact_id: int) -> None:
    """Refuse (409 naming the hold) when the contact is under an active legal hold."""
    held = active_holds(session, operation_id, contact_id)
    if held:
        hold = held[0]
        where = _("the operation") if hold.contact_id is None else _("the contact")
        raise RuleViolation(
            _("%(where)s is under legal hold %(id)s since %(when)s: nothing of it may be disposed of",
              where=where, id=hold.id, when=format_time(hold.set_at)),
            field="hold",
        )
