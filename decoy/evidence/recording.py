"""Recording one message into a contact: the access and rule facts in one query, the files, the row, the
flags and the audit entry, all in the session's transaction (with the review a new flag triggers).

On PostgreSQL the recording read also takes the message's id from its sequence (for a recorder only), so
that the audit entry, which names the message, is built before anything is written; a message without
files is then written with its entry by one call of the database function decoy_record_message
(migration 0008), which inserts the row and calls audit_append_entry. With files, and on SQLite, the row,
the attachment rows and the entry are plain statements of the same transaction.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    LargeBinary,
    Row,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
)
from sqlmodel import Session, select

from audit.entry import EntryInput
from audit.store import append_call, head_errors

from .. import audit_bridge, blobstore, clock
from ..access import Actor
from ..disclosure import codes
from ..errors import InvalidInput, NotFound, RuleViolation
from ..initiative.assessment import is_late, reassess
from ..models import (
    Attachment,
    Authorization,
    AuthorizationWithdrawal,
    CaptureSession,
    CaptureSessionEnd,
    Contact,
    Message,
    OperationMember,
    Profile,
)
from ..operations.rules import RULE_COLUMNS, WITHDRAWN
from ..reviews.generation import reviews_of_message
from .fingerprint import committed_text, message_fingerprint, text_evidence
from .flags import message_flags
from .validation import (
    MAX_ID,
    Upload,
    attachment_limit,
    check_uploads,
    may_record,
    records,
    storable_filename,
    validate_message,
)

__all__ = ["LoggedMessage", "Recording", "log_message", "read_recording"]


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
    #: The id the message will take: allocated by this read on PostgreSQL (so that the audit entry can
    #: be built before the row is written), None on SQLite, which numbers the row as it is written.
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
    #: The key of the text's commitment and the commitment (docs/evidence-format.md, "Text commitments").
    body_salt: str | None
    body_commitment: str | None
    corrects_id: int | None
    flags: list[str]
    #: The capture session the message was recorded in, and the officer who operated it (else None).
    capture_session_id: int | None = None
    operated_by: int | None = None


_contact = Contact.__table__  # type: ignore[attr-defined]
_profile = Profile.__table__  # type: ignore[attr-defined]
_member = OperationMember.__table__  # type: ignore[attr-defined]
_message = Message.__table__  # type: ignore[attr-defined]
_attachment = Attachment.__table__  # type: ignore[attr-defined]
_authorization = Authorization.__table__  # type: ignore[attr-defined]
_owner = _authorization.alias("owner")
_withdrawal = AuthorizationWithdrawal.__table__  # type: ignore[attr-defined]
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
    .outerjoin(_withdrawal, WITHDRAWN)
    .where(_contact.c.id == bindparam("contact"))
)
_RECORDING_COLUMNS = 7
#: PostgreSQL: the message's id from its sequence too (an uncorrelated subquery: one value per read),
#: taken only for a member whose roles record (``may_record``, validation.records): no one else moves
#: the sequence on.
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
_AuthorizationRow = namedtuple("_AuthorizationRow", [column.name for column in RULE_COLUMNS])  # type: ignore[misc]
#: The provenance a message recorded in a capture session carries (not among decoy_record_message's
#: parameters: such a message is written by plain statements).
_SESSION_COLUMNS = ("capture_session_id", "operated_by")
_MESSAGE_COLUMNS = tuple(field.name for field in fields(LoggedMessage) if field.name not in _SESSION_COLUMNS)
_INSERT_MESSAGE = insert(_message).returning(_message.c.id)
_INSERT_NUMBERED_MESSAGE = insert(_message)
#: The message row and its audit entry in one statement (PostgreSQL, migration 0008): the row's values,
#: then audit_append_entry's; it answers the entry's index.
_RECORD_MESSAGE = select(
    func.decoy_record_message(
        *(bindparam(name, type_=_message.c[name].type) for name in _MESSAGE_COLUMNS),
        bindparam("audit_key", type_=BigInteger),
        bindparam("audit_prefix", type_=LargeBinary),
        bindparam("audit_suffix", type_=LargeBinary),
        type_=BigInteger,
    )
)
_capture = CaptureSession.__table__  # type: ignore[attr-defined]
_capture_end = CaptureSessionEnd.__table__  # type: ignore[attr-defined]
#: A capture session named by a message: its profile, its operator and whether it has ended. The row is
#: held (PostgreSQL FOR SHARE) until the message commits, so that the session's end, which takes it FOR
#: UPDATE, comes either before the check (and the message is refused) or after the message.
_CAPTURE_SESSION = (
    select(
        _capture.c.profile_id,
        _capture.c.operated_by,
        exists().where(_capture_end.c.capture_session_id == _capture.c.id).label("ended"),
    )
    .where(_capture.c.id == bindparam("capture_session"))
    .with_for_update(read=True, of=_capture)
)


def read_recording(
    connection: Connection, actor: Actor, contact_id: int, *, take_id: bool = True
) -> Recording:
    """The contact and its profile, if ``actor`` may record into it (NotFound or Forbidden otherwise).

    ``take_id``: on PostgreSQL, also take the message's id (not for a check that is read again later).
    """
    rows: list[Row[Any]] = []
    numbered = take_id and connection.dialect.name == "postgresql"
    if 0 < contact_id <= MAX_ID:
        query = _RECORDING_WITH_ID if numbered else _RECORDING
        parameters = {"contact": contact_id, "user": actor.id, "may_record": records(actor)}
        rows = list(connection.execute(query, parameters))
    if not rows:
        raise NotFound(_("no such contact"))
    first = rows[0]
    try:
        may_record(actor, bool(first[_RECORDING_COLUMNS - 1]))
    except NotFound as hidden:
        raise NotFound(_("no such contact")) from hidden
    end = _RECORDING_COLUMNS + len(RULE_COLUMNS)
    authorizations = tuple(
        _AuthorizationRow(*row[_RECORDING_COLUMNS:end]) for row in rows if row[_RECORDING_COLUMNS] is not None
    )
    message_id = first[end] if numbered else None
    if numbered and message_id is None:
        raise RuntimeError("no message id was taken for a recorder")  # validation.records, as the SQL has it
    return Recording(*first[:6], authorizations, message_id)  # type: ignore[arg-type]


def require_recorder(*, session: Session, actor: Actor, contact_id: int) -> None:
    """NotFound or Forbidden unless ``actor`` may record into the contact; takes no message id.

    An upload's body is read only after this check, so that nobody who may not record makes the
    server receive their files.
    """
    read_recording(session.connection(), actor, contact_id, take_id=False)


def _capture_session(connection: Connection, found: Recording, capture_session_id: int | None) -> int | None:
    """The operator of the open capture session ``capture_session_id`` of the contact's profile (None for
    no session): InvalidInput naming ``capture_session`` for any other session, RuleViolation (409) for
    one that has ended."""
    if capture_session_id is None:
        return None
    row = None
    if 0 < capture_session_id <= MAX_ID:
        row = connection.execute(_CAPTURE_SESSION, {"capture_session": capture_session_id}).first()
    if row is None or row.profile_id != found.profile_id:
        raise InvalidInput(
            _("capture_session must name a capture session of this contact's profile"),
            field="capture_session",
        )
    if row.ended:
        raise RuleViolation(
            _("capture session %(id)s has ended; start a new one", id=capture_session_id),
            field="capture_session",
        )
    return int(row.operated_by)


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
    capture_session_id: int | None = None,
) -> LoggedMessage:
    """Record one message verbatim, with its attachments, flags and audit entry, in one transaction.

    The files are received first, outside any database transaction (so an upload holds no lock): the
    file store writes them then, the database store hashes them. Then the database store's chunks, the
    rows and the audit entry are written together in the session's transaction; the caller commits. If a
    file is refused, no row is written. The session must hold no pending changes: with files, its read
    transaction ends before the upload.

    ``capture_session_id``: the open capture session of the contact's profile the message was captured
    in; the row then names it and its operator (``operated_by``; ``recorded_by`` stays the caller), and
    is written by plain statements on every database (decoy_record_message has no parameters for them).
    """
    uploads = list(files)
    connection = session.connection()
    # With files, this read checks access before the upload (taking no id); it is made again after it.
    found = read_recording(connection, actor, contact_id, take_id=not uploads)
    body = validate_message(
        session,
        contact_id=contact_id,
        direction=direction,
        sent_at=sent_at,
        body=body,
        corrects_id=corrects_id,
        has_files=bool(uploads),
    )
    limit = attachment_limit()
    check_uploads(uploads, limit)
    # Checked before an upload is received too; the check in the writing transaction is the one that holds.
    operated_by = _capture_session(connection, found, capture_session_id)
    blobs: list[tuple[blobstore.StoredBlob, str]] = []
    if uploads:
        found, connection, blobs = _receive(session, actor, contact_id, uploads, limit)
        operated_by = _capture_session(connection, found, capture_session_id)
    now = clock.now()
    flags = message_flags(
        session,
        profile=found,
        contact_id=contact_id,
        direction=direction,
        sent_at=sent_at,
        # In a capture session the officer at the keyboard is the one the order must name.
        recorder_id=operated_by or actor.id,
        operation_rows=found.authorizations,
    )
    values = {
        "operation_id": found.operation_id,
        "contact_id": contact_id,
        "direction": direction,
        "sent_at": sent_at,
        "sent_offset_minutes": _offset_minutes(sent_at),
        "recorded_at": now,
        "recorded_by": actor.id,
        "body": body,
        **committed_text(body),
        "corrects_id": corrects_id,
        "flags": flags,
    }
    if capture_session_id is not None:
        values.update(capture_session_id=capture_session_id, operated_by=operated_by)
    # A message earlier than one already known may change what the conversation's order implies (rule 8).
    late = is_late(session, contact_id, sent_at)
    if found.message_id is not None and not blobs and capture_session_id is None:
        logged = _record_in_one_call(connection, actor, found.message_id, values)
    else:
        logged = _record(connection, actor, found.message_id, values, blobs)
    if late:
        contact = session.get(Contact, contact_id)
        reassess(session, actor, contact, cause="message", cause_id=logged.id)  # type: ignore[arg-type]
    if flags:
        # A flag the contact's messages did not carry yet triggers a review, told at once (rule 2).
        reviews_of_message(session, contact_id, found.operation_id, flags)
    return logged


def _receive(
    session: Session, actor: Actor, contact_id: int, uploads: list[Upload], limit: int
) -> tuple[Recording, Connection, list[tuple[blobstore.StoredBlob, str]]]:
    """Receive the files outside any transaction, then read the recording facts again (taking the id)
    and store the files, in the transaction that will write the message."""
    session.rollback()
    received: list[blobstore.Incoming] = []
    try:
        for stream, _filename in uploads:
            received.append(blobstore.prepare(stream, max_bytes=limit))
        connection = session.connection()
        found = read_recording(connection, actor, contact_id)
        saved = _save_files(connection, received)
    finally:
        for incoming in received:
            incoming.close()
    names = [storable_filename(name) for _stream, name in uploads]
    return found, connection, list(zip(saved, names, strict=True))


def _entry(
    actor: Actor, message_id: int, values: dict[str, Any], attachments: list[dict[str, Any]]
) -> EntryInput:
    """The message's audit entry: the commitment of its text, the hashes of its files and its row."""
    return audit_bridge.entry(
        actor=codes.officer_name(actor),
        action="message.create",
        object_type="message",
        object_id=message_id,
        operation_id=values["operation_id"],
        evidence={
            **text_evidence(values),
            "attachments": [attachment["sha256"] for attachment in attachments],
            "row_sha256": message_fingerprint({"id": message_id, **values}, attachments),
        },
        details={
            "contact": values["contact_id"],
            "direction": values["direction"],
            "flags": values["flags"],
            "corrects": values["corrects_id"],
            # Only when set, so that the entry of a message recorded outside a session is as it was.
            **({"capture_session": values["capture_session_id"]} if values.get("capture_session_id") else {}),
        },
    )


