"""Who records evidence, and what is accepted as evidence text and files (never altered, only refused)."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from datetime import datetime
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlmodel import Session

from .. import access
from ..access import Actor
from ..errors import Forbidden, InvalidInput, NotFound, TooLarge
from ..models import MAX_ID, Message

DIRECTIONS = ("in", "out")
#: Longest message text accepted inline; longer exports belong in an attachment.
MAX_BODY_CHARS = 1_000_000
MAX_COUNTERPART_CHARS = 1_000
MAX_FILES = 20
MAX_FILENAME_CHARS = 255

Upload = tuple[BinaryIO, str]


def checked_text(value: object, field: str, *, max_chars: int, allow_empty: bool = True) -> str:
    """Evidence text exactly as given: never stripped or normalised, but storable on every database.

    U+0000 and unpaired surrogates have no place in a PostgreSQL text column or in UTF-8, so they are
    refused (400) rather than silently altered; the original export can be attached as a file instead.
    """
    if not isinstance(value, str):
        raise InvalidInput(_("%(field)s must be a string", field=field), field=field)
    if len(value) > max_chars:
        raise InvalidInput(
            _("%(field)s is longer than %(max)d characters; attach it as a file", field=field, max=max_chars),
            field=field,
        )
    if not allow_empty and not value.strip():
        raise InvalidInput(_("%(field)s must not be empty", field=field), field=field)
    if "\x00" in value:
        raise InvalidInput(
            f"{field} contains U+0000, which cannot be stored as text; attach it as a file", field=field
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidInput(
            f"{field} contains an unpaired surrogate (not valid Unicode)", field=field
        ) from error
    return value


def storable_filename(name: str | None) -> str:
    """The client's file name, made storable (the content is the evidence, not the name)."""
    name = (name or "").replace("\x00", "\ufffd")
    name = name.encode("utf-8", "replace").decode("utf-8")
    return name[:MAX_FILENAME_CHARS]


def records(actor: Actor) -> bool:
    """Whether the actor's roles record evidence (in the operations they are assigned to)."""
    return access.sees_evidence(actor) and actor.has_role("detective", "supervisor")


def may_record(actor: Actor, member: bool) -> None:
    """NotFound for an operation the actor may not see, Forbidden for one they may only read."""
    sees = access.sees_evidence(actor)
    if not (sees and (member or access.reads_everything(actor))):
        raise NotFound(_("no such operation"))
    if not (member and records(actor)):
        raise Forbidden(_("only detectives and supervisors assigned to this operation record evidence"))


def require_logger(session: Session, actor: Actor, operation_id: int) -> None:
    """Only detectives and supervisors assigned to the operation record evidence (legal officers read)."""
    may_record(actor, access.sees_evidence(actor) and access.is_member(session, actor, operation_id))


def attachment_limit() -> int:
    """The largest attachment accepted, in bytes."""
    return int(current_app.config["MAX_ATTACHMENT_BYTES"])


def _declared_size(stream: BinaryIO) -> int | None:
    """The size of a seekable upload (Werkzeug spools uploads to a file), without reading it."""
    try:
        position = stream.tell()
        size = stream.seek(0, os.SEEK_END)
        stream.seek(position)
        return size - position
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def check_uploads(files: Sequence[Upload], limit: int) -> None:
    """Refuse too many files, or one larger than ``limit``, before anything is stored."""
    if len(files) > MAX_FILES:
        message = _("at most %(count)d attachments per message", count=MAX_FILES)
        raise InvalidInput(message, field="attachments")
    for stream, _name in files:
        size = _declared_size(stream)
        if size is not None and size > limit:
            # Refuse before anything is stored, so that a refused message leaves no file behind.
            message = _("an attachment exceeds the limit of %(limit)d bytes", limit=limit)
            raise TooLarge(message, field="attachments")


def validate_message(
    session: Session,
    *,
    contact_id: int,
    direction: str,
    sent_at: datetime,
    body: str,
    corrects_id: int | None,
    has_files: bool,
) -> str:
    """The message text as it will be stored, or InvalidInput naming the field that is wrong."""
    if direction not in DIRECTIONS:
        raise InvalidInput('direction must be "in" or "out"', field="direction")
    if not isinstance(sent_at, datetime) or sent_at.utcoffset() is None:
        raise InvalidInput(_("sent_at needs a date, a time and the platform's offset"), field="sent_at")
    body = checked_text(body, "body", max_chars=MAX_BODY_CHARS)
    if body == "" and not has_files:
        raise InvalidInput(_("a message needs a text or an attachment"), field="body")
    if corrects_id is not None:
        corrected = session.get(Message, corrects_id) if 0 < corrects_id <= MAX_ID else None
        if corrected is None or corrected.contact_id != contact_id:
            raise InvalidInput(_("corrects must name a message of the same contact"), field="corrects")
    return body
