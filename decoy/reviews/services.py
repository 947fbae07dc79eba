"""Reading reviews (with their derived status) and deciding them: only a legal officer decides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .. import access, audit_bridge, clock
from ..disclosure import codes
from ..errors import Forbidden, InvalidInput, NotFound, RuleViolation
from ..evidence.fingerprint import columns, decision_fingerprint
from ..models import (
    Authorization,
    Decision,
    Operation,
    Review,
    ReviewDecision,
    ReviewKind,
    ReviewStatus,
    Role,
    User,
)
from ..operations.rules import chain
from .chains import superseded_ids
from .enforcement import profiles_under, retire_by_decision, suspend_by_decision
from .notifications import settle_review_notices

MAX_RATIONALE = 10_000
DECISIONS = tuple(member.value for member in Decision)


def status_of(review: Review, decision: ReviewDecision | None, now: datetime, superseded: bool) -> str:
    """Done once decided; superseded when an extension replaced its authorization; else pending or overdue."""
    if decision is not None:
        return ReviewStatus.done.value
    if superseded and review.kind != ReviewKind.triggered.value:
        return ReviewStatus.superseded.value
    return ReviewStatus.overdue.value if now >= review.due_at else ReviewStatus.pending.value


@dataclass
class ReviewState:
    """A review with what its pages and answers show."""

    review: Review
    status: str
    decision: ReviewDecision | None
    decided_by: str | None
    operation_name: str
    timezone: str
    reference: str

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the operation's zone."""
        return moment.astimezone(ZoneInfo(self.timezone))

    def as_json(self) -> dict[str, Any]:
        """The API shape of the review; times RFC 3339 in the operation's zone."""
        from .schemas import DecisionPublic, ReviewPublic  # the shapes import this module's limits

        review, decision = self.review, self.decision
        return ReviewPublic(
            id=review.id,
            operation_id=review.operation_id,
            operation=self.operation_name,
            authorization_id=review.authorization_id,
            authorization_reference=self.reference,
            kind=review.kind,
            trigger=review.trigger or None,
            flag=review.flag or None,
            contact_id=review.contact_id,
            due_at=self.local(review.due_at),
            status=self.status,
            timezone=self.timezone,
            decision=None
            if decision is None
            else DecisionPublic(
                decision=decision.decision,
                rationale=decision.rationale,
                decided_by=self.decided_by,
                decided_at=self.local(decision.decided_at),
                profiles=list(decision.profiles),
            ),
        ).model_dump(mode="json")


def states(session: Session, reviews: list[Review], now: datetime | None = None) -> list[ReviewState]:
    """Derive the status of ``reviews`` with a fixed number of queries."""
    if not reviews:
        return []
    now = now or clock.now()
    ids = [review.id for review in reviews]
    decisions = {
        d.review_id: d
        for d in session.exec(select(ReviewDecision).where(col(ReviewDecision.review_id).in_(ids))).all()
    }
    decided_by = {d.decided_by for d in decisions.values()}
    deciders = {
        user_id: name
        for user_id, name in session.exec(
            select(User.id, User.username).where(col(User.id).in_(decided_by))
        ).all()
    }
    operations = {
        op_id: (name, zone)
        for op_id, name, zone in session.exec(
            select(Operation.id, Operation.name, Operation.timezone).where(
                col(Operation.id).in_({r.operation_id for r in reviews})
            )
        ).all()
    }
    references = dict(
        session.exec(
            select(Authorization.id, Authorization.reference).where(
                col(Authorization.id).in_({r.authorization_id for r in reviews})
            )
        ).all()
    )
    replaced = superseded_ids(session)
    result = []
    for review in reviews:
        decision = decisions.get(review.id)  # type: ignore[arg-type]
        name, zone = operations[review.operation_id]
        result.append(
            ReviewState(
                review=review,
                decision=decision,
                status=status_of(review, decision, now, review.authorization_id in replaced),
                decided_by=deciders.get(decision.decided_by) if decision else None,
                operation_name=name,
                timezone=zone or current_app.config["TIMEZONE"],
                reference=references.get(review.authorization_id, ""),
            )
        )
    return result


def get_review(session: Session, actor: Any, review_id: int) -> Review:
    """The review if ``actor`` may see its operation, else NotFound."""
    if isinstance(review_id, bool) or not isinstance(review_id, int):
        raise NotFound(_("no such review"))
    review = session.get(Review, review_id)
    return access.require_visible(session, actor, review, "review")  # type: ignore[no-any-return]


