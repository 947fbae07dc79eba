"""What an authorization allows at a moment: its supersede chain, validity, status and named officers.

These are read-only helpers, shared by the profile services and by the evidence feature's flags.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Row, bindparam
from sqlmodel import Session, col, func, select

from ..models import (
    Authorization,
    AuthorizationDocument,
    AuthorizationKind,
    AuthorizationOfficer,
    AuthorizationWithdrawal,
    Profile,
    ProfileStatus,
)

#: An authorization whose end is this close is shown as expiring.
EXPIRING_WITHIN = timedelta(days=14)
#: Guard against a (never expected) cycle in the supersede chain.
MAX_CHAIN = 1000

STATUSES = ("valid", "expiring", "lapsed", "not_yet_valid", "superseded", "withdrawn")
#: The youngest and oldest age a persona may give, and an order's range may name.
PERSONA_AGE_LIMITS = (0, 120)


def successor(session: Session, authorization_id: int) -> Authorization | None:
    """The authorization that supersedes this one, if any."""
    return session.exec(
        select(Authorization)
        .where(Authorization.supersedes_id == authorization_id)
        .order_by(col(Authorization.id))
        .limit(1)
    ).first()


def current_authorization(session: Session, authorization_id: int) -> Authorization:
    """The newest authorization of the chain that ``authorization_id`` belongs to (follows supersedes)."""
    current = session.get(Authorization, authorization_id)
    if current is None:
        raise LookupError(f"no authorization {authorization_id}")
    for _ in range(MAX_CHAIN):
        newer = successor(session, current.id)  # type: ignore[arg-type]
        if newer is None:
            break
        current = newer
    return current


_authorization = Authorization.__table__  # type: ignore[attr-defined]
_withdrawal = AuthorizationWithdrawal.__table__  # type: ignore[attr-defined]
#: When an order was withdrawn (None when it never was): read beside its columns, from the withdrawal.
WITHDRAWN_AT = _withdrawal.c.effective_at.label("withdrawn_at")
#: The operation that an authorization belongs to (a supersede chain never leaves its operation).
_OPERATION_OF = (
    select(_authorization.c.operation_id)
    .where(_authorization.c.id == bindparam("authorization"))
    .scalar_subquery()
)
_OPERATION_AUTHORIZATIONS = select(Authorization).where(Authorization.operation_id == _OPERATION_OF)
#: The columns the rules read (chain, validity, platforms, initiation, written order, withdrawal): what
#: the evidence hot path selects of each authorization, instead of every text field of the order. A query
#: that selects them joins the withdrawals with WITHDRAWN.
RULE_COLUMNS = (
    *(
        _authorization.c[name]
        for name in (
            "id",
            "supersedes_id",
            "kind",
            "valid_from",
            "valid_until",
            "written_order_due",
            "platforms",
            "may_initiate_contact",
        )
    ),
    WITHDRAWN_AT,
)
#: The join that gives WITHDRAWN_AT its value.
WITHDRAWN = _withdrawal.c.authorization_id == _authorization.c.id
_OPERATION_AUTHORIZATION_ROWS = (
    select(*RULE_COLUMNS)
    .select_from(_authorization.outerjoin(_withdrawal, WITHDRAWN))
    .where(_authorization.c.operation_id == _OPERATION_OF)
)

Link = TypeVar("Link", Authorization, Row[Any])
#: An authorization as a model object or as a plain row of its table (same attribute names).
AuthorizationFacts = Authorization | Row[Any]


def _links(found: Sequence[Link], authorization_id: int) -> list[Link]:
    """The chain through ``authorization_id`` among an operation's authorizations, oldest first."""
    by_id = {authorization.id: authorization for authorization in found}
    first = by_id.get(authorization_id)
    if first is None:
        return []
    successors: dict[int, Link] = {}
    for authorization in sorted(found, key=lambda link: link.id, reverse=True):
        if authorization.supersedes_id is not None:
            # The oldest successor wins, as in successor().
            successors[authorization.supersedes_id] = authorization
    for _ in range(MAX_CHAIN):
        older = by_id.get(first.supersedes_id) if first.supersedes_id is not None else None
        if older is None:
            break
        first = older
    links = [first]
    for _ in range(MAX_CHAIN):
        newer = successors.get(links[-1].id)
        if newer is None:
            break
        links.append(newer)
    return links


def chain(session: Session, authorization_id: int) -> list[Authorization]:
    """The whole supersede chain ``authorization_id`` belongs to, oldest first (one query)."""
    found = session.exec(_OPERATION_AUTHORIZATIONS, params={"authorization": authorization_id}).all()  # type: ignore[call-overload]
    return _links(found, authorization_id)


def withdrawn_at(session: Session, authorization: AuthorizationFacts) -> datetime | None:
    """When the order was withdrawn, or None (a row of the RULE_COLUMNS carries it already)."""
    if not isinstance(authorization, Authorization):
        return authorization.withdrawn_at  # type: ignore[no-any-return]
    return session.exec(
        select(AuthorizationWithdrawal.effective_at).where(
            AuthorizationWithdrawal.authorization_id == authorization.id
        )
    ).first()


