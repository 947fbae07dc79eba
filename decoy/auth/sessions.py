"""Server-side sign-in sessions: started at sign-in, checked on every request, ended for good."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlmodel import Session, col, select

from .. import audit_bridge, clock
from ..models import User
from ..models.accounts import LoginSession

#: Why a session ends before its time: the person signs out, an administrator deactivates the account or
#: resets its second factor, or the person changes their password (their other sessions end).
END_REASONS = ("logout", "deactivated", "second_factor_reset", "password_change")
#: How stale the last-seen time may get before a request writes it again (idle accuracy, few writes).
TOUCH_SECONDS = 60


@dataclass(frozen=True)
class NewSession:
    """A started session and its key (for the cookie only; the table keeps its hash)."""

    row: LoginSession
    key: str


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _limits() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return (timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]))


def is_live(row: LoginSession, now: datetime) -> bool:
    """Whether the session has not ended and is within the idle and absolute limits."""
    idle, absolute = _limits()
    return row.ended_at is None and now - row.last_seen_at <= idle and now - row.created_at <= absolute


def start(*, session: Session, user: User, address: str) -> NewSession:
    """A new session of ``user`` (its audit entry is the sign-in's, which names it)."""
    key = secrets.token_urlsafe(32)
    now = clock.now()
    row = LoginSession(key_hash=_key_hash(key), user_id=user.id, address=address[:64], created_at=now,
                       last_seen_at=now)
    session.add(row)
    session.flush()
    return NewSession(row=row, key=key)


def live_session(session: Session, key: str) -> tuple[LoginSession, User] | None:
    """The live session a cookie's key names and its active account (None if ended, expired or unknown)."""
    if not key or len(key) > 100:
        return None
    found = session.exec(
        select(LoginSession, User).join(User, col(User.id) == LoginSession.user_id)
        .where(LoginSession.key_hash == _key_hash(key))
    ).first()
    if found is None:
        return None
    row, user = found
    if not user.is_active or not is_live(row, clock.now()):
        return None
    return row, user


def touch(session: Session, row: LoginSession) -> bool:
    """Move the last-seen time to now if it is stale; whether the row changed (the caller commits)."""
    now = clock.now()
    if (now - row.last_seen_at).total_seconds() <= TOUCH_SECONDS:
        return False
    row.last_seen_at = now
    session.add(row)
    return True


def end(*, session: Session, actor: str, row: LoginSession, reason: str) -> None:
    """End one session for good, with its audit entry."""
    if reason not in END_REASONS:
        raise ValueError(f"unknown reason for ending a session: {reason}")
    if row.ended_at is not None:
        return
    row.ended_at = clock.now()
    row.end_reason = reason
    session.add(row)
    audit_bridge.record(
        session, actor=actor, action="session.end", object_type="session", object_id=row.id,
        details={"user": row.user_id, "reason": reason},
    )


def end_all(*, session: Session, actor: str, user_id: int, reason: str, keep: int | None = None) -> list[int]:
    """End every live session of an account (but ``keep``); the ids of those ended."""
    now = clock.now()
    rows = session.exec(
        select(LoginSession).where(LoginSession.user_id == user_id, col(LoginSession.ended_at).is_(None))
        .order_by(col(LoginSession.id))
    ).all()
    ended = []
    for row in rows:
        # A session past its limits is already over; its row keeps no reason it did not end for.
        if row.id != keep and is_live(row, now):
            end(session=session, actor=actor, row=row, reason=reason)
            ended.append(row.id or 0)
    return ended
