"""Automatic enforcement of rule 2, and the effect of a review decision on the profiles.

* At ``valid_until``, when no authorization of the chain is valid any more, the active profiles under
  it are suspended (``lapsed:<authorization>``).
* A review overdue past REVIEW_GRACE_DAYS suspends the active profiles under its chain
  (``overdue:<review>``).

Each action is one ``enforcement_action`` row with a unique key, inserted before anything is changed:
the database decides that it happens once, whichever scheduler gets there and however late.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import exists
from sqlmodel import Session, col, select

from .. import access, audit_bridge, clock
from ..disclosure import codes
from ..errors import RuleViolation
from ..evidence.fingerprint import transition_evidence
from ..models import (
    Decision,
    EnforcementAction,
    Operation,
    OperationStatus,
    Profile,
    ProfileStatus,
    ProfileTransition,
    Review,
    ReviewDecision,
    ReviewKind,
)
from ..operations.services import suspend_profile
from .chains import Chains, Terms, insert_new, load_chains

RULE_LAPSED = "authorization_lapsed"
RULE_OVERDUE = "review_overdue_past_grace"
RULE_WITHDRAWN = "authorization_withdrawn"


def profiles_under(session: Session, authorization_ids: list[int], decision: str) -> list[Profile]:
    """The profiles a decision acts on: active ones to suspend, every unretired one to terminate."""
    if decision == Decision.suspend.value:
        statuses = [ProfileStatus.active.value]
    elif decision == Decision.terminate.value:
        statuses = [s.value for s in ProfileStatus if s != ProfileStatus.retired]
    else:
        return []
    return list(
        session.exec(
            select(Profile)
            .where(col(Profile.authorization_id).in_(authorization_ids), col(Profile.status).in_(statuses))
            .order_by(col(Profile.id))
        ).all()
    )


def suspend_by_decision(session: Session, actor: Any, profile_id: int, reason: str) -> None:
    """Suspend one profile on a legal officer's decision (the operations service allows legal officers)."""
    suspend_profile(session=session, actor=actor, profile_id=profile_id, reason=reason)


def retire_by_decision(session: Session, actor: Any, profile_id: int, reason: str) -> None:
    """Retire one profile on a legal officer's ``terminate`` decision.

    The operations service lets only a supervisor of the operation retire; a terminate decision is the
    legal officer's own authority, so the transition is written here the same way: the history row
    first, then the status the database checks against it, then the audit entry.
    """
    profile = session.exec(select(Profile).where(Profile.id == profile_id).with_for_update()).one()
    if profile.status == ProfileStatus.retired.value:
        return
    transition = ProfileTransition(
        profile_id=profile_id,
        from_status=profile.status,
        to_status=ProfileStatus.retired.value,
        actor=codes.officer_name(actor),
        reason=reason,
        at=clock.now(),
    )
    session.add(transition)
    session.flush()
    profile.status = ProfileStatus.retired.value
    session.add(profile)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="profile.retire",
        object_type="profile",
        object_id=profile_id,
        operation_id=profile.operation_id,
        evidence=transition_evidence(transition),
        details={
            "transition": transition.id,
            "from": transition.from_status,
            "to": transition.to_status,
            "reason": reason,
            "platform": profile.platform,
            "handle": profile.handle,
        },
    )


def _act(
    session: Session,
    *,
    key: str,
    rule: str,
    terms: Terms,
    chain_ids: list[int],
    reason: str,
    now: datetime,
    review: Review | None = None,
    since: datetime,
) -> EnforcementAction | None:
    """Claim ``key``; if it is new, suspend the active profiles under the chain and record it."""
    targets = profiles_under(session, chain_ids, Decision.suspend.value)
    claimed = insert_new(
        session,
        EnforcementAction,
        [
            {
                "key": key,
                "rule": rule,
                "operation_id": terms.operation_id,
                "authorization_id": terms.id,
                "review_id": review.id if review else None,
                "at": now,
                "profiles": [p.id for p in targets],
            }
        ],
    )
    if not claimed:
        return None
    action = session.get(EnforcementAction, claimed[0][0])
    suspended = []
    for profile in targets:
        try:
            suspend_profile(
                session=session,
                actor=access.SYSTEM,
                profile_id=profile.id,  # type: ignore[arg-type]
                reason=reason,
            )
            suspended.append(profile.id)
        except RuleViolation:  # suspended or retired by someone in the meantime
            continue
    audit_bridge.record(
        session,
        actor=audit_bridge.SYSTEM_ACTOR,
        action="enforcement.suspend",
        object_type="authorization",
        object_id=terms.id,
        operation_id=terms.operation_id,
        details={
            "rule": rule,
            "reason": reason,
            "key": key,
            "review_id": review.id if review else None,
            "due_since": since.isoformat(),
            "profiles": suspended,
        },
    )
    return action


