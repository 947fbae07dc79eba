"""Need to know: who may see which operation (and so every object under it).

Legal officers read every operation; detectives and supervisors see the operations they are members
of; admins see no evidence. An object of an operation the caller may not see answers 404, not 403,
so that its existence is not revealed.
"""

from __future__ import annotations

from typing import Any, Protocol

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, event, false, true
from sqlmodel import Session, select

from .errors import NotFound
from .models import Operation, OperationMember


class Actor(Protocol):
    """What access checks need of the caller (a Principal)."""

    id: Any
    username: str

    def has_role(self, *roles: str) -> bool:
        """Whether the caller holds any of ``roles``."""
        ...


def reads_everything(actor: Actor) -> bool:
    """Legal officers read every operation's log."""
    return actor.has_role("legal")


def sees_evidence(actor: Actor) -> bool:
    """Admins manage accounts and never read evidence."""
    return actor.has_role("detective", "supervisor", "legal")


def operation_clause(actor: Actor, operation_id_column: Any) -> ColumnElement[bool]:
    """A WHERE clause restricting ``operation_id_column`` to the operations ``actor`` may see."""
    if not sees_evidence(actor):
        return false()
    if reads_everything(actor):
        return true()
    member_of = select(OperationMember.operation_id).where(OperationMember.user_id == actor.id)
    return operation_id_column.in_(member_of)  # type: ignore[no-any-return]


#: Where a session keeps the memberships it has looked up (see is_member).
_MEMBERSHIPS = "decoy.memberships"


def is_member(session: Session, actor: Actor, operation_id: int) -> bool:
    """Whether ``actor`` is assigned to the operation.

    A page asks this of every panel it shows, so the session keeps each answer until its next flush or
    rollback, which may add or remove members."""
    known: dict[tuple[int, Any], bool] = session.info.setdefault(_MEMBERSHIPS, {})
    key = (operation_id, actor.id)
    if key not in known:
        known[key] = session.get(OperationMember, key) is not None
    return known[key]


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_soft_rollback")
def _forget_memberships(session: Session, *_arguments: Any) -> None:
    session.info.pop(_MEMBERSHIPS, None)


def can_see(session: Session, actor: Actor, operation_id: int) -> bool:
    """Whether ``actor`` may see the operation and everything under it."""
    if not sees_evidence(actor):
        return False
    return reads_everything(actor) or is_member(session, actor, operation_id)


def not_found(what: str) -> str:
    """The refusal for an object that does not exist or may not be seen, in the reader's language."""
    messages = {
        "operation": _("no such operation"),
        "authorization": _("no such authorization"),
        "profile": _("no such profile"),
        "contact": _("no such contact"),
        "message": _("no such message"),
        "attachment": _("no such attachment"),
        "document": _("no such document"),
        "review": _("no such review"),
        "token": _("no such token"),
    }
    return messages.get(what, _("no such %(what)s", what=what))


#: The operation id looked up for an object that does not exist (no operation has it): the membership
#: query runs either way, so that an answer's time does not tell which hidden ids exist.
NO_OPERATION = 0


def visible_operation(session: Session, actor: Actor, operation_id: int) -> Operation:
    """The operation, or NotFound when it does not exist or ``actor`` may not see it."""
    operation = session.get(Operation, operation_id)
    visible = can_see(session, actor, operation_id if operation is not None else NO_OPERATION)
    if operation is None or not visible:
        raise NotFound(not_found("operation"))
    return operation


def require_visible(session: Session, actor: Actor, obj: Any, what: str) -> Any:
    """Return ``obj`` (which has an ``operation_id``) if ``actor`` may see it, else raise NotFound.

    A missing object costs the same membership lookup as a hidden one (see NO_OPERATION).
    """
    visible = can_see(session, actor, obj.operation_id if obj is not None else NO_OPERATION)
    if obj is None or not visible:
        raise NotFound(not_found(what))
    return obj


class SystemActor:
    """The scheduler acting on a rule (automatic suspension, triggered reviews)."""

    id = None
    username = "system"
    roles = frozenset({"system"})

    def has_role(self, *roles: str) -> bool:
        """The system holds no person's role."""
        return "system" in roles


SYSTEM = SystemActor()
