"""API endpoints of safeguarding: a contact's open case, its actions and closing, the confirmation of a
trafficking signal, the opening of sensitive material with a reason, and the export of its hashes."""

from __future__ import annotations

from flask import Response, jsonify
from flask_login import current_user
from pydantic import Field

from .. import clock
from ..db import get_session
from ..disclosure import codes
from ..evidence.downloads import serve
from ..models import ACTION_KINDS, PROTECTIVE_ACTIONS, SAFEGUARDING_TRIGGERS
from ..models.schemas import Input, Output, Timestamp, UtcMoment, one_of, text
from ..safeguarding import cases, sensitive
from . import bp
from .inputs import read_json
from .openapi import BINARY, Content, route

CHANGE_ERRORS = (400, 403, 404, 409)
STATUSES = ("open", "overdue", "in_progress", "closed")
CSV = Content(("text/csv",), {"type": "string"})
VICS = Content(("application/json",), {"type": "object"})


class SignalCreate(Input):
    """Why the message is taken as a signal of human trafficking."""

    reason: text(cases.MAX_TEXT, required=True)


class ActionCreate(Input):
    """An action taken for the case, with its reference."""

    kind: one_of(PROTECTIVE_ACTIONS) = Field(
        description="care_report (e.g. Veilig Thuis), trafficking_notice (e.g. the national coordination "
        "centre), handover_youth, handover_vice, guardian_contact, or other (described in note)"
    )
    reference: text(cases.MAX_REFERENCE, required=True) = Field(
        description="the report's or notice's number, or the receiving unit's case number"
    )
    note: text(cases.MAX_TEXT) = ""
    taken_at: Timestamp | None = Field(default=None, description="when it was done; now when absent")


class CaseClose(Input):
    """The outcome the case closes with."""

    outcome: text(cases.MAX_TEXT, required=True)


class OpenSensitive(Input):
    """Why the sensitive attachment is opened."""

    reason: text(sensitive.MAX_REASON, required=True)


class ActionPublic(Output):
    """An action of a case: kind, reference, when it was taken and by whom (verbalisant code)."""

    id: int
    kind: one_of(ACTION_KINDS)
    reference: str
    note: str
    at: UtcMoment
    by: str | None
    recorded_at: UtcMoment


class CasePublic(Output):
    """A safeguarding case with its state."""

    id: int
    operation_id: int
    contact_id: int
    status: one_of(STATUSES)
    cause: one_of(SAFEGUARDING_TRIGGERS)
    message_id: int | None
    reason: str
    opened_by: str | None
    opened_at: UtcMoment
    due_at: UtcMoment
    actions: list[ActionPublic]
    outcome: str | None
    closed_by: str | None
    closed_at: UtcMoment | None


class CaseList(Output):
    """Open safeguarding cases, the earliest due first."""

    items: list[CasePublic]


class SignalAnswer(Output):
    """The case the signal opened, or the open case it was recorded on."""

    case: CasePublic
    opened: bool


def _case(state: cases.CaseState, names: codes.Officers) -> CasePublic:
    case, closure = state.case, state.closure
    return CasePublic(
        id=case.id, operation_id=case.operation_id, contact_id=case.contact_id,
        status=state.status(clock.now()), cause=case.cause, message_id=case.message_id, reason=case.reason,
        opened_by=names(case.opened_by, case.opened_at), opened_at=case.opened_at, due_at=case.due_at,
        actions=[
            ActionPublic(
                id=action.id, kind=action.kind, reference=action.reference, note=action.note,
                at=action.taken_at, by=names(action.recorded_by, action.recorded_at),
                recorded_at=action.recorded_at,
            )
            for action in state.actions
        ],
        outcome=closure.outcome if closure else None,
        closed_by=names(closure.closed_by, closure.closed_at) if closure else None,
        closed_at=closure.closed_at if closure else None,
    )


def _answer(case_id: int) -> Response:
    session = get_session()
    case = cases.visible_case(session, current_user, case_id)
    return jsonify(_case(cases.states(session, [case])[0], codes.Officers(session)).model_dump(mode="json"))


@route(bp, "/contacts/<int:contact_id>/safeguarding", answer=CasePublic, errors=(404,))
def contact_safeguarding(contact_id: int) -> Response:
    """The contact's open safeguarding case (404 when none is open)."""
    session = get_session()
    state = cases.contact_case(session, current_user, contact_id)
    return jsonify(_case(state, codes.Officers(session)).model_dump(mode="json"))


@route(bp, "/contacts/<int:contact_id>/safeguarding-cases", answer=CaseList, errors=(404,))
def contact_safeguarding_cases(contact_id: int) -> Response:
    """Every safeguarding case of the contact, closed ones too, newest first."""
    session = get_session()
    cases.visible_contact(session, current_user, contact_id)
    names = codes.Officers(session)
    items = [_case(state, names) for state in cases.contact_cases(session, contact_id)]
    return jsonify(CaseList(items=items).model_dump(mode="json"))


