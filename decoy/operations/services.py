"""Operations and their members; the public face of the operations feature's services.

Every service is keyword-only, enforces roles and need to know, writes its audit entry in the caller's
transaction and never commits: the view or command that calls it does.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .. import access, audit_bridge, clock
from ..auth import services as accounts
from ..disclosure import codes
from ..errors import Forbidden, InvalidInput, RuleViolation
from ..models import Operation, OperationMember, OperationStatus, Role, User, UserRole
from . import labels
from .authorizations import attach_order_document, register_authorization
from .guards import clean as _clean
from .guards import require_open, require_supervisor_member
from .profiles import approval_refusal, approve_profile, propose_profile, retire_profile, suspend_profile
from .rules import (
    active_profile_count,
    authorization_status,
    authorization_valid_at,
    chain,
    current_authorization,
    governing_authorization,
    named_officer_ids,
    platform_permitted,
    written_order_overdue,
)

__all__ = [
    "active_profile_count",
    "add_member",
    "approval_refusal",
    "approve_profile",
    "attach_order_document",
    "authorization_status",
    "authorization_valid_at",
    "chain",
    "change_operation_status",
    "create_operation",
    "current_authorization",
    "governing_authorization",
    "named_officer_ids",
    "platform_permitted",
    "propose_profile",
    "register_authorization",
    "remove_member",
    "retire_profile",
    "suspend_profile",
    "visible_operations",
    "written_order_overdue",
]

DEFAULT_TIMEZONE = "Europe/Amsterdam"
#: The longest reason for removing a member, in characters.
MAX_REASON = 2000

#: Which status an operation may move to from each status; closed is final.
OPERATION_TRANSITIONS: dict[str, set[str]] = {
    OperationStatus.planned.value: {OperationStatus.active.value, OperationStatus.closed.value},
    OperationStatus.active.value: {OperationStatus.suspended.value, OperationStatus.closed.value},
    OperationStatus.suspended.value: {OperationStatus.active.value, OperationStatus.closed.value},
    OperationStatus.closed.value: set(),
}


def _timezone(value: str | None) -> str:
    if value is None or not str(value).strip():
        return (
            str(current_app.config.get("TIMEZONE") or DEFAULT_TIMEZONE)
            if has_app_context()
            else DEFAULT_TIMEZONE
        )
    name = _clean(value, "timezone", max_length=64, single_line=True)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        # OSError: a name such as "Europe" is a folder of the zone database, not a zone.
        raise InvalidInput(_("unknown time zone: %(name)s", name=name), field="timezone") from error
    return name


def create_operation(
    *,
    session: Session,
    actor: Any,
    name: str,
    team: str = "",
    timezone: str | None = None,
    description: str = "",
) -> Operation:
    """Open a new operation (planned); only a supervisor may, and becomes its first member."""
    if not actor.has_role(Role.supervisor.value) or actor.id is None:
        raise Forbidden(_("only a supervisor may create an operation"))
    name = _clean(name, "name", max_length=120, required=True, single_line=True)
    team = _clean(team, "team", max_length=120, single_line=True)
    description = _clean(description, "description", max_length=20_000)
    zone = _timezone(timezone)
    taken = session.exec(select(Operation.id).where(col(Operation.name) == name)).first()
    if taken is not None:
        raise InvalidInput(_("an operation with this name exists"), field="name")
    now = clock.now()
    operation = Operation(
        name=name,
        team=team,
        timezone=zone,
        description=description,
        status=OperationStatus.planned.value,
        created_by=actor.id,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(operation)
            session.flush()
    except IntegrityError as error:
        raise InvalidInput(_("an operation with this name exists"), field="name") from error
    session.add(OperationMember(operation_id=operation.id, user_id=actor.id, added_by=actor.id, added_at=now))
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="operation.create",
        object_type="operation",
        object_id=operation.id,
        operation_id=operation.id,
        details={"name": name, "team": team, "timezone": zone, "status": operation.status},
    )
    return operation


def add_member(*, session: Session, actor: Any, operation_id: int, username: str) -> OperationMember:
    """Assign a person (active, not an admin) to the operation; a supervisor member may."""
    operation = require_supervisor_member(session, actor, operation_id)
    require_open(operation)
    username = _clean(username, "username", max_length=64, required=True, single_line=True)
    user = accounts.find_user(session, username)
    if user is None:
        raise InvalidInput(_("no account named %(username)s", username=username), field="username")
    if not user.is_active:
        raise InvalidInput(
            _("the account %(username)s is deactivated", username=user.username), field="username"
        )
    if Role.admin.value in accounts.user_roles(session, user):
        raise InvalidInput(_("an administrator cannot be assigned to an operation"), field="username")
    if session.get(OperationMember, (operation_id, user.id)) is not None:
        raise RuleViolation(_("%(username)s is already a member of this operation", username=user.username))
    member = OperationMember(
        operation_id=operation_id,
        user_id=user.id,  # type: ignore[arg-type]
        added_by=actor.id,
        added_at=clock.now(),
    )
    session.add(member)
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="operation.member_add",
        object_type="operation",
        object_id=operation_id,
        operation_id=operation_id,
        details={"user": user.id, "code": user.verbalisant_code},
    )
    return member


def remove_member(
    *, session: Session, actor: Any, operation_id: int, username: str, reason: str
) -> User:
    """Remove a person from the operation (a supervisor member may, with a reason): the membership row
    goes, so they lose access at once; the audit entry keeps who was removed, by whom and why. The last
    active supervisor of the operation cannot be removed."""
    require_supervisor_member(session, actor, operation_id)
    username = _clean(username, "username", max_length=64, required=True, single_line=True)
    reason = _clean(reason, "reason", max_length=MAX_REASON, required=True)
    user = accounts.find_user(session, username)
    member = None if user is None else session.get(OperationMember, (operation_id, user.id))
    if user is None or member is None:
        raise InvalidInput(
            _("%(username)s is not a member of this operation", username=username), field="username"
        )
    if Role.supervisor.value in accounts.user_roles(session, user) and not _other_supervisors(
        session, operation_id, user.id  # type: ignore[arg-type]
    ):
        raise RuleViolation(
            _("%(username)s is the operation's last supervisor: assign another supervisor first",
              username=user.username),
            field="username",
        )
    name = codes.officer_name(actor)
    session.delete(member)
    audit_bridge.record(
        session,
        actor=name,
        action="operation.member_remove",
        object_type="operation",
        object_id=operation_id,
        operation_id=operation_id,
        details={"user": user.id, "code": user.verbalisant_code, "reason": reason},
    )
    return user


def _other_supervisors(session: Session, operation_id: int, user_id: int) -> bool:
    """Whether an active supervisor other than ``user_id`` is a member of the operation."""
    found = session.exec(
        select(OperationMember.user_id)
        .join(User, col(User.id) == OperationMember.user_id)
        .join(UserRole, col(UserRole.user_id) == OperationMember.user_id)
        .where(
            OperationMember.operation_id == operation_id,
            OperationMember.user_id != user_id,
            UserRole.role == Role.supervisor.value,
            col(User.is_active),
        )
        .limit(1)
    ).first()
    return found is not None


def change_operation_status(*, session: Session, actor: Any, operation_id: int, status: str) -> Operation:
    """Move an operation along planned → active ⇄ suspended → closed; a supervisor member may."""
    operation = require_supervisor_member(session, actor, operation_id)
    if status not in OPERATION_TRANSITIONS:
        raise InvalidInput(_("status must be one of planned, active, suspended, closed"), field="status")
    if status == OperationStatus.closed.value and operation.status != status:
        raise RuleViolation(
            _("an operation is closed with a reason, which retires its profiles and makes its end report: "
              "use Close on its page or POST /api/v1/operations/%(id)s/close", id=operation_id),
            field="status",
        )
    if status not in OPERATION_TRANSITIONS[operation.status]:
        raise RuleViolation(
            _(
                "an operation cannot go from %(from_status)s to %(status)s",
                from_status=labels.operation_status(operation.status),
                status=labels.operation_status(status),
            )
        )
    previous = operation.status
    operation.status = status
    session.add(operation)
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="operation.status",
        object_type="operation",
        object_id=operation_id,
        operation_id=operation_id,
        details={"from": previous, "to": status},
    )
    return operation


def visible_operations(
    session: Session, actor: Any, *, after: int | None = None, limit: int | None = None
) -> list[Operation]:
    """The operations ``actor`` may see, by id."""
    query = select(Operation).where(access.operation_clause(actor, Operation.id)).order_by(col(Operation.id))
    if after is not None:
        query = query.where(col(Operation.id) > after)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())
