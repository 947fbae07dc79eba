"""The notice of a capture session left open: after CAPTURE_SESSION_NOTICE_HOURS, once to each supervisor
of the operation, in the app and by e-mail (through decoy.reviews.notifications and its outbox).

The notice's key is ``capture_open:<session>``; the notification table's unique key and person make
every pass idempotent (one notice per session and supervisor, whichever scheduler sends it, however
late). A session of a closed operation raises none. Like every notice, it carries no counterpart's words:
the operation's name, the session's number, its operator and when it started.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import exists, func
from sqlmodel import Session, col, select

from .. import clock
from ..db import session_scope
from ..models import (
    CaptureSession,
    CaptureSessionEnd,
    Operation,
    OperationMember,
    OperationStatus,
    Role,
    User,
    UserRole,
)
from ..reviews.notifications import notify

KIND = "capture_session_open"


def notice_key(capture_session_id: int) -> str:
    """The notice's key: one per session (and, by the table's unique key, per person)."""
    return f"capture_open:{capture_session_id}"


def supervisors(session: Session, operation_id: int) -> list[User]:
    """The operation's active supervisors."""
    members = select(OperationMember.user_id).where(OperationMember.operation_id == operation_id)
    holders = select(UserRole.user_id).where(UserRole.role == Role.supervisor.value)
    query = select(User).where(
        col(User.id).in_(members), col(User.id).in_(holders), col(User.is_active).is_(True)
    )
    return list(session.exec(query.order_by(col(User.id))).all())


def open_session_notices(session: Session, now: datetime | None = None) -> int:
    """A notice to the supervisors of every capture session open longer than the configured hours;
    return how many notices were created."""
    now = now or clock.now()
    hours = int(current_app.config["CAPTURE_SESSION_NOTICE_HOURS"])
    query = (
        # The operator by verbalisant code: a notice may be e-mailed, and leaves Decoy (rule 9).
        select(
            CaptureSession,
            Operation.name,
            Operation.timezone,
            func.coalesce(User.verbalisant_code, User.username),
        )
        .join(Operation, col(Operation.id) == CaptureSession.operation_id)
        .join(User, col(User.id) == CaptureSession.operated_by)
        .where(
            Operation.status != OperationStatus.closed.value,
            col(CaptureSession.started_at) < now - timedelta(hours=hours),
            ~exists().where(col(CaptureSessionEnd.capture_session_id) == CaptureSession.id),
        )
        .order_by(col(CaptureSession.id))
    )
    people: dict[int, list[User]] = {}
    count = 0
    for row, name, zone, operator in session.exec(query).all():
        users = people.get(row.operation_id)
        if users is None:
            users = people[row.operation_id] = supervisors(session, row.operation_id)
        link = f"/profiles/{row.profile_id}/contacts#capture-sessions"
        params = {
            "operation": name,
            "capture_session_id": row.id,
            "operated_by": operator,
            "started_local": row.started_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z"),
            "timezone": zone,
            "hours": hours,
            "link": link,
        }
        count += notify(
            session,
            key=notice_key(row.id or 0),
            kind=KIND,
            users=users,
            params=params,
            link=link,
            operation_id=row.operation_id,
        )
    return count


def capture_pass(app: Flask) -> str:
    """The scheduler's pass over capture sessions: the notices of those left open; a one-line summary."""
    with app.app_context(), session_scope(app) as session:
        notices = open_session_notices(session)
    return f"{notices} notifications of capture sessions left open"
