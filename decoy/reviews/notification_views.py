"""The /notifications page: a person's notices, newest first, with mark as read."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import col, select
from werkzeug.wrappers import Response

from .. import clock
from ..db import get_session
from ..errors import NotFound
from ..models import MAX_ID, Notification
from .notifications import body, subject
from .views import bp

PAGE = 50


@bp.route("/notifications")
@login_required
def notifications() -> str:
    """The caller's notifications, newest first, a page at a time (``?before=<id>``)."""
    session = get_session()
    query = select(Notification).where(Notification.user_id == current_user.id)
    before = request.args.get("before", type=int)
    if before is not None:
        query = query.where(col(Notification.id) < before)
    rows = list(session.exec(query.order_by(col(Notification.id).desc()).limit(PAGE + 1)).all())
    following = rows[PAGE - 1].id if len(rows) > PAGE else None
    items = [(row, subject(row.kind, row.params), body(row.kind, row.params)) for row in rows[:PAGE]]
    unread = sum(1 for row, _s, _b in items if row.read_at is None)
    return render_template("reviews/notifications.html", items=items, following=following, unread=unread)


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
