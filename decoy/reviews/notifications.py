"""Notices in the app and by e-mail: review reminders and escalations, suspensions, checkpoints, alarms.

Each notice has a key (``reminder_7d:<review>``, ``escalation:<review>``, ``suspension:<action>``,
``checkpoint:<local date>``, ``verification_failed:<run>``) and is created at most once per person
(a unique constraint on key and person). What is due is derived from the database on every pass.
E-mails go through the outbox (see :mod:`decoy.reviews.mailer`) and carry only the operation's name,
the kind of review, the due time in the operation's zone and a link path: never a counterpart's words.

A reminder's subject states the time left from the moment the notice was made, with the due time. Once
a review is decided its notices are read for everyone (nothing about it is due any more).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import String, cast, exists, func, literal, update
from sqlmodel import Session, col, select

from .. import audit_bridge, clock
from ..models import (
    EnforcementAction,
    Notification,
    Operation,
    OperationMember,
    OperationStatus,
    OutboxEmail,
    Review,
    ReviewDecision,
    ReviewKind,
    Role,
    User,
    UserRole,
    VerificationRun,
)
from ..operations import labels
from .chains import insert_new, superseded_ids

#: (notice kind, lower bound, upper bound) of a review's due time relative to now, and who is told.
REVIEW_NOTICES = (
    ("reminder_7d", timedelta(days=1), timedelta(days=7)),
    ("reminder_1d", timedelta(0), timedelta(days=1)),
)
TEMPLATES = {
    "reminder_7d": "emails/review_reminder.txt",
    "reminder_1d": "emails/review_reminder.txt",
    "escalation": "emails/review_escalation.txt",
    "suspension": "emails/suspension.txt",
    "checkpoint": "emails/checkpoint.txt",
    "verification_failed": "emails/verification_failed.txt",
    "capture_session_open": "emails/capture_session_open.txt",
    "safeguarding_opened": "emails/safeguarding_opened.txt",
    "safeguarding_overdue": "emails/safeguarding_overdue.txt",
    "witness_refused": "emails/witness_refused.txt",
}


#: The notices of one review, by kind; all of them are settled by its decision.
REVIEW_NOTICE_KINDS = tuple(kind for kind, _low, _high in REVIEW_NOTICES) + ("escalation",)


def reminder_subject(params: dict[str, Any], made_at: datetime) -> str:
    """A reminder's subject: the time left from ``made_at`` to the review's due time, and that time."""
    operation = params.get("operation", "")
    try:
        due_at = datetime.fromisoformat(str(params["due_at"]))
    except (KeyError, ValueError):
        return _("Review due soon: %(operation)s", operation=operation)
    due = params.get("due_local") or due_at.isoformat()
    left = due_at - made_at
    hours = max(math.ceil(left / timedelta(hours=1)), 1)
    if hours < 24:
        return ngettext(
            "Review due in %(num)d hour (%(due)s): %(operation)s",
            "Review due in %(num)d hours (%(due)s): %(operation)s",
            hours,
            due=due,
            operation=operation,
        )
    days = math.floor(left / timedelta(days=1) + 0.5)
    return ngettext(
        "Review due in %(num)d day (%(due)s): %(operation)s",
        "Review due in %(num)d days (%(due)s): %(operation)s",
        days,
        due=due,
        operation=operation,
    )


def subject(kind: str, params: dict[str, Any], made_at: datetime | None = None) -> str:
    """The one-line summary of a notice (also the e-mail's subject); ``made_at``: when the notice was
    made (a reminder counts the time left from then), now when not given."""
    operation = params.get("operation", "")
    if kind in ("reminder_7d", "reminder_1d"):
        return reminder_subject(params, made_at or clock.now())
    texts = {
        "escalation": _("OVERDUE review: %(operation)s", operation=operation),
        "suspension": _("Profiles suspended automatically: %(operation)s", operation=operation),
        "checkpoint": _("Daily audit log checkpoint (size %(size)s)", size=params.get("size", "")),
        "verification_failed": _("ALARM: audit log verification failed"),
        "witness_refused": _("ALARM: witness %(witness)s refused the audit log's checkpoint",
                             witness=params.get("witness", "")),
        "capture_session_open": _(
            "Capture session open for more than %(hours)s hours: %(operation)s",
            hours=params.get("hours", ""),
            operation=operation,
        ),
        "safeguarding_opened": _("Safeguarding case opened: %(operation)s", operation=operation),
        "safeguarding_overdue": _("OVERDUE safeguarding case: %(operation)s", operation=operation),
    }
    return texts.get(kind, kind)


def body(kind: str, params: dict[str, Any]) -> str:
    """The text of a notice, from its template under templates/emails/; its link is a full address under
    DECOY_PUBLIC_URL when that is set (an e-mail is read outside the browser that knows Decoy's address)."""
    link = params.get("link")
    public = current_app.config.get("PUBLIC_URL") or ""
    if public and isinstance(link, str) and link.startswith("/"):
        params = {**params, "link": public + link}
    return render_template(
        TEMPLATES[kind],
        kind=kind,
        p=params,
        review_kind=labels.review_kind(str(params.get("review_kind", ""))),
    )


def active_with_role(session: Session, *roles: str) -> list[User]:
    """Active accounts holding any of ``roles``."""
    holders = select(UserRole.user_id).where(col(UserRole.role).in_(roles))
    return list(
        session.exec(
            select(User)
            .where(col(User.id).in_(holders), col(User.is_active).is_(True))
            .order_by(col(User.id))
        ).all()
    )


def _members_with_role(session: Session, operation_id: int, role: str) -> list[User]:
    members = select(OperationMember.user_id).where(OperationMember.operation_id == operation_id)
    holders = select(UserRole.user_id).where(UserRole.role == role)
    return list(
        session.exec(
            select(User).where(
                col(User.id).in_(members), col(User.id).in_(holders), col(User.is_active).is_(True)
            )
        ).all()
    )


def responsible(session: Session, operation_id: int, *, every_legal_officer: bool = False) -> list[User]:
    """The operation's supervisors and its legal officers (all active legal officers if none is a member)."""
    people = _members_with_role(session, operation_id, Role.supervisor.value)
    legal = [] if every_legal_officer else _members_with_role(session, operation_id, Role.legal.value)
    return people + (legal or active_with_role(session, Role.legal.value))


def notify(
    session: Session,
    *,
    key: str,
    kind: str,
    users: list[User],
    params: dict[str, Any],
    link: str,
    operation_id: int | None = None,
) -> int:
    """Create the notice ``key`` for each of ``users`` who lacks it, queue its e-mails; return how many."""
    now = clock.now()
    unique = {user.id: user for user in users}
    rows = [
        {
            "key": key,
            "user_id": user_id,
            "kind": kind,
            "operation_id": operation_id,
            "params": params,
            "link": link,
            "created_at": now,
            "read_at": None,
        }
        for user_id in unique
    ]
    created = insert_new(session, Notification, rows, returning="user_id")
    mail = bool(current_app.config.get("SMTP_URL"))
    for notification_id, user_id in created:
        user = unique[user_id]
        if not (mail and user.email):
            continue
        with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            text = body(kind, params)
            title = subject(kind, params, now)
        session.add(
            OutboxEmail(
                notification_id=notification_id,
                recipient=user.email,
                subject=title[:300],
                body=text,
                created_at=now,
                next_attempt_at=now,
            )
        )
    if created:
        audit_bridge.record(
            session,
            actor=audit_bridge.SYSTEM_ACTOR,
            action="notification.create",
            object_type="notification",
            object_id=key,
            operation_id=operation_id,
            # Recipients by account id: the entry travels in the operation's bundles (rule 9).
            details={"kind": kind, "recipients": sorted(u for _i, u in created)},
        )
    return len(created)


def _not_notified(prefix: str, column: Any) -> Any:
    return ~exists().where(Notification.key == literal(prefix + ":") + cast(column, String))


def _review_params(review: Review, name: str, zone: str) -> dict[str, Any]:
    local = review.due_at.astimezone(ZoneInfo(zone))
    params = {
        "operation": name,
        "review_id": review.id,
        "review_kind": review.kind,
        "due_local": local.strftime("%Y-%m-%d %H:%M %Z"),
        "timezone": zone,
        "due_at": review.due_at.isoformat(),
        "link": f"/reviews/{review.id}",
    }
    if review.trigger:
        # Why a triggered review exists: the rule, and for a flag the contact's number and the flag's name.
        params["trigger"] = review.trigger
        if review.contact_id is not None:
            params.update(contact_id=review.contact_id, flag=review.flag)
    return params


def review_notices(session: Session, now: datetime, review_ids: list[int] | None = None) -> int:
    """Reminders 7 days and 1 day before a review is due, and the escalation once it is overdue (of
    every review, or of those named).

    A reminder whose window passed (the scheduler was down) is not sent late: the next notice is.
    """
    replaced = superseded_ids(session)
    windows = [(kind, now + low, now + high) for kind, low, high in REVIEW_NOTICES]
    windows.append(("escalation", None, now))
    people: dict[tuple[int, bool], list[User]] = {}
    count = 0
    for kind, after, until in windows:
        query = (
            select(Review, Operation.name, Operation.timezone)
            .join(Operation, col(Operation.id) == Review.operation_id)
            .where(
                Operation.status != OperationStatus.closed.value,
                col(Review.due_at) <= until,
                ~exists().where(ReviewDecision.review_id == Review.id),
                _not_notified(kind, Review.id),
            )
            .order_by(col(Review.id))
        )
        if after is not None:
            query = query.where(col(Review.due_at) > after)
        if review_ids is not None:
            query = query.where(col(Review.id).in_(review_ids))
        for review, name, zone in session.exec(query).all():
            if review.kind != ReviewKind.triggered.value and review.authorization_id in replaced:
                continue
            everyone = kind == "escalation"
            users = people.get((review.operation_id, everyone))
            if users is None:
                users = people[review.operation_id, everyone] = responsible(
                    session, review.operation_id, every_legal_officer=everyone
                )
            count += notify(
                session,
                key=f"{kind}:{review.id}",
                kind=kind,
                users=users,
                params=_review_params(review, name, zone),
                link=f"/reviews/{review.id}",
                operation_id=review.operation_id,
            )
    return count


def settle_review_notices(session: Session, review_id: int, at: datetime) -> int:
    """Mark the notices of a review that has just been decided read, for every recipient; return how many.

    Nothing about a decided review is due any more, so its reminders and escalation no longer wait as
    unread; the page shows them as decided.
    """
    keys = [f"{kind}:{review_id}" for kind in REVIEW_NOTICE_KINDS]
    result = session.connection().execute(
        update(Notification)
        .where(col(Notification.key).in_(keys), col(Notification.read_at).is_(None))
        .values(read_at=at)
    )
    return int(result.rowcount or 0)


def decided_reviews(session: Session, notices: list[Notification]) -> dict[int, str]:
    """Of the reviews the review notices among ``notices`` are about, those decided, with the decision."""
    ids = {
        int(row.params["review_id"])
        for row in notices
        if row.kind in REVIEW_NOTICE_KINDS and isinstance(row.params.get("review_id"), int)
    }
    if not ids:
        return {}
    query = select(ReviewDecision.review_id, ReviewDecision.decision)
    found = session.exec(query.where(col(ReviewDecision.review_id).in_(ids))).all()
    return {int(review_id): str(decision) for review_id, decision in found}


def unread_count(session: Session, user_id: int) -> int:
    """How many of the person's notices are unread (one COUNT on the person's index)."""
    statement = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
    )
    return int(session.exec(statement).one())


def suspension_notices(session: Session) -> int:
    """A notice of every automatic suspension to the operation's responsible people."""
    rows = session.exec(
        select(EnforcementAction, Operation.name)
        .join(Operation, col(Operation.id) == EnforcementAction.operation_id)
        .where(_not_notified("suspension", EnforcementAction.id))
        .order_by(col(EnforcementAction.id))
    ).all()
    count = 0
    for action, name in rows:
        if not action.profiles and action.rule != "authorization_lapsed":
            continue
        params = {
            "operation": name,
            "rule": action.rule,
            "profiles": len(action.profiles),
            "review_id": action.review_id,
            "link": f"/operations/{action.operation_id}/reviews",
        }
        count += notify(
            session,
            key=f"suspension:{action.id}",
            kind="suspension",
            users=responsible(session, action.operation_id),
            params=params,
            link=params["link"],
            operation_id=action.operation_id,
        )
    return count


def checkpoint_notice(session: Session, now: datetime) -> int:
    """Once a local day (from CHECKPOINT_NOTICE_HOUR), the latest signed checkpoint to the legal officers."""
    local = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    if local.hour < int(current_app.config["CHECKPOINT_NOTICE_HOUR"]):
        return 0
    key = f"checkpoint:{local.date().isoformat()}"
    if session.exec(select(Notification.id).where(Notification.key == key).limit(1)).first() is not None:
        return 0
    stored = audit_bridge.get_store().latest_checkpoint(session.connection())
    if stored is None:
        return 0
    params = {"size": stored.size, "note": stored.note, "link": "/integrity/"}
    return notify(
        session,
        key=key,
        kind="checkpoint",
        users=active_with_role(session, Role.legal.value),
        params=params,
        link="/integrity/",
    )


def verification_alarm(session: Session) -> int:
    """An alarm to legal officers and admins when the latest verification found the log not intact."""
    run = session.exec(select(VerificationRun).order_by(col(VerificationRun.id).desc()).limit(1)).first()
    if run is None or run.ok:
        return 0
    params = {
        "run_id": run.id,
        "first_bad_index": run.first_bad_index,
        "trigger": run.trigger,
        "link": "/integrity/",
    }
    users = active_with_role(session, Role.legal.value, Role.admin.value)
    return notify(
        session,
        key=f"verification_failed:{run.id}",
        kind="verification_failed",
        users=users,
        params=params,
        link="/integrity/",
    )


def send_notices(session: Session) -> int:
    """Every notice that is due now; return how many were created."""
    now = clock.now()
    return (
        review_notices(session, now)
        + suspension_notices(session)
        + checkpoint_notice(session, now)
        + verification_alarm(session)
    )
