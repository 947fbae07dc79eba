"""Plain factory functions for operations, authorizations and profiles, built through the real services.

Usable from any test: each opens its own application context and transaction and returns an id.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from decoy import clock
from decoy.access import is_member
from decoy.auth import services as accounts
from decoy.auth.principal import Principal
from decoy.db import session_scope
from decoy.operations import services
from decoy.orders.maxima import add_months

_references = itertools.count(1)


def actor_for(session: Any, username: str) -> Principal:
    """The Principal of ``username`` (with their roles), for calling services directly."""
    user = accounts.find_user(session, username)
    assert user is not None, f"no account {username}"
    return Principal(user, accounts.user_roles(session, user))


def make_operation(
    app: Any, supervisor_username: str, name: str = "Operation Lantern", members: Any = (), **fields: Any
) -> int:
    """An operation created by ``supervisor_username`` with ``members`` assigned; returns its id."""
    with app.app_context(), session_scope(app) as session:
        supervisor = actor_for(session, supervisor_username)
        operation = services.create_operation(session=session, actor=supervisor, name=name, **fields)
        for username in members:
            if username != supervisor_username:
                services.add_member(
                    session=session, actor=supervisor, operation_id=operation.id, username=username
                )
        return int(operation.id)  # type: ignore[arg-type]


def authorization_defaults() -> dict[str, Any]:
    """Terms valid from a day before the clock's time for 91 days (at most three calendar months), on
    "chatapp", for five profiles."""
    now = clock.now()
    return {
        "reference": f"OvJ-2026-{next(_references):04d}",
        "kind": "ovj_order",
        "authority": "Public Prosecution Service, district of Example",
        "issuer_name": "Public prosecutor A",
        "legal_basis": "art. 126j Sv",
        "valid_from": now - timedelta(days=1),
        # Ninety days, within the three calendar months art. 126j Sv allows (fewer in a short quarter).
        "valid_until": min(now + timedelta(days=90), add_months(now - timedelta(days=1), 3)),
        "review_interval_days": 30,
        "platforms": ["chatapp"],
        "may_initiate_contact": False,
        "max_profiles": 5,
        "officers": [],
        "offence": "art. 248e Sr (grooming)",
    }


def make_authorization(app: Any, legal_username: str, operation_id: int, **overrides: Any) -> int:
    """An authorization registered by ``legal_username``, sensible defaults overridden; returns its id."""
    with app.app_context(), session_scope(app) as session:
        terms = authorization_defaults()
        terms.update(overrides)
        if terms["kind"] == "urgent_oral_order":
            terms.setdefault("oral_order_given_at", clock.now())
        authorization = services.register_authorization(
            session=session, actor=actor_for(session, legal_username), operation_id=operation_id, **terms
        )
        return int(authorization.id)  # type: ignore[arg-type]


def make_profile(
    app: Any,
    operation_id: int,
    authorization_id: int,
    proposer: str,
    approver: str | None = None,
    platform: str = "chatapp",
    handle: str = "sunny_day",
    persona: str = "a quiet reader",
    persona_age: int | None = None,
) -> int:
    """A profile proposed by ``proposer``, approved by ``approver`` when given (assigned first if needed)."""
    with app.app_context(), session_scope(app) as session:
        proposing = actor_for(session, proposer)
        profile = services.propose_profile(
            session=session,
            actor=proposing,
            operation_id=operation_id,
            authorization_id=authorization_id,
            platform=platform,
            handle=handle,
            persona=persona,
            persona_age=persona_age,
        )
        if approver is not None:
            approving = actor_for(session, approver)
            if not is_member(session, approving, operation_id):
                services.add_member(
                    session=session, actor=proposing, operation_id=operation_id, username=approver
                )
            services.approve_profile(session=session, actor=approving, profile_id=profile.id)
        return int(profile.id)  # type: ignore[arg-type]