def enforce_lapsed(session: Session, chains: Chains, now: datetime) -> list[EnforcementAction]:
    """Suspend the profiles under every chain none of whose authorizations is valid any more."""
    done = set(session.exec(select(EnforcementAction.key).where(EnforcementAction.rule == RULE_LAPSED)).all())
    actions = []
    for current in chains.current():
        members = chains.members(current.id)
        if any(m.valid_at(now) for m in members) or current.withdrawn_at is not None:
            continue  # valid, or withdrawn (enforce_withdrawn acts on that)
        ended = [m for m in members if m.valid_until <= now]
        if not ended:
            continue
        lapsed = ended[-1]
        key = f"lapsed:{lapsed.id}"
        if key in done:
            continue
        reason = (
            f"rule 2: authorization {lapsed.reference} lapsed at {lapsed.valid_until.isoformat()} "
            "and no authorization of its chain is valid"
        )
        action = _act(
            session,
            key=key,
            rule=RULE_LAPSED,
            terms=lapsed,
            chain_ids=[m.id for m in members],
            reason=reason,
            now=now,
            since=lapsed.valid_until,
        )
        if action is not None:
            actions.append(action)
    return actions


def enforce_withdrawn(session: Session, chains: Chains, now: datetime) -> list[EnforcementAction]:
    """Suspend the profiles under every chain whose current order has been withdrawn (rule 11), once."""
    done = set(
        session.exec(select(EnforcementAction.key).where(EnforcementAction.rule == RULE_WITHDRAWN)).all()
    )
    actions = []
    for current in chains.current():
        if current.withdrawn_at is None or now < current.withdrawn_at:
            continue
        key = f"withdrawn:{current.id}"
        if key in done:
            continue
        reason = (
            f"rule 11: authorization {current.reference} was withdrawn with effect from "
            f"{current.withdrawn_at.isoformat()}"
        )
        action = _act(
            session,
            key=key,
            rule=RULE_WITHDRAWN,
            terms=current,
            chain_ids=[m.id for m in chains.members(current.id)],
            reason=reason,
            now=now,
            since=current.withdrawn_at,
        )
        if action is not None:
            actions.append(action)
    return actions


def enforce_overdue(session: Session, chains: Chains, now: datetime, grace: Any) -> list[EnforcementAction]:
    """Suspend the profiles under every review overdue past its grace period and still undecided."""
    open_operations = select(Operation.id).where(Operation.status != OperationStatus.closed.value)
    overdue = session.exec(
        select(Review)
        .where(
            col(Review.due_at) <= now - grace,
            col(Review.operation_id).in_(open_operations),
            ~exists().where(ReviewDecision.review_id == Review.id),
            ~exists().where(EnforcementAction.review_id == Review.id),
        )
        .order_by(col(Review.id))
    ).all()
    actions = []
    for review in overdue:
        if review.kind != ReviewKind.triggered.value and chains.is_superseded(review.authorization_id):
            continue
        current = chains.by_id.get(chains.newest_of(review.authorization_id))
        if current is None:
            continue
        days = grace.total_seconds() / 86400
        reason = (
            f"rule 2: review {review.id} ({review.kind}) due {review.due_at.isoformat()} is overdue "
            f"past the grace period of {days:g} days"
        )
        action = _act(
            session,
            key=f"overdue:{review.id}",
            rule=RULE_OVERDUE,
            terms=current,
            chain_ids=[m.id for m in chains.members(current.id)],
            reason=reason,
            now=now,
            review=review,
            since=review.due_at + grace,
        )
        if action is not None:
            actions.append(action)
    return actions


def grace_period() -> timedelta:
    """How long a review may be overdue before the profiles under it are suspended."""
    return timedelta(days=float(current_app.config["REVIEW_GRACE_DAYS"]))


def enforce(session: Session, *, chains: Chains | None = None) -> list[EnforcementAction]:
    """Run both rules once; return the actions taken now."""
    now = clock.now()
    chains = chains or load_chains(session)
    return (
        enforce_lapsed(session, chains, now)
        + enforce_withdrawn(session, chains, now)
        + enforce_overdue(session, chains, now, grace_period())
    )