def _record_in_one_call(
    connection: Connection, actor: Actor, message_id: int, values: dict[str, Any]
) -> LoggedMessage:
    """PostgreSQL, a message without files: row and entry in one call of decoy_record_message."""
    call = append_call(_entry(actor, message_id, values, []))
    parameters = {
        "id": message_id,
        **values,
        "audit_key": call.lock_key,
        "audit_prefix": call.prefix,
        "audit_suffix": call.suffix,
    }
    with head_errors():
        connection.execute(_RECORD_MESSAGE, parameters).scalar_one()
    return LoggedMessage(id=message_id, **values)


def _record(
    connection: Connection,
    actor: Actor,
    message_id: int | None,
    values: dict[str, Any],
    blobs: list[tuple[blobstore.StoredBlob, str]],
) -> LoggedMessage:
    """The message row (numbered here on SQLite), its attachment rows, then its audit entry."""
    if message_id is None:
        message_id = connection.execute(_INSERT_MESSAGE, values).scalar_one()
    else:
        connection.execute(_INSERT_NUMBERED_MESSAGE, {"id": message_id, **values})
    attachments = []
    for blob, filename in blobs:
        row = {
            "message_id": message_id,
            "operation_id": values["operation_id"],
            "sha256": blob.sha256,
            "size": blob.size,
            "media_type": blob.media_type,
            "filename": filename,
            "recorded_at": values["recorded_at"],
        }
        row["id"] = connection.execute(
            insert(_attachment).values(row).returning(_attachment.c.id)
        ).scalar_one()
        attachments.append(row)
    audit_bridge.get_store().append(connection, _entry(actor, message_id, values, attachments))
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


def _offset_minutes(moment: datetime) -> int:
    offset = moment.utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)
