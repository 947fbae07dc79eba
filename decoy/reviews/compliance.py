"""What the compliance dashboard and the calendar feed show, each in a fixed number of queries."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, exists, func
from sqlmodel import Session, col, select

from .. import access
from ..models import (
    Authorization,
    AuthorizationWithdrawal,
    Message,
    Operation,
    OperationMember,
    OperationStatus,
    Review,
    ReviewDecision,
    ReviewKind,
    Role,
    UserRole,
)
from ..operations.rules import EXPIRING_WITHIN
from .calendar import Deadline
from .chains import superseded_ids

DUE_SOON = timedelta(days=7)


@dataclass
class AuthorizationLine:
    """A current authorization of an operation and how long it still runs."""

    id: int
    reference: str
    status: str
    valid_until: datetime
    days_left: int


@dataclass
class OperationLine:
    """One row of the compliance dashboard."""

    id: int
    name: str
    status: str
    timezone: str
    authorizations: list[AuthorizationLine] = field(default_factory=list)
    due_soon: int = 0
    overdue: int = 0
    next_due: datetime | None = None
    flagged: int = 0
    #: (contact id, flagged messages) of each contact with flagged messages, the most flagged first.
    flagged_contacts: list[tuple[int, int]] = field(default_factory=list)

    @property
    def authorization_state(self) -> str:
        """What the operation's current authorizations amount to (an open operation's only):
        ``none`` (no authorization registered yet), ``valid`` (one is valid now), ``not_yet_valid`` (none
        valid, one begins later), ``withdrawn`` or ``lapsed`` (none valid, and none to come); ``closed``
        for a closed operation."""
        if self.status == OperationStatus.closed.value:
            return "closed"
        states = {line.status for line in self.authorizations}
        if not states:
            return "none"
        if states & {"valid", "expiring"}:
            return "valid"
        if "not_yet_valid" in states:
            return "not_yet_valid"
        return "withdrawn" if states == {"withdrawn"} else "lapsed"

    @property
    def lapsed(self) -> bool:
        """Whether every current authorization has ended (lapsed or withdrawn) while the operation is open."""
        return self.authorization_state in ("lapsed", "withdrawn")

    @property
    def level(self) -> str:
        """``bad`` (lapsed or overdue), ``warn`` (expiring, due soon, not yet valid), ``none`` (no
        authorization yet, nothing due) or ``ok``; shown with text."""
        if self.lapsed or self.overdue:
            return "bad"
        if (
            self.due_soon
            or self.authorization_state == "not_yet_valid"
            or any(line.status == "expiring" for line in self.authorizations)
        ):
            return "warn"
        return "none" if self.authorization_state == "none" else "ok"


def authorization_state(authorization: Any, now: datetime, withdrawn_at: datetime | None = None) -> str:
    """valid, expiring, lapsed, not_yet_valid or withdrawn (for a current authorization)."""
    if withdrawn_at is not None and now >= withdrawn_at:
        return "withdrawn"
    if now < authorization.valid_from:
        return "not_yet_valid"
    if now >= authorization.valid_until:
        return "lapsed"
    return "expiring" if authorization.valid_until - now <= EXPIRING_WITHIN else "valid"


def undecided(session: Session, operation_ids: Any = None) -> list[Review]:
    """Reviews without a decision (of the given operations), by due time."""
    query = select(Review).where(~exists().where(ReviewDecision.review_id == Review.id))
    if operation_ids is not None:
        query = query.where(col(Review.operation_id).in_(operation_ids))
    return list(session.exec(query.order_by(col(Review.due_at), col(Review.id))).all())


def dashboard(session: Session, now: datetime) -> list[OperationLine]:
    """Every operation: current authorizations, reviews due and overdue, flagged messages."""
    lines = {
        op.id: OperationLine(id=op.id, name=op.name, status=op.status, timezone=op.timezone)  # type: ignore[misc]
        for op in session.exec(select(Operation).order_by(col(Operation.name))).all()
    }
    replaced = superseded_ids(session)
    ended = select(AuthorizationWithdrawal.authorization_id, AuthorizationWithdrawal.effective_at)
    withdrawn = dict(session.exec(ended).all())
    for authorization in session.exec(select(Authorization).order_by(col(Authorization.id))).all():
        if authorization.id in replaced:
            continue
        left = (authorization.valid_until - now) / timedelta(days=1)
        lines[authorization.operation_id].authorizations.append(
            AuthorizationLine(
                id=authorization.id,
                reference=authorization.reference,  # type: ignore[arg-type]
                status=authorization_state(authorization, now, withdrawn.get(authorization.id)),
                valid_until=authorization.valid_until,
                days_left=max(math.ceil(left), 0),
            )
        )
    for review in undecided(session):
        if review.kind != ReviewKind.triggered.value and review.authorization_id in replaced:
            continue
        line = lines[review.operation_id]
        if review.due_at <= now:
            line.overdue += 1
        elif review.due_at <= now + DUE_SOON:
            line.due_soon += 1
        if review.due_at > now and (line.next_due is None or review.due_at < line.next_due):
            line.next_due = review.due_at
    flagged = session.exec(
        select(Message.operation_id, Message.contact_id, func.count())
        .where(cast(Message.flags, String) != "[]")
        .group_by(Message.operation_id, Message.contact_id)
    ).all()
    for operation_id, contact_id, count in flagged:
        line = lines[operation_id]
        line.flagged += int(count)
        line.flagged_contacts.append((int(contact_id), int(count)))
    for line in lines.values():
        line.flagged_contacts.sort(key=lambda item: (-item[1], item[0]))
    return list(lines.values())


def feed_operations(session: Session, actor: Any) -> list[int]:
    """The operations whose review deadlines are the caller's: those they are assigned to, and for a
    legal officer also every operation without a legal officer of its own (who is then told instead)."""
    if not access.sees_evidence(actor):
        return []
    member_of = set(
        session.exec(select(OperationMember.operation_id).where(OperationMember.user_id == actor.id)).all()
    )
    if actor.has_role(Role.legal.value):
        legal_people = select(UserRole.user_id).where(UserRole.role == Role.legal.value)
        covered = set(
            session.exec(
                select(OperationMember.operation_id).where(col(OperationMember.user_id).in_(legal_people))
            ).all()
        )
        member_of |= set(session.exec(select(Operation.id)).all()) - covered
    return sorted(member_of)


@dataclass
class AttentionLine:
    """A review on a legal officer's home page: overdue, or due soon."""

    review: Review
    operation: str
    timezone: str
    status: str