@route(bp, "/safeguarding", answer=CaseList)
def open_safeguarding_cases() -> Response:
    """The open safeguarding cases of the operations the caller may see, the earliest due first."""
    session = get_session()
    names = codes.Officers(session)
    items = [_case(state, names) for state in cases.open_cases(session, current_user)]
    return jsonify(CaseList(items=items).model_dump(mode="json"))


@route(bp, "/messages/<int:message_id>/trafficking-signal", "POST", body=SignalCreate, answer=SignalAnswer,
       status=201, also=(200,), errors=CHANGE_ERRORS)
def trafficking_signal(message_id: int) -> tuple[Response, int]:
    """Confirm that the message carries a signal of human trafficking: a safeguarding case opens for its
    contact (201), or the signal is recorded on the case already open (200)."""
    session = get_session()
    cases.visible_message(session, current_user, message_id)
    data = read_json(SignalCreate)
    case, opened = cases.confirm_signal(session=session, actor=current_user, message_id=message_id,
                                        reason=data.reason)
    session.commit()
    state = cases.states(session, [case])[0]
    body = SignalAnswer(case=_case(state, codes.Officers(session)), opened=opened)
    return jsonify(body.model_dump(mode="json")), 201 if opened else 200


@route(bp, "/safeguarding/<int:case_id>", answer=CasePublic, errors=(404,))
def safeguarding_case(case_id: int) -> Response:
    """One safeguarding case with its actions and, once closed, its outcome."""
    return _answer(case_id)


@route(bp, "/safeguarding/<int:case_id>/actions", "POST", body=ActionCreate, answer=CasePublic, status=201,
       errors=CHANGE_ERRORS)
def safeguarding_action(case_id: int) -> tuple[Response, int]:
    """Record an action of an open case with its reference (the operation's detectives and supervisors,
    and legal officers)."""
    session = get_session()
    cases.visible_case(session, current_user, case_id)
    data = read_json(ActionCreate)
    cases.record_action(session=session, actor=current_user, case_id=case_id, kind=data.kind,
                        reference=data.reference, note=data.note, taken_at=data.taken_at)
    session.commit()
    return _answer(case_id), 201


@route(bp, "/safeguarding/<int:case_id>/close", "POST", body=CaseClose, answer=CasePublic,
       errors=CHANGE_ERRORS)
def close_safeguarding_case(case_id: int) -> Response:
    """Close the case with its outcome (the operation's supervisors, and legal officers)."""
    session = get_session()
    cases.visible_case(session, current_user, case_id)
    data = read_json(CaseClose)
    cases.close_case(session=session, actor=current_user, case_id=case_id, outcome=data.outcome)
    session.commit()
    return _answer(case_id)


@route(bp, "/attachments/<int:attachment_id>/open", "POST", body=OpenSensitive,
       answer=Content(("application/octet-stream",), BINARY), errors=CHANGE_ERRORS)
def open_sensitive(attachment_id: int) -> Response:
    """Open a sensitive attachment with a reason (legal officers and the operation's supervisors); the
    opening is recorded before the file is sent, always as opaque bytes to save."""
    session = get_session()
    sensitive.visible_attachment(session, current_user, attachment_id)
    data = read_json(OpenSensitive)
    opened = sensitive.open_sensitive(session=session, actor=current_user, attachment_id=attachment_id,
                                      reason=data.reason)
    session.commit()
    return serve(opened.attachment, opened.store, "application/octet-stream")


@route(bp, "/operations/<int:operation_id>/sensitive-hashes.csv", answer=CSV, errors=(403, 404))
def sensitive_hashes_csv(operation_id: int) -> Response:
    """The hashes (SHA-256, SHA-1, MD5) and dates of the operation's sensitive attachments, as CSV (legal
    officers); never the files."""
    session = get_session()
    operation, lines = sensitive.hash_lines(session, current_user, operation_id)
    session.commit()
    response = Response(sensitive.hashes_csv(operation, lines), mimetype="text/csv")
    name = f"sensitive-hashes-operation-{operation_id}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@route(bp, "/operations/<int:operation_id>/sensitive-hashes.json", answer=VICS, errors=(403, 404))
def sensitive_hashes_vics(operation_id: int) -> Response:
    """The same hashes as a Project VIC (VICS 2.0) media list, for victim-identification units (legal
    officers); never the files."""
    session = get_session()
    operation, lines = sensitive.hash_lines(session, current_user, operation_id)
    session.commit()
    response = jsonify(sensitive.hashes_vics(operation, lines))
    name = f"sensitive-hashes-operation-{operation_id}.vics.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
