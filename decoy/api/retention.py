"""API endpoints of retention: legal holds on an operation or a contact and their lifting, the outcome of a
suspect's case, the retention schedule and what it says is due for disposal."""

from __future__ import annotations

from flask import Response, current_app, jsonify
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field

from .. import access, clock
from ..db import get_session
from ..disclosure import codes
from ..errors import Forbidden
from ..evidence.reading import visible_contact
from ..models import CASE_OUTCOMES, CATEGORIES, ContactOutcome, LegalHold, LegalHoldLift
from ..models.schemas import Input, Output, Timestamp, UtcMoment, one_of, text
from ..retention import disposal, due, holds, outcomes, schedule
from . import bp
from .inputs import read_json
from .openapi import route

CHANGE_ERRORS = (400, 403, 404, 409)


class HoldCreate(Input):
    """Why the data is held."""

    reason: text(holds.MAX_REASON, required=True)


class HoldLift(Input):
    """Why the hold is lifted."""

    reason: text(holds.MAX_REASON, required=True)


class HoldPublic(Output):
    """A legal hold: on the operation (``contact_id`` null) or one contact; who set it and why, and once
    lifted, who lifted it and why (verbalisant codes)."""

    id: int
    operation_id: int
    contact_id: int | None
    reason: str
    set_by: str | None
    set_at: UtcMoment
    active: bool
    lifted_by: str | None
    lifted_at: UtcMoment | None
    lift_reason: str | None


class HoldList(Output):
    """The holds of an operation, newest first."""

    items: list[HoldPublic]


class OutcomeCreate(Input):
    """How the suspect's case ended."""

    outcome: one_of(CASE_OUTCOMES)
    reference: text(outcomes.MAX_REFERENCE, required=True) = Field(description="the decision's reference")
    decided_at: Timestamp | None = Field(default=None, description="when it became final; now when absent")


class OutcomePublic(Output):
    """A suspect's case outcome."""

    id: int
    contact_id: int
    outcome: one_of(CASE_OUTCOMES)
    reference: str
    decided_at: UtcMoment
    by: str | None
    recorded_at: UtcMoment


class RulePublic(Output):
    """A rule of the retention schedule."""

    key: str
    months: int | None
    counted_from: one_of(schedule.EVENTS)
    source: str


class SchedulePublic(Output):
    """The retention schedule in force (the data directory's rules applied)."""

    rules: list[RulePublic]


class DueLinePublic(Output):
    """A contact with the rule it is kept under and when it is due for disposal."""

    contact_id: int
    operation_id: int
    operation: str
    category: one_of(CATEGORIES)
    outcome: one_of(CASE_OUTCOMES) | None
    rule: str
    source: str
    counted_from: UtcMoment
    due_at: UtcMoment
    due: bool
    holds: list[int]


class DueList(Output):
    """Contacts with a due time by the schedule, the earliest first."""

    items: list[DueLinePublic]


def _hold(state: holds.HoldState, names: codes.Officers) -> HoldPublic:
    hold, lift = state.hold, state.lift
    return HoldPublic(
        id=hold.id, operation_id=hold.operation_id, contact_id=hold.contact_id, reason=hold.reason,
        set_by=names(hold.set_by, hold.set_at), set_at=hold.set_at, active=lift is None,
        lifted_by=names(lift.lifted_by, lift.lifted_at) if lift else None,
        lifted_at=lift.lifted_at if lift else None, lift_reason=lift.reason if lift else None,
    )


def _hold_answer(hold: LegalHold, lift: LegalHoldLift | None = None) -> Response:
    names = codes.Officers(get_session())
    return jsonify(_hold(holds.HoldState(hold, lift), names).model_dump(mode="json"))


@route(bp, "/operations/<int:operation_id>/legal-holds", "POST", body=HoldCreate, answer=HoldPublic,
       status=201, errors=CHANGE_ERRORS)
def hold_operation(operation_id: int) -> tuple[Response, int]:
    """Put the whole operation under a legal hold (legal officers): none of its contacts' data may be
    disposed of until the hold is lifted."""
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    data = read_json(HoldCreate)
    hold = holds.set_hold(session=session, actor=current_user, operation_id=operation_id, reason=data.reason)
    session.commit()
    return _hold_answer(hold), 201


@route(bp, "/contacts/<int:contact_id>/legal-holds", "POST", body=HoldCreate, answer=HoldPublic, status=201,
       errors=CHANGE_ERRORS)
def hold_contact(contact_id: int) -> tuple[Response, int]:
    """Put one contact under a legal hold (legal officers)."""
    session = get_session()
    visible_contact(session, current_user, contact_id)
    data = read_json(HoldCreate)
    hold = holds.set_hold(session=session, actor=current_user, contact_id=contact_id, reason=data.reason)
    session.commit()
    return _hold_answer(hold), 201


@route(bp, "/operations/<int:operation_id>/legal-holds", answer=HoldList, errors=(404,))
def operation_holds(operation_id: int) -> Response:
    """Every legal hold of the operation (on it or on one of its contacts), newest first."""
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    names = codes.Officers(session)
    items = [_hold(state, names) for state in holds.holds_of_operation(session, operation_id)]
    return jsonify(HoldList(items=items).model_dump(mode="json"))


@route(bp, "/legal-holds/<int:hold_id>/lift", "POST", body=HoldLift, answer=HoldPublic, errors=CHANGE_ERRORS)
def lift_hold(hold_id: int) -> Response:
    """Lift a legal hold with a reason (legal officers); a hold is lifted once."""
    session = get_session()
    hold = holds.visible_hold(session, current_user, hold_id)
    data = read_json(HoldLift)
    lift = holds.lift_hold(session=session, actor=current_user, hold_id=hold_id, reason=data.reason)
    session.commit()
    return _hold_answer(hold, lift)


