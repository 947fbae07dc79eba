"""Safeguarding cases: when a real child or a presumed victim appears in an operation, someone must act.

A case opens when an officer sets a contact's category to ``real_minor`` or ``presumed_victim`` (in the
same transaction as the change) or confirms a trafficking signal on one of its messages. It is due within
SAFEGUARDING_DUE_HOURS (24 by default): by then a protective action must be recorded (a care report, a
trafficking notice, a hand-over to the youth or vice unit, contact with the child's guardians, or another
step described in its note), each with its reference. Opening tells the operation's supervisors and legal
officers at once, in the app and by e-mail; a case past its due time without a protective action is
escalated to every legal officer by the scheduler (decoy.safeguarding.notices). Nothing of this touches
evidence logging: a case never suspends a profile or refuses a message.

A contact has at most one open case; a further trigger while it is open is recorded on it. A case closes
only with a recorded outcome. Cases, actions and closings are append-only rows, each with its audit entry
(its row hash, free text by SHA-256 only) in the same transaction. These entries are never part of a
disclosure bundle: a child's protection is not evidence against the suspect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists
from sqlmodel import Session, col, select

from audit.entry import format_time

from .. import access, audit_bridge, clock
from ..access import Actor
from ..disclosure import codes
from ..errors import Forbidden, InvalidInput, NotFound, RuleViolation
from ..evidence import transcript
from ..evidence.fingerprint import columns, text_sha256
from ..evidence.reading import visible_contact, visible_message
from ..models import (
    OPENING_CATEGORIES,
    PROTECTIVE_ACTIONS,
    Contact,
    ContactCategoryChange,
    Operation,
    Role,
    SafeguardingAction,
    SafeguardingCase,
    SafeguardingClosure,
)
from ..operations.guards import clean, past_moment, storable
from ..reviews.notifications import notify, responsible
from .rows import action_row_sha256, case_row_sha256, closure_row_sha256

MAX_TEXT = 20_000
MAX_REFERENCE = 200
OPENED = "safeguarding_opened"
OVERDUE = "safeguarding_overdue"


@dataclass
class CaseState:
    """A case with its actions and closing, as read now."""

    case: SafeguardingCase
    actions: list[SafeguardingAction] = field(default_factory=list)
    closure: SafeguardingClosure | None = None

    @property
    def acted(self) -> bool:
        """Whether a protective action has been recorded."""
        return any(action.kind in PROTECTIVE_ACTIONS for action in self.actions)

    def status(self, now: datetime) -> str:
        """``closed``; ``in_progress`` once a protective action is recorded; else ``overdue`` from its due
        time, ``open`` before it."""
        if self.closure is not None:
            return "closed"
        if self.acted:
            return "in_progress"
        return "overdue" if now >= self.case.due_at else "open"


def may_act(session: Session, actor: Actor, operation_id: int) -> bool:
    """Who opens a case and records its actions: the operation's detectives and supervisors, and legal
    officers."""
    if actor.has_role(Role.legal.value):
        return True
    return bool(
        actor.has_role(Role.detective.value, Role.supervisor.value)
        and access.is_member(session, actor, operation_id)
    )


def may_close(session: Session, actor: Actor, operation_id: int) -> bool:
    """Who closes a case: the operation's supervisors, and legal officers."""
    if actor.has_role(Role.legal.value):
        return True
    return bool(actor.has_role(Role.supervisor.value) and access.is_member(session, actor, operation_id))


def _text(value: Any, field_name: str, *, max_length: int, single_line: bool = False) -> str:
    return storable(
        clean(value, field_name, max_length=max_length, required=True, single_line=single_line), field_name
    )


def open_case_of(session: Session, contact_id: int) -> SafeguardingCase | None:
    """The contact's open case (one without a closing), or None."""
    closed = exists().where(col(SafeguardingClosure.case_id) == SafeguardingCase.id)
    return session.exec(
        select(SafeguardingCase)
        .where(SafeguardingCase.contact_id == contact_id, ~closed)
        .order_by(col(SafeguardingCase.id).desc())
        .limit(1)
    ).first()


def states(session: Session, cases: list[SafeguardingCase]) -> list[CaseState]:
    """The cases with their actions and closings (two queries)."""
    found = {case.id: CaseState(case) for case in cases}
    if not found:
        return []
    ids = list(found)
    for action in session.exec(
        select(SafeguardingAction).where(col(SafeguardingAction.case_id).in_(ids)).order_by(
            col(SafeguardingAction.id)
        )
    ).all():
        found[action.case_id].actions.append(action)
    for closure in session.exec(
        select(SafeguardingClosure).where(col(SafeguardingClosure.case_id).in_(ids))
    ).all():
        found[closure.case_id].closure = closure
    return list(found.values())