def withdrawals(session: Session, authorization_ids: Sequence[int]) -> dict[int, AuthorizationWithdrawal]:
    """The withdrawals of the given authorizations, by authorization id."""
    if not authorization_ids:
        return {}
    rows = session.exec(
        select(AuthorizationWithdrawal).where(
            col(AuthorizationWithdrawal.authorization_id).in_(list(authorization_ids))
        )
    ).all()
    return {row.authorization_id: row for row in rows}


def chain_facts(
    session: Session, authorization_id: int, operation_rows: Sequence[Row[Any]] | None = None
) -> list[Row[Any]]:
    """The chain as plain rows of the RULE_COLUMNS (read-only; the evidence hot path).

    ``operation_rows``: the rows of the operation's authorizations, if the caller read them already
    (at least the RULE_COLUMNS, by name).
    """
    if operation_rows is None:
        parameters = {"authorization": authorization_id}
        operation_rows = session.connection().execute(_OPERATION_AUTHORIZATION_ROWS, parameters).all()
    return _links(operation_rows, authorization_id)


def authorization_valid_at(
    authorization: AuthorizationFacts, moment: datetime, withdrawn: datetime | None = None
) -> bool:
    """Whether ``moment`` lies in the authorization's period (from inclusive, until exclusive) and before
    its withdrawal (``withdrawn``; a row of the RULE_COLUMNS carries its own)."""
    if withdrawn is None:
        # A row of the RULE_COLUMNS (or a tuple named after them) carries its own; a model object none.
        withdrawn = getattr(authorization, "withdrawn_at", None)
    if withdrawn is not None and moment >= withdrawn:
        return False
    return authorization.valid_from <= moment < authorization.valid_until


def governing_authorization(
    session: Session, authorization_id: int, moment: datetime
) -> Authorization | None:
    """The newest authorization of the chain that is valid (and not withdrawn) at ``moment``, or None."""
    links = chain(session, authorization_id)
    ended = withdrawals(session, [link.id for link in links])  # type: ignore[misc]
    for authorization in reversed(links):
        withdrawal = ended.get(authorization.id)  # type: ignore[arg-type]
        if authorization_valid_at(authorization, moment, withdrawal.effective_at if withdrawal else None):
            return authorization
    return None


def named_officer_ids(session: Session, authorization_id: int) -> set[int]:
    """The user ids of the officers an authorization names."""
    rows = session.exec(
        select(AuthorizationOfficer.user_id).where(AuthorizationOfficer.authorization_id == authorization_id)
    ).all()
    return set(rows)


def authorization_status(session: Session, authorization: Authorization, now: datetime) -> str:
    """One of "valid", "expiring" (ends within 14 days), "lapsed", "not_yet_valid", "superseded",
    "withdrawn" (from the moment its withdrawal takes effect)."""
    if successor(session, authorization.id) is not None:  # type: ignore[arg-type]
        return "superseded"
    withdrawn = withdrawn_at(session, authorization)
    if withdrawn is not None and now >= withdrawn:
        return "withdrawn"
    if now < authorization.valid_from:
        return "not_yet_valid"
    if now >= authorization.valid_until:
        return "lapsed"
    if authorization.valid_until - now <= EXPIRING_WITHIN:
        return "expiring"
    return "valid"


def written_order_overdue(session: Session, authorization: AuthorizationFacts, now: datetime) -> bool:
    """Whether an urgent oral order is past the day its written order had to be attached."""
    if (
        authorization.kind != AuthorizationKind.urgent_oral_order.value
        or authorization.written_order_due is None
    ):
        return False
    if now < authorization.written_order_due:
        return False
    attached = session.exec(
        select(AuthorizationDocument.id)
        .where(
            AuthorizationDocument.authorization_id == authorization.id,
            AuthorizationDocument.kind == "written_order",
        )
        .limit(1)
    ).first()
    return attached is None


def platform_permitted(authorization: AuthorizationFacts, platform: str) -> bool:
    """Whether the authorization names ``platform`` (compared without case or surrounding space)."""
    return platform.strip().casefold() in {name.strip().casefold() for name in authorization.platforms}


def has_age_range(authorization: Authorization) -> bool:
    """Whether the order sets a range for the persona's age (either bound; rule 11)."""
    return authorization.persona_age_min is not None or authorization.persona_age_max is not None


def persona_age_permitted(authorization: Authorization, age: int | None) -> bool:
    """Whether a persona of ``age`` may run under the authorization: any age (or none) when the order sets
    no range; otherwise an age given, inside the range (both bounds inclusive)."""
    if not has_age_range(authorization):
        return True
    if age is None:
        return False
    low, high = authorization.persona_age_min, authorization.persona_age_max
    return (low is None or age >= low) and (high is None or age <= high)


def active_profile_count(session: Session, authorization_id: int) -> int:
    """Active profiles running under any authorization of the chain."""
    ids = [link.id for link in chain(session, authorization_id)]
    return int(
        session.exec(
            select(func.count())
            .select_from(Profile)
            .where(col(Profile.authorization_id).in_(ids), Profile.status == ProfileStatus.active.value)
        ).one()
    )