def _outcome(row: ContactOutcome, names: codes.Officers) -> OutcomePublic:
    return OutcomePublic(
        id=row.id, contact_id=row.contact_id, outcome=row.outcome, reference=row.reference,
        decided_at=row.decided_at, by=names(row.recorded_by, row.recorded_at), recorded_at=row.recorded_at,
    )


@route(bp, "/contacts/<int:contact_id>/outcome", "POST", body=OutcomeCreate, answer=OutcomePublic,
       status=201, errors=CHANGE_ERRORS)
def record_outcome(contact_id: int) -> tuple[Response, int]:
    """Record how a suspect's case ended (legal officers); it sets how long the data is kept."""
    session = get_session()
    visible_contact(session, current_user, contact_id)
    data = read_json(OutcomeCreate)
    row = outcomes.record_outcome(session=session, actor=current_user, contact_id=contact_id,
                                  outcome=data.outcome, reference=data.reference, decided_at=data.decided_at)
    session.commit()
    return jsonify(_outcome(row, codes.Officers(session)).model_dump(mode="json")), 201


@route(bp, "/retention-schedule", answer=SchedulePublic)
def retention_schedule() -> Response:
    """The retention schedule in force, with the source of each rule."""
    rules = [
        RulePublic(key=rule.key, months=rule.months, counted_from=rule.start, source=rule.source)
        for rule in schedule.current_schedule().values()
    ]
    return jsonify(SchedulePublic(rules=rules).model_dump(mode="json"))


@route(bp, "/retention/due", answer=DueList, errors=(403,))
def retention_due() -> Response:
    """The contacts with a due time by the schedule, the earliest first, each with its rule and active
    holds (legal officers)."""
    if not current_user.has_role("legal"):
        raise Forbidden(_("only a legal officer reads the retention list"))
    session = get_session()
    now = clock.now()
    items = [
        DueLinePublic(
            contact_id=line.contact.id, operation_id=line.operation.id, operation=line.operation.name,
            category=line.category, outcome=line.outcome, rule=line.rule.key, source=line.rule.source,
            counted_from=line.start, due_at=line.due_at, due=line.is_due(now),
            holds=[hold.id for hold in line.holds],
        )
        for line in due.retention_lines(session, current_user)
        if line.due_at is not None and line.start is not None
    ]
    return jsonify(DueList(items=items).model_dump(mode="json"))


class DisposalCreate(Input):
    """Why the contact's content is disposed of, and the decision's reference."""

    reason: text(disposal.MAX_REASON, required=True)
    decision_reference: text(disposal.MAX_REFERENCE, required=True)


class DisposalPublic(Output):
    """A disposal: ``pending`` until a second legal officer approves it, then ``done`` with what was
    removed (the number of items of each kind)."""

    id: int
    status: one_of(("pending", "done"))
    contact_id: int
    operation_id: int
    decision_reference: str
    reason: str
    requested_by: str | None
    requested_at: UtcMoment
    approved_by: str | None
    approved_at: UtcMoment | None
    removed: dict[str, int]


def _disposal(state: disposal.State) -> Response:
    names = codes.Officers(get_session())
    row, approval = state.disposal, state.approval
    removed = {kind: sum(1 for t in state.tombstones if t.item_kind == kind) for kind in disposal.KINDS}
    body = DisposalPublic(
        id=row.id, status=state.status, contact_id=row.contact_id, operation_id=row.operation_id,
        decision_reference=row.decision_reference, reason=row.reason,
        requested_by=names(row.requested_by, row.requested_at), requested_at=row.requested_at,
        approved_by=names(approval.approved_by, approval.approved_at) if approval else None,
        approved_at=approval.approved_at if approval else None, removed=removed,
    )
    return jsonify(body.model_dump(mode="json"))


@route(bp, "/contacts/<int:contact_id>/disposals", "POST", body=DisposalCreate, answer=DisposalPublic,
       status=201, errors=CHANGE_ERRORS)
def request_disposal(contact_id: int) -> tuple[Response, int]:
    """Request the disposal of the contact's content (a legal officer); 409 under a legal hold."""
    session = get_session()
    visible_contact(session, current_user, contact_id)
    data = read_json(DisposalCreate)
    row = disposal.request_disposal(session=session, actor=current_user, contact_id=contact_id,
                                    reason=data.reason, decision_reference=data.decision_reference)
    session.commit()
    return _disposal(disposal.state_of(session, row)), 201


@route(bp, "/disposals/<int:disposal_id>/approve", "POST", answer=DisposalPublic, errors=(403, 404, 409))
def approve_disposal(disposal_id: int) -> Response:
    """Approve a disposal (a second legal officer): the content is removed, tombstones and every audit
    entry stay."""
    session = get_session()
    state, files = disposal.approve_disposal(session=session, actor=current_user, disposal_id=disposal_id)
    session.commit()
    disposal.remove_files(current_app._get_current_object(), files)  # type: ignore[attr-defined]
    return _disposal(disposal.state_of(session, state.disposal))


@route(bp, "/disposals/<int:disposal_id>", answer=DisposalPublic, errors=(404,))
def get_disposal(disposal_id: int) -> Response:
    """One disposal with its state."""
    session = get_session()
    row = disposal.visible_disposal(session, current_user, disposal_id)
    return _disposal(disposal.state_of(session, row))