def contact_cases(session: Session, contact_id: int) -> list[CaseState]:
    """Every case of the contact, newest first."""
    cases = session.exec(
        select(SafeguardingCase)
        .where(SafeguardingCase.contact_id == contact_id)
        .order_by(col(SafeguardingCase.id).desc())
    ).all()
    return states(session, list(cases))


def open_cases(session: Session, actor: Actor, operation_id: int | None = None) -> list[CaseState]:
    """The open cases of the operations ``actor`` may see (of one operation when named), the earliest due
    first."""
    closed = exists().where(col(SafeguardingClosure.case_id) == SafeguardingCase.id)
    query = select(SafeguardingCase).where(
        ~closed, access.operation_clause(actor, SafeguardingCase.operation_id)
    )
    if operation_id is not None:
        query = query.where(SafeguardingCase.operation_id == operation_id)
    cases = session.exec(query.order_by(col(SafeguardingCase.due_at), col(SafeguardingCase.id))).all()
    return states(session, list(cases))


def notice_params(session: Session, case: SafeguardingCase) -> dict[str, Any]:
    """What a notice of the case says: never a counterpart's words, only numbers, the cause and times."""
    operation = session.get(Operation, case.operation_id)
    zone = operation.timezone if operation else "UTC"
    return {
        "operation": operation.name if operation else "",
        "case_id": case.id,
        "contact_id": case.contact_id,
        "cause": case.cause,
        "due_local": case.due_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z"),
        "due_at": case.due_at.isoformat(),
        "link": f"/contacts/{case.contact_id}#safeguarding",
    }


def _record_signal(
    session: Session, actor: Actor, case: SafeguardingCase, message_id: int, reason: str
) -> SafeguardingAction:
    """A further trafficking signal confirmed while the case is open, recorded as an action of the case."""
    now = clock.now()
    action = SafeguardingAction(
        case_id=case.id,  # type: ignore[arg-type]
        operation_id=case.operation_id,
        kind="trafficking_signal",
        reference=f"message {message_id}",
        note=reason,
        taken_at=now,
        recorded_by=actor.id,  # type: ignore[attr-defined]
        recorded_at=now,
    )
    _add_action(session, actor, case, action)
    return action


def open_case(
    session: Session,
    actor: Actor,
    contact: Contact,
    *,
    cause: str,
    reason: str,
    category_change_id: int | None = None,
    message_id: int | None = None,
) -> tuple[SafeguardingCase, bool]:
    """Open a case for the contact (its row is locked by the caller), or, when one is open, record a
    trafficking signal on it; answer the case and whether it is new. The caller commits."""
    current = open_case_of(session, contact.id)  # type: ignore[arg-type]
    if current is not None:
        # Held until commit (PostgreSQL): a closing of the case at this moment waits, or has committed
        # and is seen here, so that a trigger is never recorded on a case that closed meanwhile.
        lock = select(SafeguardingCase).where(SafeguardingCase.id == current.id).with_for_update()
        session.exec(lock).one()
        closed = select(SafeguardingClosure.id).where(SafeguardingClosure.case_id == current.id)
        if session.exec(closed).first() is not None:
            current = None
    if current is not None:
        if message_id is not None:
            _record_signal(session, actor, current, message_id, reason)
        return current, False
    now = clock.now()
    case = SafeguardingCase(
        operation_id=contact.operation_id,
        contact_id=contact.id,  # type: ignore[arg-type]
        cause=cause,
        category_change_id=category_change_id,
        message_id=message_id,
        reason=reason,
        opened_by=actor.id,  # type: ignore[attr-defined]
        opened_at=now,
        due_at=now + timedelta(hours=int(current_app.config["SAFEGUARDING_DUE_HOURS"])),
    )
    session.add(case)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),  # type: ignore[arg-type]
        action="safeguarding.open",
        object_type="safeguarding_case",
        object_id=case.id,
        operation_id=case.operation_id,
        evidence={"row_sha256": case_row_sha256(columns(case))},
        details={
            "contact": case.contact_id,
            "cause": cause,
            "category_change": category_change_id,
            "message": message_id,
            "due_at": format_time(case.due_at),
            "reason_sha256": text_sha256(reason),
        },
    )
    notify(
        session,
        key=f"safeguarding:{case.id}",
        kind=OPENED,
        users=responsible(session, case.operation_id),
        params=notice_params(session, case),
        link=f"/contacts/{case.contact_id}#safeguarding",
        operation_id=case.operation_id,
    )
    return case, True


def after_category_change(
    session: Session, actor: Actor, contact: Contact, change: ContactCategoryChange
) -> None:
    """Open a case when the change makes the contact a real minor or a presumed victim (the contact's row
    is locked by the change)."""
    if change.category in OPENING_CATEGORIES:
        open_case(session, actor, contact, cause=change.category, reason=change.reason,
                  category_change_id=change.id)


