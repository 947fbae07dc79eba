"""Checks shared by the operations services: who may act on an operation, and clean text input."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlmodel import Session

from .. import access
from ..errors import Forbidden, InvalidInput, RuleViolation
from ..models import Operation, OperationStatus, Role


def require_supervisor_member(session: Session, actor: Any, operation_id: int) -> Operation:
    """The operation, if ``actor`` is a supervisor assigned to it; else NotFound (unseen) or Forbidden."""
    operation = access.visible_operation(session, actor, operation_id)
    if not actor.has_role(Role.supervisor.value) or not access.is_member(session, actor, operation_id):
        raise Forbidden(_("only a supervisor assigned to this operation may do this"))
    return operation


def require_open(operation: Operation) -> None:
    """Refuse changes to a closed operation."""
    if operation.status == OperationStatus.closed.value:
        raise RuleViolation(_("the operation is closed"))


def clean(value: Any, field: str, *, max_length: int, required: bool = False) -> str:
    """``value`` stripped; InvalidInput naming ``field`` when it is not text, missing or too long."""
    if not isinstance(value, str):
        raise InvalidInput(_("%(field)s must be text", field=field), field=field)
    value = value.strip()
    if required and not value:
        raise InvalidInput(_("%(field)s is required", field=field), field=field)
    if len(value) > max_length:
        raise InvalidInput(
            _("%(field)s is longer than %(max_length)s characters", field=field, max_length=max_length),
            field=field,
        )
    return value
