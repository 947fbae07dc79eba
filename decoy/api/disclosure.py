"""API endpoints of disclosure: legal officers' decisions of an item's disclosure class, and the internal
journal of an operation and of its contacts."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..db import get_session
from ..disclosure import classes, journal
from ..disclosure.schemas import (
    DisclosureDecisionCreate,
    DisclosureDecisionPublic,
    DisclosureState,
    JournalQuery,
    NoteCreate,
    NotePage,
    NotePublic,
)
from ..evidence.transcript import usernames
from ..models.disclosure import DEFAULT_CLASS, DisclosureDecision, JournalNote
from ..models.schemas import Page
from . import bp
from .inputs import read_json, read_query
from .openapi import route

CHANGE_ERRORS = (400, 403, 404, 409)


def decision_json(row: DisclosureDecision, names: dict[int, str]) -> dict[str, Any]:
    """A decision as the API shows it."""
    return DisclosureDecisionPublic.model_validate(
        {
            "id": row.id,
            "kind": row.item_kind,
            "item_id": row.item_id,
            "class": row.disclosure_class,
            "ground": row.ground,
            "decision_reference": row.decision_reference,
            "reason": row.reason,
            "by": names.get(row.decided_by, ""),
            "at": row.decided_at,
        }
    ).model_dump(mode="json")


def _decide(kind: str, item_id: int) -> Response:
    session = get_session()
    # Who may decide is known before the body is read: an outsider gets 404, anyone but a legal officer 403.
    classes.require_decider(session, current_user, kind, item_id)
    # The model's field ``class`` is a Python keyword: its values are read as a mapping.
    data = read_json(DisclosureDecisionCreate).model_dump()
    row = classes.decide(
        session,
        actor=current_user,
        kind=kind,
        item_id=item_id,
        disclosure_class=data["class"],
        ground=data["ground"],
        decision_reference=data["decision_reference"],
        reason=data["reason"],
    )
    session.commit()
    return jsonify(decision_json(row, {current_user.id: current_user.username}))


def _state(kind: str, item_id: int) -> Response:
    session = get_session()
    found = classes.read_disclosure(session, current_user, kind, item_id)
    names = usernames(session, {row.decided_by for row in found.history})
    session.commit()
    body = DisclosureState.model_validate(
        {
            "kind": kind,
            "item_id": item_id,
            "class": found.disclosure_class,
            "default": found.current is None,
            "history": [decision_json(row, names) for row in found.history],
        }
    )
    return jsonify(body.model_dump(mode="json"))


_DECIDE: dict[str, Any] = {
    "body": DisclosureDecisionCreate, "answer": DisclosureDecisionPublic, "errors": CHANGE_ERRORS,
}
_STATE: dict[str, Any] = {"answer": DisclosureState, "errors": (404,)}


@route(bp, "/contacts/<int:contact_id>/disclosure", "POST", **_DECIDE)
def decide_contact_disclosure(contact_id: int) -> Response:
    """Decide the disclosure class of a contact (a legal officer, with a reason)."""
    return _decide("contact", contact_id)


@route(bp, "/messages/<int:message_id>/disclosure", "POST", **_DECIDE)
def decide_message_disclosure(message_id: int) -> Response:
    """Decide the disclosure class of a message (a legal officer, with a reason)."""
    return _decide("message", message_id)


@route(bp, "/attachments/<int:attachment_id>/disclosure", "POST", **_DECIDE)
def decide_attachment_disclosure(attachment_id: int) -> Response:
    """Decide the disclosure class of an attachment (a legal officer, with a reason)."""
    return _decide("attachment", attachment_id)


@route(bp, "/notes/<int:note_id>/disclosure", "POST", **_DECIDE)
def decide_note_disclosure(note_id: int) -> Response:
    """Decide the disclosure class of a journal note (a legal officer, with a reason)."""
    return _decide("note", note_id)


@route(bp, "/contacts/<int:contact_id>/disclosure", **_STATE)
def contact_disclosure(contact_id: int) -> Response:
    """A contact's disclosure class now and every decision of it, oldest first."""
    return _state("contact", contact_id)


