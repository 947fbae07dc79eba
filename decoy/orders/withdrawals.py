"""Withdrawing an order: a legal officer's dated record with a reason (SPEC rule 11).

From the moment the withdrawal takes effect the order covers nothing: evidence of a later platform time
is flagged ``outside_authorization`` and the profiles under its chain are suspended, at once when the
withdrawal takes effect now or earlier, else by the scheduler's enforcement pass when its moment comes.
Only the chain's current order can be withdrawn; a new order may later supersede a withdrawn one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from .. import access, audit_bridge, clock
from ..disclosure import codes
from ..errors import InvalidInput, NotFound, RuleViolation
from ..evidence.fingerprint import text_sha256
from ..models import Authorization, AuthorizationWithdrawal, Operation
from ..operations.authorizations import require_legal
from ..operations.guards import clean, require_open
from ..operations.rules import successor
from ..reviews.chains import load_chains
from ..reviews.enforcement import enforce_withdrawn
from .rows import withdrawal_row_sha256

MAX_REASON = 20_000


def withdraw_authorization(
    *, session: Session, actor: Any, authorization_id: int, reason: str, effective_at: datetime | None = None
) -> AuthorizationWithdrawal:
    """Record that the order is withdrawn from ``effective_at`` (default now), and why; a legal officer
    may. The profiles under it are suspended in the same transaction when it takes effect already."""
    authorization = session.get(Authorization, authorization_id)
    if authorization is None:
        raise NotFound(_("no such authorization"))
    access.require_visible(session, actor, authorization, "authorization")
    require_legal(session, actor, authorization.operation_id)
    operation = session.get(Operation, authorization.operation_id)
    require_open(operation)  # type: ignore[arg-type]
    reason = clean(reason, "reason", max_length=MAX_REASON, required=True)
    now = clock.now()
    effective_at = _effective(effective_at, authorization, now)
    newer = successor(session, authorization_id)
    if newer is not None:
        raise RuleViolation(
            _(
                "authorization %(reference)s is superseded by %(newer)s: withdraw the current order",
                reference=authorization.reference,
                newer=newer.reference,
            )
        )
    _require_not_withdrawn(session, authorization)
    withdrawal = AuthorizationWithdrawal(
        authorization_id=authorization_id,
        operation_id=authorization.operation_id,
        effective_at=effective_at,
        reason=reason,
        withdrawn_by=actor.id,
        recorded_at=now,
    )
    try:
        with session.begin_nested():
            session.add(withdrawal)
            session.flush()
    except IntegrityError as error:  # withdrawn by someone else at the same moment
        raise RuleViolation(_("this order was withdrawn at the same moment; reload")) from error
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="authorization.withdraw",
        object_type="authorization_withdrawal",
        object_id=withdrawal.id,
        operation_id=authorization.operation_id,
        evidence={"row_sha256": withdrawal_row_sha256(withdrawal.model_dump())},
        details={
            "authorization_id": authorization_id,
            "reference": authorization.reference,
            "effective_at": effective_at.isoformat(),
            "reason_sha256": text_sha256(reason),
        },
    )
    if effective_at <= now:
        enforce_withdrawn(session, load_chains(session), now)
    return withdrawal


def _effective(value: Any, authorization: Authorization, now: datetime) -> datetime:
    """When the withdrawal takes effect: now by default; never before the order began or after it ended."""
    if value is None:
        value = now
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInput(_("effective_at needs a date, a time and an offset"), field="effective_at")
    if value < authorization.valid_from:
        raise InvalidInput(
            _("effective_at must not be before the order's valid_from (%(start)s)",
              start=authorization.valid_from.isoformat()),
            field="effective_at",
        )
    if value >= authorization.valid_until:
        raise RuleViolation(
            _("the order ended at %(end)s: there is nothing left to withdraw",
              end=authorization.valid_until.isoformat()),
            field="effective_at",
        )
    return value


def _require_not_withdrawn(session: Session, authorization: Authorization) -> None:
    found = session.exec(
        select(AuthorizationWithdrawal).where(AuthorizationWithdrawal.authorization_id == authorization.id)
    ).first()
    if found is not None:
        raise RuleViolation(
            _("authorization %(reference)s was already withdrawn with effect from %(at)s",
              reference=authorization.reference, at=found.effective_at.isoformat())
        )
