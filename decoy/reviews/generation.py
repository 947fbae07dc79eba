"""Which reviews each authorization needs, derived from the database and created once by their keys.

* periodic: every ``review_interval_days`` from ``valid_from`` while before ``valid_until``
  (``periodic:<authorization>:<n>``), those falling after the authorization was registered and within
  the horizon (REVIEW_HORIZON_DAYS) ahead;
* before expiry: REVIEW_EXPIRY_NOTICE_DAYS before ``valid_until`` (``expiry:<authorization>``);
* triggered by a flagged message, one per contact and flag (``flag:<contact>:<flag>``), and by an urgent
  oral order whose written order was not attached by its deadline (``written_order:<authorization>``);
  due REVIEW_TRIGGERED_DUE_DAYS after the event.

Only current (not superseded) authorizations of open operations get new reviews. Every due time is
computed from stored facts, never from the time of the pass, so a late pass creates the same reviews.

A triggered review is created as soon as what triggers it is recorded, in the same transaction (a
message recorded with a flag, an assessment that gives one), and its first notice goes out with it; the
scheduler's pass creates whatever is still missing, by the same keys, so nothing is created twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import String, cast, func
from sqlmodel import Session, col, select

from .. import audit_bridge, clock
from ..models import (
    AuthorizationDocument,
    AuthorizationKind,
    Contact,
    ContactAssessment,
    Message,
    Operation,
    OperationStatus,
    Profile,
    Review,
    ReviewKind,
)
from .chains import Chains, Terms, insert_new, load_chains
from .notifications import review_notices

#: At most this many periodic reviews per authorization are planned at once (a one-day interval over years).
MAX_PERIODIC = 400


def _days(name: str) -> timedelta:
    return timedelta(days=float(current_app.config[name]))


def _review(
    terms: Terms, key: str, kind: str, due_at: datetime, now: datetime, **extra: Any
) -> dict[str, Any]:
    return {
        "key": key,
        "operation_id": terms.operation_id,
        "authorization_id": terms.id,
        "kind": kind,
        "trigger": extra.get("trigger", ""),
        "contact_id": extra.get("contact_id"),
        "flag": extra.get("flag", ""),
        "due_at": due_at,
        "created_at": now,
    }


def scheduled_reviews(terms: Terms, now: datetime) -> list[dict[str, Any]]:
    """The periodic and before-expiry reviews of one current authorization."""
    horizon = now + _days("REVIEW_HORIZON_DAYS")
    wanted: list[dict[str, Any]] = []
    interval = timedelta(days=terms.review_interval_days)
    # A withdrawn order is reviewed up to its withdrawal; it never reaches its expiry.
    end = min(terms.valid_until, terms.withdrawn_at) if terms.withdrawn_at else terms.valid_until
    for number in range(1, MAX_PERIODIC + 1):
        due = terms.valid_from + number * interval
        if due >= end or due > horizon:
            break
        if due > terms.registered_at:
            key = f"periodic:{terms.id}:{number}"
            wanted.append(_review(terms, key, ReviewKind.periodic.value, due, now))
    if terms.withdrawn_at is not None:
        return wanted
    expiry_due = max(terms.valid_until - _days("REVIEW_EXPIRY_NOTICE_DAYS"), terms.registered_at)
    wanted.append(_review(terms, f"expiry:{terms.id}", ReviewKind.before_expiry.value, expiry_due, now))
    return wanted


def written_order_reviews(session: Session, chains: Chains, now: datetime) -> list[dict[str, Any]]:
    """A triggered review for each current urgent oral order past its deadline without its written order."""
    late = [
        terms
        for terms in chains.current()
        if terms.kind == AuthorizationKind.urgent_oral_order.value
        and terms.written_order_due is not None
        and terms.written_order_due <= now
    ]
    if not late:
        return []
    attached = set(
        session.exec(
            select(AuthorizationDocument.authorization_id).where(
                AuthorizationDocument.kind == "written_order",
                col(AuthorizationDocument.authorization_id).in_([terms.id for terms in late]),
            )
        ).all()
    )
    triggered = timedelta(days=float(current_app.config["REVIEW_TRIGGERED_DUE_DAYS"]))
    return [
        _review(
            terms,
            f"written_order:{terms.id}",
            ReviewKind.triggered.value,
            terms.written_order_due + triggered,
            now,
            trigger="written_order_overdue",
        )  # type: ignore[operator]
        for terms in late
        if terms.id not in attached
    ]


def flagged_message_reviews(
    session: Session, chains: Chains, now: datetime, contact_id: int | None = None
) -> list[dict[str, Any]]:
    """A triggered review for each contact (or the one) and flag kind, due after the first message
    carrying it."""
    query = (
        select(Message.contact_id, Message.flags, Message.recorded_at, Profile.authorization_id)
        .join(Contact, col(Contact.id) == Message.contact_id)
        .join(Profile, col(Profile.id) == Contact.profile_id)
        .join(Operation, col(Operation.id) == Message.operation_id)
        .where(cast(Message.flags, String) != "[]", Operation.status != OperationStatus.closed.value)
        .order_by(col(Message.id))
    )
    if contact_id is not None:
        query = query.where(Message.contact_id == contact_id)
    rows = session.exec(query).all()
    first: dict[tuple[int, str], tuple[datetime, int]] = {}
    for contact_id, flags, recorded_at, authorization_id in rows:
        for flag in flags or []:
            first.setdefault((contact_id, str(flag)), (recorded_at, authorization_id))
    triggered = timedelta(days=float(current_app.config["REVIEW_TRIGGERED_DUE_DAYS"]))
    wanted = []
    for (contact_id, flag), (recorded_at, authorization_id) in first.items():
        terms = chains.by_id.get(chains.newest_of(authorization_id))
        if terms is None:
            continue
        wanted.append(
            _review(
                terms,
                f"flag:{contact_id}:{flag}"[:120],
                ReviewKind.triggered.value,
                recorded_at + triggered,
                now,
                trigger="flagged_message",
                contact_id=contact_id,
                flag=flag[:40],
            )
        )
    return wanted


def assessed_reviews(
    session: Session, chains: Chains, now: datetime, contact_id: int | None = None
) -> list[dict[str, Any]]:
    """A triggered review for each contact (or the one) and flag its latest assessment gives
    (``decoy_raised_first`` once per topic the decoy raised first), due after that assessment."""
    newest = select(func.max(ContactAssessment.id)).group_by(col(ContactAssessment.contact_id))
    if contact_id is not None:
        newest = newest.where(ContactAssessment.contact_id == contact_id)
    rows = session.exec(
        select(
            ContactAssessment.contact_id,
            ContactAssessment.raised_first,
            ContactAssessment.message_flags,
            ContactAssessment.assessed_at,
            Profile.authorization_id,
        )
        .join(Contact, col(Contact.id) == ContactAssessment.contact_id)
        .join(Profile, col(Profile.id) == Contact.profile_id)
        .join(Operation, col(Operation.id) == ContactAssessment.operation_id)
        .where(col(ContactAssessment.id).in_(newest), Operation.status != OperationStatus.closed.value)
    ).all()
    triggered = timedelta(days=float(current_app.config["REVIEW_TRIGGERED_DUE_DAYS"]))
    wanted = []
    for contact_id, raised_first, message_flags, assessed_at, authorization_id in rows:
        terms = chains.by_id.get(chains.newest_of(authorization_id))
        if terms is None:
            continue
        flags = {f for found in (message_flags or {}).values() for f in found} - {"decoy_raised_first"}
        keys = [f"decoy_raised_first:{topic}" for topic in raised_first or []] + sorted(flags)
        for flag in keys:
            wanted.append(
                _review(
                    terms,
                    f"flag:{contact_id}:{flag}"[:120],
                    ReviewKind.triggered.value,
                    assessed_at + triggered,
                    now,
                    trigger="flagged_message",
                    contact_id=contact_id,
                    flag=flag[:40],
                )
            )
    return wanted


def generate_reviews(
    session: Session, *, operation_id: int | None = None, chains: Chains | None = None
) -> list[Review]:
    """Create every review that is due to exist and does not yet (all operations, or one); return the new.

    Each new review gets an audit entry by the system naming the rule that created it.
    """
    now = clock.now()
    chains = chains or load_chains(session)
    wanted: list[dict[str, Any]] = []
    for terms in chains.current():
        if operation_id is None or terms.operation_id == operation_id:
            wanted.extend(scheduled_reviews(terms, now))
    wanted.extend(written_order_reviews(session, chains, now))
    wanted.extend(flagged_message_reviews(session, chains, now))
    wanted.extend(assessed_reviews(session, chains, now))
    if operation_id is not None:
        wanted = [row for row in wanted if row["operation_id"] == operation_id]
    return create_missing(session, wanted)


def reviews_of_assessment(session: Session, contact_id: int) -> list[Review]:
    """Create the triggered reviews the contact's latest assessment calls for, now (not at the next pass),
    with their first notices."""
    operation_id = session.exec(select(Contact.operation_id).where(Contact.id == contact_id)).one()
    now = clock.now()
    chains = load_chains(session, operation_id)
    return _created_and_told(session, assessed_reviews(session, chains, now, contact_id), now)


def reviews_of_message(
    session: Session, contact_id: int, operation_id: int, flags: list[str]
) -> list[Review]:
    """Create the triggered reviews a message just recorded with ``flags`` calls for, in its transaction,
    with their first notices; none when the contact's reviews of those flags exist already."""
    keys = [f"flag:{contact_id}:{flag}"[:120] for flag in flags]
    if not keys:
        return []
    existing = set(session.exec(select(Review.key).where(col(Review.key).in_(keys))).all())
    if existing.issuperset(keys):
        return []
    now = clock.now()
    chains = load_chains(session, operation_id)
    return _created_and_told(session, flagged_message_reviews(session, chains, now, contact_id), now)