def reviews_of_operation(
    session: Session, actor: Any, operation_id: int, *, after: int | None = None, limit: int = 100
) -> tuple[list[Review], int | None]:
    """The operation's reviews by due time, a page after review ``after``; and the id to continue after."""
    access.visible_operation(session, actor, operation_id)
    query = select(Review).where(Review.operation_id == operation_id)
    if after is not None:
        anchor = session.get(Review, after)
        if anchor is None or anchor.operation_id != operation_id:
            raise InvalidInput(_("after names no review of this operation"), field="after")
        query = query.where(
            or_(
                col(Review.due_at) > anchor.due_at,
                and_(col(Review.due_at) == anchor.due_at, col(Review.id) > after),
            )
        )
    rows = list(session.exec(query.order_by(col(Review.due_at), col(Review.id)).limit(limit + 1)).all())
    following = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], following


def decide_review(*, session: Session, actor: Any, review_id: int, decision: Any, rationale: Any) -> Review:
    """Record a legal officer's decision; ``suspend`` and ``terminate`` act on the profiles at once, and
    the review's notices are marked read for everyone who got them.

    The profiles are those under the review's authorization chain: ``suspend`` suspends the active
    ones, ``terminate`` retires every one not yet retired.
    """
    if isinstance(review_id, bool) or not isinstance(review_id, int):
        raise NotFound(_("no such review"))
    review: Review = access.require_visible(
        session,
        actor,
        session.exec(select(Review).where(Review.id == review_id).with_for_update()).first(),
        "review",
    )
    if not actor.has_role(Role.legal.value) or actor.id is None:
        raise Forbidden(_("only a legal officer may decide a review"))
    if not isinstance(decision, str) or decision not in DECISIONS:
        raise InvalidInput(_("decision must be one of continue, amend, suspend, terminate"), field="decision")
    if not isinstance(rationale, str) or not rationale.strip():
        raise InvalidInput(_("%(field)s is required", field="rationale"), field="rationale")
    rationale = rationale.strip()
    if len(rationale) > MAX_RATIONALE:
        message = _(
            "%(field)s is longer than %(max_length)s characters", field="rationale", max_length=MAX_RATIONALE
        )
        raise InvalidInput(message, field="rationale")
    if session.exec(select(ReviewDecision.id).where(ReviewDecision.review_id == review.id)).first():
        raise RuleViolation(_("this review has already been decided"))
    chain_ids = [link.id for link in chain(session, review.authorization_id)]
    targets = profiles_under(session, chain_ids, decision)
    now = clock.now()
    record = ReviewDecision(
        review_id=review.id,
        decision=decision,
        rationale=rationale,  # type: ignore[arg-type]
        decided_by=actor.id,
        decided_at=now,
        profiles=[p.id for p in targets],
    )
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError as error:
        clash = _("this review was decided at the same moment by someone else; reload")
        raise RuleViolation(clash) from error
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="review.decide",
        object_type="review",
        object_id=review.id,
        operation_id=review.operation_id,
        evidence={"row_sha256": decision_fingerprint(columns(record))},
        details={
            "decision": decision,
            "rationale": rationale,
            "kind": review.kind,
            "key": review.key,
            "profiles": record.profiles,
        },
    )
    # Its reminders and escalation are answered: read for everyone, in the decision's transaction.
    settle_review_notices(session, review.id, now)  # type: ignore[arg-type]
    reason = (
        f"review {review.id} ({review.kind}) decided {decision} by legal officer {codes.officer_name(actor)}"
    )
    for profile in targets:
        if decision == Decision.suspend.value:
            suspend_by_decision(session, actor, profile.id, reason)  # type: ignore[arg-type]
        else:
            retire_by_decision(session, actor, profile.id, reason)  # type: ignore[arg-type]
    return review


def operation_records(session: Session, operation_id: int) -> list[dict[str, Any]]:
    """Every review of an operation with its status and decision (the API shape), for evidence bundles."""
    query = select(Review).where(Review.operation_id == operation_id)
    reviews = list(session.exec(query.order_by(col(Review.due_at), col(Review.id))).all())
    return [state.as_json() for state in states(session, reviews)]
