"""What an operation's charts show, read from the database: contacts and messages per day in the
operation's zone (exact across DST changes), and the timeline of its authorizations, reviews and profile
states. Drawn as SVG by decoy.operations.chart_svg.
"""


from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from ..models import Authorization, Contact, Message, Operation, Profile, ProfileTransition, Review
from ..reviews.services import states as review_states
from .rules import authorization_status

DAY_SECONDS = 86_400

@dataclass(frozen=True)
class Day:
    """The activity of one calendar day in the operation's zone."""

    day: date
    contacts: int
    messages: int


@dataclass(frozen=True)
class Span:
    """A stretch of a lane: an authorization's validity, or a profile in one state (``end`` None: still)."""

    state: str
    start: datetime
    end: datetime | None


@dataclass(frozen=True)
class Lane:
    """A row of the timeline: an authorization by its reference, or a profile by its handle."""

    label: str
    status: str
    spans: list[Span]
    platform: str = ""


@dataclass(frozen=True)
class Deadline:
    """A review's due moment and what became of it."""

    at: datetime
    status: str
    kind: str
    reference: str
    decision: str


@dataclass(frozen=True)
class Timeline:
    """Everything the timeline draws, oldest first."""

    now: datetime
    authorizations: list[Lane]
    reviews: list[Deadline]
    profiles: list[Lane]

    @property
    def empty(self) -> bool:
        """Whether there is nothing to draw."""
        return not (self.authorizations or self.reviews or self.profiles)

    def bounds(self) -> tuple[datetime, datetime]:
        """The first and last moment shown (now included)."""
        moments = [self.now, *(deadline.at for deadline in self.reviews)]
        for lane in (*self.authorizations, *self.profiles):
            for span in lane.spans:
                moments.extend(moment for moment in (span.start, span.end) if moment is not None)
        return min(moments), max(moments)


def _offset(zone: ZoneInfo, epoch: int) -> int:
    shift = datetime.fromtimestamp(epoch, UTC).astimezone(zone).utcoffset()
    return int(shift.total_seconds() // 60) if shift is not None else 0


def offset_changes(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offset in minutes at ``start``, then every moment up to ``end`` where it changes."""
    cursor, last = math.floor(start.timestamp()), math.ceil(end.timestamp())
    changes = [(start, _offset(zone, cursor))]
    while cursor < last:
        following = min(cursor + DAY_SECONDS, last)
        if _offset(zone, following) != _offset(zone, cursor):
            low, high = cursor, following  # the change lies in (low, high]: find its second
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if _offset(zone, middle) == _offset(zone, low) else (low, middle)
            changes.append((datetime.fromtimestamp(high, UTC), _offset(zone, high)))
        cursor = following
    return changes


def _local_day(session: Session, column: Any, zone_name: str, start: datetime, end: datetime) -> Any:
    """SQL for the calendar day of a UTC ``column`` in ``zone_name``, exact across offset changes."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(zone_name, column))

    def shifted(minutes: int) -> Any:
        # SQLite keeps UTC as text: whole seconds only, so that no rounding carries a moment past midnight.
        return func.date(func.substr(column, 1, 19), f"{minutes:+d} minutes")

    changes = offset_changes(ZoneInfo(zone_name), start, end)
    periods = [
        (column < moment, shifted(before))
        for (_since, before), (moment, _after) in zip(changes, changes[1:], strict=False)
    ]
    return case(*periods, else_=shifted(changes[-1][1])) if periods else shifted(changes[0][1])


def _per_day(session: Session, column: Any, where: tuple[Any, ...], zone_name: str) -> dict[date, int]:
    low, high = session.exec(select(func.min(column), func.max(column)).where(*where)).one()
    if low is None:
        return {}
    # Grouped in a subquery, so that PostgreSQL sees one expression (its zone is a bound parameter).
    rows = select(_local_day(session, column, zone_name, low, high).label("day")).where(*where).subquery()
    counted = session.exec(select(rows.c.day, func.count()).group_by(rows.c.day)).all()
    return {value if isinstance(value, date) else date.fromisoformat(value): int(n) for value, n in counted}


def daily_activity(session: Session, operation: Operation, zone_name: str) -> list[Day]:
    """New contacts (by first sighting) and messages (by platform time; corrections, which restate a message
    already counted, left out) per calendar day in ``zone_name``; days with neither are left out."""
    contacts = _per_day(session, Contact.first_seen_at, (Contact.operation_id == operation.id,), zone_name)
    messages = _per_day(
        session,
        Message.sent_at,
        (Message.operation_id == operation.id, col(Message.corrects_id).is_(None)),
        zone_name,
    )
    return [
        Day(day, contacts.get(day, 0), messages.get(day, 0)) for day in sorted(contacts.keys() | messages)
    ]


def timeline(session: Session, operation: Operation, now: datetime) -> Timeline:
    """The operation's authorizations with their status now, its reviews, and each profile's states."""
    authorizations = session.exec(
        select(Authorization)
        .where(Authorization.operation_id == operation.id)
        .order_by(col(Authorization.valid_from), col(Authorization.id))
    ).all()
    authorization_lanes = []
    for authorization in authorizations:
        status = authorization_status(session, authorization, now)
        span = Span(status, authorization.valid_from, authorization.valid_until)
        authorization_lanes.append(Lane(authorization.reference, status, [span]))
    steps: dict[int, list[ProfileTransition]] = {}
    for step in session.exec(
        select(ProfileTransition)
        .join(Profile, col(Profile.id) == ProfileTransition.profile_id)
        .where(Profile.operation_id == operation.id)
        .order_by(col(ProfileTransition.profile_id), col(ProfileTransition.id))
    ).all():
        steps.setdefault(step.profile_id, []).append(step)
    profile_lanes = []
    for profile in session.exec(
        select(Profile).where(Profile.operation_id == operation.id).order_by(col(Profile.id))
    ).all():
        history = steps.get(profile.id, [])  # type: ignore[arg-type]
        ends: list[datetime | None] = [step.at for step in history[1:]]
        spans = [Span(step.to_status, step.at, end) for step, end in zip(history, [*ends, None], strict=True)]
        profile_lanes.append(Lane(profile.handle, profile.status, spans, profile.platform))
    reviews = list(
        session.exec(
            select(Review)
            .where(Review.operation_id == operation.id)
            .order_by(col(Review.due_at), col(Review.id))
        ).all()
    )
    deadlines = [
        Deadline(
            state.review.due_at,
            state.status,
            state.review.kind,
            state.reference,
            state.decision.decision if state.decision else "",
        )
        for state in review_states(session, reviews, now)
    ]
    return Timeline(now, authorization_lanes, deadlines, profile_lanes)


# --- drawing ----------------------------------------------------------------------------------------------
