"""The /notifications page: a person's notices, newest first, with mark as read; and the count of the
signed-in person's unread notices that every page may show (``unread_notifications``)."""

from __future__ import annotations

import sys
from typing import Any

from flask import current_app, g, has_request_context, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select
from werkzeug.wrappers import Response

from .. import clock
from ..db import get_session, snapshot_session
from ..errors import NotFound
from ..models import MAX_ID, Notification
from .notifications import body, decided_reviews, subject, unread_count
from .views import bp

PAGE = 50


def unread_notifications() -> int:
    """How many notices of the signed-in person are unread; 0 for nobody signed in.

    Counted once per request (one COUNT on the person's index). A page that follows a database failure
    shows 0 rather than ask the database again. On SQLite, outside the request's transaction, the count
    reads a snapshot, so that it never waits for (or takes) the write lock.
    """
    if not has_request_context() or isinstance(sys.exc_info()[1], SQLAlchemyError):
        return 0
    if "unread_notifications" in g:
        return int(g.unread_notifications)
    if not current_user.is_authenticated:
        return 0
    session = get_session()
    try:
        if session.in_transaction() or session.get_bind().dialect.name != "sqlite":
            count = unread_count(session, current_user.id)
        else:
            with snapshot_session() as reader:
                count = unread_count(reader, current_user.id)
    except SQLAlchemyError as error:
        current_app.logger.warning("unread notifications not counted: %s", error)
        return 0
    g.unread_notifications = count
    return count


@bp.app_context_processor
def _unread_notifications() -> dict[str, Any]:
    return {"unread_notifications": unread_notifications()}


@bp.route("/notifications")
@login_required
def notifications() -> str:
    """The caller's notifications, newest first, a page at a time (``?before=<id>``).

    The notices of a review that has been decided show the decision (they were marked read with it).
    """
    session = get_session()
    query = select(Notification).where(Notification.user_id == current_user.id)
    before = request.args.get("before", type=int)
    if before is not None:
        query = query.where(col(Notification.id) < before)
    rows = list(session.exec(query.order_by(col(Notification.id).desc()).limit(PAGE + 1)).all())
    following = rows[PAGE - 1].id if len(rows) > PAGE else None
    shown = rows[:PAGE]
    items = [
        (row, subject(row.kind, row.params, row.created_at), notice_parts(body(row.kind, row.params)))
        for row in shown
    ]
    unread = sum(1 for row, _s, _b in items if row.read_at is None)
    return render_template(
        "reviews/notifications.html",
        items=items,
        following=following,
        unread=unread,
        decided=decided_reviews(session, shown),
    )


def notice_parts(text: str) -> list[tuple[str, str]]:
    """A notice's e-mail text as the page shows it: ("", paragraph) and (label, value) for its "Label: value"
    lines, without the line that names the page to open (the notice's title links there)."""
    opening = f"{_('Open in Decoy')}:"
    parts: list[tuple[str, str]] = []
    for paragraph in text.strip().split("\n\n"):
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        facts = [line.partition(": ") for line in lines]
        if lines and all(sep and 0 < len(label) <= 40 for label, sep, _v in facts):
            parts += [(label, value) for label, _sep, value in facts if f"{label}:" != opening]
        elif lines:
            parts.append(("", " ".join(lines)))
    return parts


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int) -> Response:
    """Mark one of the caller's notifications as read."""
    session = get_session()
    row = session.get(Notification, notification_id) if notification_id <= MAX_ID else None
    if row is None or row.user_id != current_user.id:
        raise NotFound(_("no such notification"))
    if row.read_at is None:
        row.read_at = clock.now()
        session.add(row)
        session.commit()
    return redirect(url_for("reviews.notifications"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def mark_all_read() -> Response:
    """Mark every notification of the caller as read."""
    session = get_session()
    now = clock.now()
    for row in session.exec(
        select(Notification).where(
            Notification.user_id == current_user.id, col(Notification.read_at).is_(None)
        )
    ).all():
        row.read_at = now
        session.add(row)
    session.commit()
    return redirect(url_for("reviews.notifications"))
