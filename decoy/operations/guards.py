"""Checks shared by the operations services: who may act on an operation, and clean text input."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from .. import access
from ..errors import Forbidden, InvalidInput, RuleViolation
from ..models import Operation, OperationStatus, Role


def require_supervisor_member(session: Session, actor: Any, operation_id: int) -> Operation:
    """The operation, if ``actor`` is a supervisor assigned to it; else NotFound (unseen) or Forbidden."""
    operation = access.visible_operation(session, actor, operation_id)
    if not actor.has_role(Role.supervisor.value) or not access.is_member(session, actor, operation_id):
        raise Forbidden("only a supervisor assigned to this operation may do this")
    return operation


def require_open(operation: Operation) -> None:
    """Refuse changes to a closed operation."""
    if operation.status == OperationStatus.closed.value:
        raise RuleViolation("the operation is closed")


def clean(value: Any, field: str, *, max_length: int, required: bool = False) -> str:
    """``value`` stripped; InvalidInput naming ``field`` when it is not text, missing or too long."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{field} is required", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", field=field)
    return value