def needing_attention(session: Session, actor: Any, now: datetime) -> list[AttentionLine]:
    """The undecided, not superseded reviews of open operations that a legal officer must act on, by due
    time: every overdue one (each legal officer is told of them) and those due within DUE_SOON of the
    operations whose review notices are the caller's (feed_operations)."""
    open_operations = select(Operation).where(Operation.status != OperationStatus.closed.value)
    operations = {op.id: op for op in session.exec(open_operations).all()}
    if not operations:
        return []
    mine = set(feed_operations(session, actor))
    replaced = superseded_ids(session)
    query = (
        select(Review)
        .where(
            col(Review.due_at) <= now + DUE_SOON,
            col(Review.operation_id).in_(list(operations)),
            ~exists().where(ReviewDecision.review_id == Review.id),
        )
        .order_by(col(Review.due_at), col(Review.id))
    )
    lines = []
    for review in session.exec(query).all():
        if review.kind != ReviewKind.triggered.value and review.authorization_id in replaced:
            continue
        overdue = review.due_at <= now
        if not overdue and review.operation_id not in mine:
            continue
        operation = operations[review.operation_id]
        lines.append(
            AttentionLine(
                review=review,
                operation=operation.name,
                timezone=operation.timezone,
                status="overdue" if overdue else "pending",
            )
        )
    return lines


def deadlines(session: Session, actor: Any, now: datetime) -> list[Deadline]:
    """The caller's undecided, not superseded review deadlines in open operations."""
    operation_ids = feed_operations(session, actor)
    if not operation_ids:
        return []
    operations = {
        op.id: op
        for op in session.exec(
            select(Operation).where(
                col(Operation.id).in_(operation_ids), Operation.status != OperationStatus.closed.value
            )
        ).all()
    }
    replaced = superseded_ids(session)
    result = []
    for review in undecided(session, list(operations)):
        if review.kind != ReviewKind.triggered.value and review.authorization_id in replaced:
            continue
        operation = operations[review.operation_id]
        result.append(
            Deadline(
                review_id=review.id,
                kind=review.kind,  # type: ignore[arg-type]
                status="overdue" if review.due_at <= now else "pending",
                due_at=review.due_at,
                operation=operation.name,
                timezone=operation.timezone,
                link=f"/reviews/{review.id}",
            )
        )
    return result
