"""Recording contacts and messages: never refused for a rule, always flagged, hashed into the audit log."""

from __future__ import annotations

import io
import os
from collections import namedtuple
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Boolean, Connection, Row, and_, bindparam, case, exists, func, insert
from sqlmodel import Session, col, select

from audit.driver import DriverStatement

from .. import access, audit_bridge, blobstore, clock
from ..access import Actor
from ..db import outside_transaction
from ..errors import Forbidden, InvalidInput, NotFound, TooLarge
from ..models import Attachment, Authorization, Contact, Message, OperationMember, Profile
from ..operations.rules import RULE_COLUMNS
from .fingerprint import columns, contact_fingerprint, message_fingerprint, text_sha256
from .flags import contact_flags, message_flags

DIRECTIONS = ("in", "out")
#: Longest message text accepted inline; longer exports belong in an attachment.
MAX_BODY_CHARS = 1_000_000
MAX_COUNTERPART_CHARS = 1_000
MAX_FILES = 20
MAX_FILENAME_CHARS = 255
MAX_ID = 2**31 - 1

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


def _records(actor: Actor) -> bool:
    """Whether the actor's roles record evidence (in the operations they are assigned to)."""
    return access.sees_evidence(actor) and actor.has_role("detective", "supervisor")


def _may_record(actor: Actor, member: bool) -> None:
    """NotFound for an operation the actor may not see, Forbidden for one they may only read."""
    sees = access.sees_evidence(actor)
    if not (sees and (member or access.reads_everything(actor))):
        raise NotFound(_("no such operation"))
    if not (member and _records(actor)):
        raise Forbidden(_("only detectives and supervisors assigned to this operation record evidence"))


def require_logger(session: Session, actor: Actor, operation_id: int) -> None:
    """Only detectives and supervisors assigned to the operation record evidence (legal officers read)."""
    _may_record(actor, access.sees_evidence(actor) and access.is_member(session, actor, operation_id))


@dataclass(frozen=True)
class Recording:
    """What recording a message into a contact needs to know, read in one query: the contact, its
    profile, and the authorizations of the operation (the profile's chain is among them)."""

    contact_id: int
    operation_id: int
    profile_id: int
    authorization_id: int
    platform: str
    status: str
    authorizations: tuple[Row[Any], ...]
    #: The id the message will take: allocated by this read on PostgreSQL (so that the row can be
    #: written in the audit append's statement), None on SQLite, which numbers the row as it is written.
    message_id: int | None


@dataclass(frozen=True)
class LoggedMessage:
    """A message just recorded: its id and the values stored, as the message row holds them."""

    id: int
    operation_id: int
    contact_id: int
    direction: str
    sent_at: datetime
    sent_offset_minutes: int
    recorded_at: datetime
    recorded_by: int
    body: str
    body_sha256: str
    corrects_id: int | None
    flags: list[str]


_contact = Contact.__table__  # type: ignore[attr-defined]
_profile = Profile.__table__  # type: ignore[attr-defined]
_member = OperationMember.__table__  # type: ignore[attr-defined]
_message = Message.__table__  # type: ignore[attr-defined]
_attachment = Attachment.__table__  # type: ignore[attr-defined]
_authorization = Authorization.__table__  # type: ignore[attr-defined]
_owner = _authorization.alias("owner")
_IS_MEMBER = exists().where(
    _member.c.operation_id == _contact.c.operation_id, _member.c.user_id == bindparam("user")
)
# The contact and its profile, whether the user is a member, then every authorization of the operation
# the profile's authorization belongs to (one row each; the contact's columns repeat).
_RECORDING = (
    select(
        _contact.c.id,
        _contact.c.operation_id,
        _contact.c.profile_id,
        _profile.c.authorization_id,
        _profile.c.platform,
        _profile.c.status,
        _IS_MEMBER.label("member"),
        *RULE_COLUMNS,
    )
    .join_from(_contact, _profile, _profile.c.id == _contact.c.profile_id)
    .outerjoin(
        _authorization,
        _authorization.c.operation_id
        == select(_owner.c.operation_id).where(_owner.c.id == _profile.c.authorization_id).scalar_subquery(),
    )
    .where(_contact.c.id == bindparam("contact"))
)
_RECORDING_COLUMNS = 7
#: PostgreSQL: the message's id from its sequence too (an uncorrelated subquery: one value per read),
#: taken only for a member whose roles record (``may_record``, _records): no one else moves it on.
_RECORDING_WITH_ID = _RECORDING.add_columns(
    case(
        (
            and_(bindparam("may_record", type_=Boolean), _IS_MEMBER),
            select(
                func.nextval(func.pg_get_serial_sequence(_message.name, _message.c.id.name))
            ).scalar_subquery(),
        ),
        else_=None,
    )
)
#: Both run on the driver's cursor: this read is half of a message's statements.
_RECORDING_ROWS = DriverStatement(_RECORDING)
_RECORDING_ROWS_WITH_ID = DriverStatement(_RECORDING_WITH_ID)
_AuthorizationRow = namedtuple("_AuthorizationRow", [column.name for column in RULE_COLUMNS])  # type: ignore[misc]
_INSERT_MESSAGE = insert(_message).returning(_message.c.id)
#: The message row with the id allocated ahead (the audit companion): the values LoggedMessage holds.
_INSERT_NUMBERED_MESSAGE = insert(_message).values(
    {field.name: bindparam(field.name) for field in fields(LoggedMessage)}
)