def reviews_of_contact(session: Session, contact_id: int) -> list[Review]:
    """Create the triggered reviews every flagged message of the contact and its latest assessment call
    for (after an import), with their first notices."""
    operation_id = session.exec(select(Contact.operation_id).where(Contact.id == contact_id)).one()
    now = clock.now()
    chains = load_chains(session, operation_id)
    wanted = flagged_message_reviews(session, chains, now, contact_id)
    wanted.extend(assessed_reviews(session, chains, now, contact_id))
    return _created_and_told(session, wanted, now)


def _created_and_told(session: Session, wanted: list[dict[str, Any]], now: datetime) -> list[Review]:
    """Create the missing reviews of ``wanted`` and at once the notice each is due (the reminder whose
    window its due time falls in, or the escalation), as the scheduler's pass would."""
    created = create_missing(session, wanted)
    if created:
        review_notices(session, now, review_ids=[review.id for review in created])  # type: ignore[misc]
    return created


def create_missing(session: Session, wanted: list[dict[str, Any]]) -> list[Review]:
    """Create the wanted reviews whose keys do not exist yet, each with its audit entry; return them."""
    unique: dict[str, dict[str, Any]] = {}
    for row in wanted:  # a flag both recorded and assessed is wanted twice: the first counts
        unique.setdefault(row["key"], row)
    wanted = list(unique.values())
    existing = (
        set(session.exec(select(Review.key).where(col(Review.key).in_([row["key"] for row in wanted]))).all())
        if len(wanted) <= 2000
        else set(session.exec(select(Review.key)).all())
    )
    missing = [row for row in wanted if row["key"] not in existing]
    created_ids = [row_id for row_id, _key in insert_new(session, Review, missing)]
    if not created_ids:
        return []
    created = list(
        session.exec(select(Review).where(col(Review.id).in_(created_ids)).order_by(col(Review.id))).all()
    )
    for review in created:
        audit_bridge.record(
            session,
            actor=audit_bridge.SYSTEM_ACTOR,
            action="review.schedule",
            object_type="review",
            object_id=review.id,
            operation_id=review.operation_id,
            details={
                "key": review.key,
                "kind": review.kind,
                "trigger": review.trigger,
                "authorization_id": review.authorization_id,
                "due_at": review.due_at.isoformat(),
                "contact_id": review.contact_id,
                "flag": review.flag,
                "reason": RULES.get(review.trigger or review.kind, ""),
            },
        )
    return created


#: The rule behind each kind of review, as written into its audit entry.
RULES = {
    ReviewKind.periodic.value: "periodic review every review_interval_days from valid_from",
    ReviewKind.before_expiry.value: "review REVIEW_EXPIRY_NOTICE_DAYS before valid_until",
    "flagged_message": "a message of the contact carries this flag",
    "written_order_overdue": "the written order of an urgent oral order was not attached by its deadline",
}