def confirm_signal(
    *, session: Session, actor: Actor, message_id: int, reason: str
) -> tuple[SafeguardingCase, bool]:
    """An officer confirms that a message carries a signal of human trafficking: a case opens for its
    contact (or the signal is recorded on the open one). The caller commits."""
    message = visible_message(session, actor, message_id)
    if not may_act(session, actor, message.operation_id):
        raise Forbidden(_("only the operation's detectives and supervisors, and legal officers, report a "
                          "safeguarding concern"))
    text = _text(reason, "reason", max_length=MAX_TEXT)
    # Held until commit (PostgreSQL): two triggers of one contact at the same moment open one case.
    contact = session.exec(select(Contact).where(Contact.id == message.contact_id).with_for_update()).one()
    return open_case(session, actor, contact, cause="trafficking_signal", reason=text, message_id=message.id)


def visible_case(session: Session, actor: Actor, case_id: int, *, lock: bool = False) -> SafeguardingCase:
    """The case, or NotFound when it does not exist or ``actor`` may not see its operation."""
    found = transcript.by_id(session, SafeguardingCase, case_id, lock=lock)
    return access.require_visible(session, actor, found, "safeguarding case")  # type: ignore[no-any-return]


def _require_open(session: Session, case: SafeguardingCase) -> None:
    if session.exec(select(SafeguardingClosure.id).where(SafeguardingClosure.case_id == case.id)).first():
        raise RuleViolation(_("safeguarding case %(id)s is closed", id=case.id), field="case")


def _add_action(session: Session, actor: Actor, case: SafeguardingCase, action: SafeguardingAction) -> None:
    session.add(action)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),  # type: ignore[arg-type]
        action="safeguarding.act",
        object_type="safeguarding_action",
        object_id=action.id,
        operation_id=case.operation_id,
        evidence={"row_sha256": action_row_sha256(columns(action))},
        details={
            "case": case.id,
            "contact": case.contact_id,
            "kind": action.kind,
            "taken_at": format_time(action.taken_at),
            "reference_sha256": text_sha256(action.reference),
            "note_sha256": text_sha256(action.note),
        },
    )


def record_action(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    kind: str,
    reference: str,
    note: str = "",
    taken_at: datetime | str | None = None,
) -> SafeguardingAction:
    """Record an action of an open case with its reference; the caller commits."""
    case = visible_case(session, actor, case_id, lock=True)
    if not may_act(session, actor, case.operation_id):
        raise Forbidden(_("only the operation's detectives and supervisors, and legal officers, record "
                          "safeguarding actions"))
    if not isinstance(kind, str) or kind not in PROTECTIVE_ACTIONS:
        raise InvalidInput(
            _("kind must be one of %(kinds)s", kinds=", ".join(PROTECTIVE_ACTIONS)), field="kind"
        )
    reference = _text(reference, "reference", max_length=MAX_REFERENCE, single_line=True)
    note = storable(clean(note if note is not None else "", "note", max_length=MAX_TEXT), "note")
    if kind == "other" and not note:
        raise InvalidInput(_("note is required for another action: say what was done"), field="note")
    _require_open(session, case)
    now = clock.now()
    action = SafeguardingAction(
        case_id=case.id,  # type: ignore[arg-type]
        operation_id=case.operation_id,
        kind=kind,
        reference=reference,
        note=note,
        taken_at=past_moment(taken_at, "taken_at", now),
        recorded_by=actor.id,  # type: ignore[attr-defined]
        recorded_at=now,
    )
    _add_action(session, actor, case, action)
    return action


def close_case(*, session: Session, actor: Actor, case_id: int, outcome: str) -> SafeguardingClosure:
    """Close the case with its outcome; the caller commits."""
    case = visible_case(session, actor, case_id, lock=True)
    if not may_close(session, actor, case.operation_id):
        raise Forbidden(_("only the operation's supervisors and legal officers close a safeguarding case"))
    text = _text(outcome, "outcome", max_length=MAX_TEXT)
    _require_open(session, case)
    closure = SafeguardingClosure(
        case_id=case.id,  # type: ignore[arg-type]
        operation_id=case.operation_id,
        outcome=text,
        closed_by=actor.id,  # type: ignore[attr-defined]
        closed_at=clock.now(),
    )
    session.add(closure)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),  # type: ignore[arg-type]
        action="safeguarding.close",
        object_type="safeguarding_closure",
        object_id=closure.id,
        operation_id=case.operation_id,
        evidence={"row_sha256": closure_row_sha256(columns(closure))},
        details={"case": case.id, "contact": case.contact_id, "outcome_sha256": text_sha256(text)},
    )
    return closure


def contact_case(session: Session, actor: Actor, contact_id: int) -> CaseState:
    """The contact's open case; NotFound when the contact is hidden from ``actor`` or has none open."""
    visible_contact(session, actor, contact_id)
    case = open_case_of(session, contact_id)
    if case is None:
        raise NotFound(_("contact %(id)s has no open safeguarding case", id=contact_id))
    return states(session, [case])[0]
