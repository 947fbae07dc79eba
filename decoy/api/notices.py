"""API endpoints of the caller's notices (the same as the /notifications page): newest first, a page at
a time, and marking one as read."""

from __future__ import annotations

from typing import Annotated

from flask import jsonify, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field
from sqlmodel import col, select
from werkzeug.wrappers import Response

from .. import clock
from ..db import get_session
from ..errors import NotFound
from ..models import Notification
from ..models.schemas import Cursor, Output, Query, UtcMoment
from ..reviews.notifications import subject
from . import bp
from .inputs import read_query
from .openapi import route


class NoticeQuery(Query):
    """The page: notices older than ``before`` (an id), at most ``limit``."""

    before: Cursor | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50


class NoticePublic(Output):
    """One notice: what it is about (its subject in the reader's language), when, and whether read."""

    id: int
    kind: str
    subject: str
    operation_id: int | None
    link: str
    created_at: UtcMoment
    read: bool


class NoticePage(Output):
    """The caller's notices, newest first; ``next`` is the path of the older ones, null on the last page."""

    items: list[NoticePublic]
    next: str | None


def _notice(row: Notification) -> NoticePublic:
    return NoticePublic(
        id=row.id, kind=row.kind, subject=subject(row.kind, row.params, row.created_at),
        operation_id=row.operation_id,
        link=row.link, created_at=row.created_at, read=row.read_at is not None,
    )


@route(bp, "/notifications", query=NoticeQuery, answer=NoticePage, errors=(400,))
def list_notifications() -> Response:
    """The caller's notices (review reminders, capture sessions left open, …), newest first."""
    page = read_query(NoticeQuery)
    query = select(Notification).where(Notification.user_id == current_user.id)
    if page.before is not None:
        query = query.where(col(Notification.id) < page.before)
    rows = list(get_session().exec(query.order_by(col(Notification.id).desc()).limit(page.limit + 1)).all())
    more = len(rows) > page.limit
    following = (
        url_for("api.list_notifications", before=rows[page.limit - 1].id, limit=page.limit) if more else None
    )
    body = NoticePage(items=[_notice(row) for row in rows[: page.limit]], next=following)
    return jsonify(body.model_dump(mode="json"))


@route(bp, "/notifications/<int:notification_id>/read", "POST", answer=NoticePublic, errors=(404,))
def read_notification(notification_id: int) -> Response:
    """Mark one of the caller's notices as read (again: no change)."""
    session = get_session()
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != current_user.id:
        raise NotFound(_("no such notification"))
    if row.read_at is None:
        row.read_at = clock.now()
        session.add(row)
        session.commit()
    return jsonify(_notice(row).model_dump(mode="json"))