@route(bp, "/messages/<int:message_id>/disclosure", **_STATE)
def message_disclosure(message_id: int) -> Response:
    """A message's disclosure class now and every decision of it, oldest first."""
    return _state("message", message_id)


@route(bp, "/attachments/<int:attachment_id>/disclosure", **_STATE)
def attachment_disclosure(attachment_id: int) -> Response:
    """An attachment's disclosure class now and every decision of it, oldest first."""
    return _state("attachment", attachment_id)


@route(bp, "/notes/<int:note_id>/disclosure", **_STATE)
def note_disclosure(note_id: int) -> Response:
    """A journal note's disclosure class now and every decision of it, oldest first."""
    return _state("note", note_id)


# --- the journal ----------------------------------------------------------------------------------------


def note_json(
    row: JournalNote, names: dict[int, str], decided: dict[int, DisclosureDecision]
) -> dict[str, Any]:
    """A journal note as the API shows it, with its class now."""
    decision = decided.get(row.id or 0)
    return NotePublic.model_validate(
        {
            "id": row.id,
            "operation_id": row.operation_id,
            "contact_id": row.contact_id,
            "body": row.body,
            "body_sha256": row.body_sha256,
            "class": DEFAULT_CLASS["note"] if decision is None else decision.disclosure_class,
            "by": names.get(row.written_by, ""),
            "at": row.written_at,
        }
    ).model_dump(mode="json")


def _write(operation_id: int, contact_id: int | None) -> tuple[Response, int]:
    session = get_session()
    journal.require_writer(session, current_user, operation_id, contact_id)
    data = read_json(NoteCreate)
    row = journal.write(
        session, actor=current_user, operation_id=operation_id, contact_id=contact_id, body=data.body
    )
    session.commit()
    return jsonify(note_json(row, {current_user.id: current_user.username}, {})), 201


def _list(endpoint: str, operation_id: int, contact_id: int | None, where: dict[str, Any]) -> Response:
    query = read_query(JournalQuery)
    session = get_session()
    rows = journal.notes_of(
        session, current_user, operation_id, contact_id, limit=query.limit + 1, before=query.before
    )
    more, rows = len(rows) > query.limit, rows[: query.limit]
    names = usernames(session, {row.written_by for row in rows})
    decided = classes.classes_of(session, "note", [row.id for row in rows if row.id is not None])
    session.commit()
    next_path = None
    if more:
        next_path = url_for(endpoint, before=rows[-1].id, limit=query.limit, **where)
    items = [note_json(row, names, decided) for row in rows]
    return jsonify(Page(items=items, next=next_path).model_dump(mode="json"))


@route(bp, "/operations/<int:operation_id>/journal", "POST", body=NoteCreate, answer=NotePublic, status=201,
       errors=CHANGE_ERRORS)
def write_operation_note(operation_id: int) -> tuple[Response, int]:
    """Add a note to the operation's journal (its detectives and supervisors); class journal."""
    return _write(operation_id, None)


@route(bp, "/contacts/<int:contact_id>/journal", "POST", body=NoteCreate, answer=NotePublic, status=201,
       errors=CHANGE_ERRORS)
def write_contact_note(contact_id: int) -> tuple[Response, int]:
    """Add a note on a contact to its operation's journal (its detectives and supervisors); class journal."""
    contact = journal.visible_contact(get_session(), current_user, contact_id)
    return _write(contact.operation_id, contact_id)


@route(bp, "/operations/<int:operation_id>/journal", query=JournalQuery, answer=NotePage, errors=(400, 404))
def operation_journal(operation_id: int) -> Response:
    """The operation's journal (its own notes and its contacts'), newest first, by keyset (``before``)."""
    return _list("api.operation_journal", operation_id, None, {"operation_id": operation_id})


@route(bp, "/contacts/<int:contact_id>/journal", query=JournalQuery, answer=NotePage, errors=(400, 404))
def contact_journal(contact_id: int) -> Response:
    """The notes on a contact, newest first, by keyset (``before`` = the last id seen)."""
    contact = journal.visible_contact(get_session(), current_user, contact_id)
    return _list("api.contact_journal", contact.operation_id, contact_id, {"contact_id": contact_id})