def _recording(connection: Connection, actor: Actor, contact_id: int, take_id: bool = True) -> Recording:
    """The contact and its profile, if ``actor`` may record into it (NotFound or Forbidden otherwise).

    ``take_id``: on PostgreSQL, also take the message's id (not for a check that is read again later).
    """
    rows = []
    numbered = take_id and connection.dialect.name == "postgresql"
    if 0 < contact_id <= MAX_ID:
        query = _RECORDING_ROWS_WITH_ID if numbered else _RECORDING_ROWS
        parameters = {"contact": contact_id, "user": actor.id, "may_record": _records(actor)}
        rows = query.rows(connection, parameters)
    if not rows:
        raise NotFound(_("no such contact"))
    first = rows[0]
    try:
        _may_record(actor, bool(first[_RECORDING_COLUMNS - 1]))
    except NotFound as hidden:
        raise NotFound(_("no such contact")) from hidden
    end = _RECORDING_COLUMNS + len(RULE_COLUMNS)
    authorizations = tuple(
        _AuthorizationRow(*row[_RECORDING_COLUMNS:end]) for row in rows if row[_RECORDING_COLUMNS] is not None
    )
    message_id = first[end] if numbered else None
    if numbered and message_id is None:
        raise RuntimeError("no message id was taken for a recorder")  # _records, as the SQL has it
    return Recording(*first[:6], authorizations, message_id)  # type: ignore[arg-type]


def create_contact(
    *,
    session: Session,
    actor: Actor,
    profile_id: int,
    counterpart: str,
    first_seen_at: datetime | None = None,
) -> Contact:
    """Record a counterpart who reached a profile, flagged as of its first sighting."""
    profile = session.get(Profile, profile_id) if 0 < profile_id <= MAX_ID else None
    access.require_visible(session, actor, profile, "profile")
    assert profile is not None  # noqa: S101
    require_logger(session, actor, profile.operation_id)
    counterpart = checked_text(counterpart, "counterpart", max_chars=MAX_COUNTERPART_CHARS, allow_empty=False)
    if first_seen_at is not None and first_seen_at.utcoffset() is None:
        raise InvalidInput(_("first_seen_at needs an offset"), field="first_seen_at")
    now = clock.now()
    first_seen = first_seen_at or now
    flags = contact_flags(session, profile, first_seen)
    contact = Contact(
        operation_id=profile.operation_id,
        profile_id=profile.id,
        counterpart=counterpart,
        first_seen_at=first_seen,
        flags=flags,
        recorded_by=actor.id,
        recorded_at=now,
    )
    session.add(contact)
    session.flush()
    audit_bridge.record(
        session,
        actor=actor.username,
        action="contact.create",
        object_type="contact",
        object_id=contact.id,
        operation_id=contact.operation_id,
        evidence={
            "counterpart_sha256": text_sha256(counterpart),
            "row_sha256": contact_fingerprint(columns(contact)),
        },
        details={"profile": profile.id, "flags": flags},
    )
    return contact


def _declared_size(stream: BinaryIO) -> int | None:
    """The size of a seekable upload (Werkzeug spools uploads to a file), without reading it."""
    try:
        position = stream.tell()
        size = stream.seek(0, os.SEEK_END)
        stream.seek(position)
        return size - position
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _check_uploads(files: Sequence[Upload], limit: int) -> None:
    if len(files) > MAX_FILES:
        message = _("at most %(count)d attachments per message", count=MAX_FILES)
        raise InvalidInput(message, field="attachments")
    for stream, _name in files:
        size = _declared_size(stream)
        if size is not None and size > limit:
            # Refuse before anything is stored, so that a refused message leaves no file behind.
            message = _("an attachment exceeds the limit of %(limit)d bytes", limit=limit)
            raise TooLarge(message, field="attachments")


def _validate_message(
    session: Session,
    contact_id: int,
    direction: str,
    sent_at: datetime,
    body: str,
    corrects_id: int | None,
    has_files: bool,
) -> str:
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


def log_message(
    *,
    session: Session,
    actor: Actor,
    contact_id: int,
    direction: str,
    sent_at: datetime,
    body: str,
    corrects_id: int | None = None,
    files: Iterable[Upload] = (),
    commit_alone: bool = False,
) -> LoggedMessage:
    """Record one message verbatim, with its attachments, flags and audit entry, in one transaction.

    The files are received first, outside any database transaction (so an upload holds no lock): the
    file store writes them then, the database store hashes them. Then the database store's chunks, the
    rows and the audit entry are written together; the caller commits. If a file is refused, no row is
    written. The session must hold no pending changes: its read transaction ends before the upload.

    ``commit_alone``: the caller commits as soon as this returns and has nothing else in the session's
    transaction. A message without files, on PostgreSQL, is one statement (the row rides in the audit
    append's statement); it then commits with that statement, after reads that need no transaction.
    """
    uploads = list(files)
    if uploads or not commit_alone:
        connection = session.connection()
        return _record(session, connection, actor, contact_id, direction, sent_at, body, corrects_id, uploads)
    with outside_transaction(session) as connection:
        return _record(session, connection, actor, contact_id, direction, sent_at, body, corrects_id, [])


