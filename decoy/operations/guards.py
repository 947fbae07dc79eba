"""Checks shared by the operations services: who may act on an operation, and clean text input."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlmodel import Session

from .. import access, clock
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


def breaks_a_line(character: str) -> bool:
    """A control character (Cc) or a line or paragraph separator (Zl, Zp: U+2028, U+2029)."""
    return unicodedata.category(character) in {"Cc", "Zl", "Zp"}


def require_single_line(value: str, field: str) -> str:
    """A name or reference is one line: control characters and line separators are refused (400).

    Names travel into e-mail subjects, file names and report headings, where a line break would end a
    header or start another.
    """
    for character in value:
        if breaks_a_line(character):
            raise InvalidInput(
                _("%(field)s must be one line, without control characters (found U+%(code)s)",
                  field=field, code=f"{ord(character):04X}"),
                field=field,
            )
    return value


def clean(
    value: Any, field: str, *, max_length: int, required: bool = False, single_line: bool = False
) -> str:
    """``value`` stripped; InvalidInput naming ``field`` when it is not text, missing or too long, or (with
    ``single_line``) when it holds a control character or a line break."""
    if not isinstance(value, str):
        raise InvalidInput(_("%(field)s must be text", field=field), field=field)
    value = value.strip()
    if single_line:
        require_single_line(value, field)
    if required and not value:
        raise InvalidInput(_("%(field)s is required", field=field), field=field)
    if len(value) > max_length:
        raise InvalidInput(
            _("%(field)s is longer than %(max_length)s characters", field=field, max_length=max_length),
            field=field,
        )
    return value


def storable(value: str, field: str) -> str:
    """``value`` itself; InvalidInput naming ``field`` when no database column holds it (U+0000, an unpaired
    surrogate): refused rather than altered."""
    if "\x00" in value:
        raise InvalidInput(_("%(field)s contains U+0000, which cannot be stored as text", field=field),
                           field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidInput(_("%(field)s contains an unpaired surrogate (not valid Unicode)", field=field),
                           field=field) from error
    return value


#: How far ahead of the server's clock a moment said to be past may lie: a client's clock runs a little fast.
CLOCK_LEEWAY = timedelta(minutes=5)


def past_moment(value: Any, field: str, now: datetime) -> datetime:
    """When something was done: ``now`` when not given, else a moment with its offset (RFC 3339 text or
    an aware datetime) that is not in the future, in UTC; InvalidInput naming ``field`` otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return now
    moment = value if isinstance(value, datetime) else clock.parse_timestamp(value, field)
    if moment.utcoffset() is None:
        raise InvalidInput(_("%(field)s needs a date, a time and an offset", field=field), field=field)
    if not clock.EARLIEST <= moment <= clock.LATEST:
        raise InvalidInput(_("%(field)s is out of range", field=field), field=field)
    if moment > now + CLOCK_LEEWAY:
        raise InvalidInput(_("%(field)s lies in the future", field=field), field=field)
    return moment.astimezone(UTC)


def whole(value: Any, field: str, *, minimum: int, maximum: int) -> int:
    """``value`` if it is a whole number (not a boolean) from ``minimum`` to ``maximum``; else InvalidInput
    naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(_("%(field)s must be a whole number", field=field), field=field)
    if not minimum <= value <= maximum:
        raise InvalidInput(
            _(
                "%(field)s must be between %(minimum)s and %(maximum)s",
                field=field,
                minimum=minimum,
                maximum=maximum,
            ),
            field=field,
        )
    return value
