"""API endpoints of a contact's category and the notification register of suspects (art. 126bb Sv)."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user
from pydantic import Field
from werkzeug.wrappers import Response

from .. import clock
from ..db import get_session
from ..disclosure import codes
from ..evidence import categories
from ..models import CATEGORIES, NOTIFICATION_KINDS, ContactCategoryChange, SuspectNotification
from ..models.schemas import Input, Output, Timestamp, UtcMoment, one_of, text
from ..orders import notification_register
from . import bp
from .inputs import read_json
from .openapi import route

CHANGE_ERRORS = (400, 403, 404, 409)


class CategoryChange(Input):
    """The contact's new category and why."""

    category: one_of(CATEGORIES)
    reason: text(categories.MAX_REASON, required=True)


class CategoryChangePublic(Output):
    """One change of a contact's category: from, to, why, who (verbalisant code) and when."""

    id: int
    from_category: one_of(CATEGORIES)
    category: one_of(CATEGORIES)
    reason: str
    by: str | None
    at: UtcMoment


class ContactCategory(Output):
    """A contact's category now and every change of it, oldest first."""

    contact_id: int
    category: one_of(CATEGORIES)
    history: list[CategoryChangePublic]


class NotificationCreate(Input):
    """That the suspect was notified (when, how), or that notification is postponed (until when, why)."""

    kind: one_of(NOTIFICATION_KINDS)
    at: Timestamp = Field(description="notified: when (not in the future); postponed: until when (future)")
    note: text(notification_register.MAX_NOTE, required=True) = Field(
        description="notified: how the person was notified; postponed: why"
    )


class NotificationPublic(Output):
    """A record of the notification register."""

    id: int
    contact_id: int
    operation_id: int
    kind: one_of(NOTIFICATION_KINDS)
    at: UtcMoment
    note: str
    by: str | None
    recorded_at: UtcMoment


class RegisterLinePublic(Output):
    """A suspect in the register: its state, its latest record and when notification is due."""

    contact_id: int
    operation_id: int
    operation: str
    state: one_of(("open", *NOTIFICATION_KINDS))
    due_at: UtcMoment | None
    due: bool
    latest: NotificationPublic | None


class NotificationRegister(Output):
    """Every suspect of the operations the caller may see, in contact order."""

    items: list[RegisterLinePublic]


def _change(change: ContactCategoryChange, names: codes.Officers) -> CategoryChangePublic:
    return CategoryChangePublic(
        id=change.id, from_category=change.from_category, category=change.category, reason=change.reason,
        by=names(change.changed_by, change.changed_at), at=change.changed_at,
    )


def _record(record: SuspectNotification, names: codes.Officers) -> NotificationPublic:
    return NotificationPublic(
        id=record.id, contact_id=record.contact_id, operation_id=record.operation_id, kind=record.kind,
        at=record.at, note=record.note, by=names(record.recorded_by, record.recorded_at),
        recorded_at=record.recorded_at,
    )


def _category_of(contact_id: int) -> Response:
    session = get_session()
    names = codes.Officers(session)
    history = categories.history(session, contact_id)
    body = ContactCategory(
        contact_id=contact_id,
        category=history[-1].category if history else categories.DEFAULT_CATEGORY,
        history=[_change(change, names) for change in history],
    )
    return jsonify(body.model_dump(mode="json"))


@route(bp, "/contacts/<int:contact_id>/category", answer=ContactCategory, errors=(404,))
def get_category(contact_id: int) -> Response:
    """The contact's category and its history."""
    categories.visible_contact(get_session(), current_user, contact_id)
    return _category_of(contact_id)


@route(bp, "/contacts/<int:contact_id>/category", "POST", body=CategoryChange, answer=ContactCategory,
       errors=CHANGE_ERRORS)
def change_category(contact_id: int) -> Response:
    """Change the contact's category with a reason (the operation's detectives and supervisors, and legal
    officers); recorded, and shown with its history."""
    session = get_session()
    categories.visible_contact(session, current_user, contact_id)
    data = read_json(CategoryChange)
    categories.change_category(
        session=session, actor=current_user, contact_id=contact_id, category=data.category, reason=data.reason
    )
    session.commit()
    return _category_of(contact_id)


@route(bp, "/contacts/<int:contact_id>/suspect-notifications", "POST", body=NotificationCreate,
       answer=NotificationPublic, status=201, errors=CHANGE_ERRORS)
def record_notification(contact_id: int) -> tuple[Response, int]:
    """Record a suspect's notification or its postponement (legal officers; art. 126bb Sv)."""
    session = get_session()
    categories.visible_contact(session, current_user, contact_id)
    data = read_json(NotificationCreate)
    record = notification_register.record_notification(
        session=session, actor=current_user, contact_id=contact_id, kind=data.kind, at=data.at, note=data.note
    )
    session.commit()
    return jsonify(_record(record, codes.Officers(session)).model_dump(mode="json")), 201


@route(bp, "/suspect-notifications", answer=NotificationRegister)
def notification_register_list() -> Response:
    """The notification register: every suspect the caller may see, with its state and due time."""
    session = get_session()
    names = codes.Officers(session)
    now = clock.now()
    items = [
        RegisterLinePublic(
            contact_id=line.contact.id, operation_id=line.operation.id, operation=line.operation.name,
            state=line.state, due_at=line.due_at, due=line.is_due(now),
            latest=_record(line.latest, names) if line.latest else None,
        )
        for line in notification_register.register(session, current_user)
    ]
    return jsonify(NotificationRegister(items=items).model_dump(mode="json"))