def _record(
    session: Session,
    connection: Connection,
    actor: Actor,
    contact_id: int,
    direction: str,
    sent_at: datetime,
    body: str,
    corrects_id: int | None,
    uploads: list[Upload],
) -> LoggedMessage:
    # With files, this read checks access before the upload; it is made again after it.
    recording = _recording(connection, actor, contact_id, take_id=not uploads)
    body = _validate_message(session, contact_id, direction, sent_at, body, corrects_id, bool(uploads))
    limit = _limit()
    _check_uploads(uploads, limit)
    blobs: list[tuple[blobstore.StoredBlob, str]] = []
    if uploads:
        session.rollback()
        received: list[blobstore.Incoming] = []
        try:
            for stream, _filename in uploads:
                received.append(blobstore.prepare(stream, max_bytes=limit))
            connection = session.connection()
            recording = _recording(connection, actor, contact_id)
            saved = _save_files(connection, received)
        finally:
            for incoming in received:
                incoming.close()
        blobs = list(zip(saved, [storable_filename(name) for _stream, name in uploads], strict=True))
    now = clock.now()
    flags = message_flags(
        session,
        profile=recording,
        contact_id=contact_id,
        direction=direction,
        sent_at=sent_at,
        recorder_id=actor.id,
        operation_rows=recording.authorizations,
    )
    values = {
        "operation_id": recording.operation_id,
        "contact_id": contact_id,
        "direction": direction,
        "sent_at": sent_at,
        "sent_offset_minutes": _offset_minutes(sent_at),
        "recorded_at": now,
        "recorded_by": actor.id,
        "body": body,
        "body_sha256": text_sha256(body),
        "corrects_id": corrects_id,
        "flags": flags,
    }
    # Core statements on the hot path: one round trip each, without the unit of work's bookkeeping.
    companion = None
    if recording.message_id is None:
        message_id = connection.execute(_INSERT_MESSAGE, values).scalar_one()
    else:
        message_id = recording.message_id
        companion = (_INSERT_NUMBERED_MESSAGE, {"id": message_id, **values})
        if blobs:
            # The attachment rows refer to the message: it is written first, the entry after them.
            connection.execute(*companion)
            companion = None
    attachments = []
    for blob, filename in blobs:
        row = {
            "message_id": message_id,
            "operation_id": recording.operation_id,
            "sha256": blob.sha256,
            "size": blob.size,
            "media_type": blob.media_type,
            "filename": filename,
            "recorded_at": now,
        }
        row["id"] = connection.execute(
            insert(_attachment).values(row).returning(_attachment.c.id)
        ).scalar_one()
        attachments.append(row)
    audit_bridge.record(
        session,
        actor=actor.username,
        action="message.create",
        object_type="message",
        object_id=message_id,
        operation_id=recording.operation_id,
        evidence={
            "body_sha256": values["body_sha256"],
            "attachments": [attachment["sha256"] for attachment in attachments],
            "row_sha256": message_fingerprint({"id": message_id, **values}, attachments),
        },
        details={"contact": contact_id, "direction": direction, "flags": flags, "corrects": corrects_id},
        companion=companion,
        connection=connection,
    )
    return LoggedMessage(id=message_id, **values)


def _save_files(connection: Connection, received: list[blobstore.Incoming]) -> list[blobstore.StoredBlob]:
    """Store the received files in the session's transaction, in the order of their hashes.

    One order for every writer means two messages that carry the same new files wait for each other on
    the database store's unique key instead of deadlocking.
    """
    order = sorted(range(len(received)), key=lambda index: received[index].blob.sha256)
    saved: dict[int, blobstore.StoredBlob] = {}
    for index in order:
        saved[index] = blobstore.save(received[index], connection=connection)
    return [saved[index] for index in range(len(received))]


def _limit() -> int:
    return int(current_app.config["MAX_ATTACHMENT_BYTES"])


def _offset_minutes(moment: datetime) -> int:
    offset = moment.utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)


def attachments_of(session: Session, message_ids: Sequence[int]) -> dict[int, list[Attachment]]:
    """The attachments of the given messages, in id order, by message."""
    found: dict[int, list[Attachment]] = {message_id: [] for message_id in message_ids}
    if not message_ids:
        return found
    rows = session.exec(
        select(Attachment).where(col(Attachment.message_id).in_(message_ids)).order_by(col(Attachment.id))
    ).all()
    for attachment in rows:
        found[attachment.message_id].append(attachment)
    return found
