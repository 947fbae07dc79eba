"""JSON of contacts, messages, attachments and search results, built through their public models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..clock import with_offset
from ..models import Attachment, Contact, Message
from .schemas import (
    AttachmentPublic,
    ContactPublic,
    DisposedMark,
    DisposedMessage,
    MessagePublic,
    MessageRecorded,
    SearchHit,
    SearchResults,
)


def _attachment(attachment: Attachment) -> AttachmentPublic:
    return AttachmentPublic(
        id=attachment.id,
        sha256=attachment.sha256,
        size=attachment.size,
        media_type=attachment.media_type,
        filename=attachment.filename,
    )


def _contact(
    contact: Contact, usernames: dict[int, str], flags: Sequence[str] | None = None
) -> ContactPublic:
    return ContactPublic(
        id=contact.id,
        operation_id=contact.operation_id,
        profile_id=contact.profile_id,
        counterpart=contact.counterpart,
        first_seen_at=contact.first_seen_at,
        flags=list(contact.flags if flags is None else flags),
        recorded_by=usernames.get(contact.recorded_by, ""),
        recorded_at=contact.recorded_at,
    )


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    """An attachment's record; the file itself is at ``/attachments/<id>``."""
    return _attachment(attachment).model_dump(mode="json")


def contact_json(
    contact: Contact, usernames: dict[int, str], flags: Sequence[str] | None = None
) -> dict[str, Any]:
    """A contact: counterpart verbatim, first sighting, flags (``flags``: its flags now, from
    assessment.contact_flags_now; else those of its first sighting) and who recorded it."""
    return _contact(contact, usernames, flags).model_dump(mode="json")


def message_json(
    message: Message,
    attachments: Sequence[Attachment],
    usernames: dict[int, str],
    flags: Sequence[str] | None = None,
    disposed: Mapping[int, tuple[str, datetime]] | None = None,
) -> dict[str, Any]:
    """A message: the platform's time with its own offset, the server's time in UTC, text verbatim;
    ``flags``: its flags now (transcript.current_flags), else those it was recorded with. A message in
    ``disposed`` (by id: the decision's reference and when) is its id and the disposal only."""
    if disposed and message.id in disposed:
        reference, at = disposed[message.id]
        return DisposedMessage(
            id=message.id, disposed=DisposedMark(decision_reference=reference, at=at)
        ).model_dump(mode="json")
    return MessagePublic(
        id=message.id,
        contact_id=message.contact_id,
        direction=message.direction,
        sent_at=with_offset(message.sent_at, message.sent_offset_minutes),
        recorded_at=message.recorded_at,
        recorded_by=usernames.get(message.recorded_by, ""),
        body=message.body,
        body_sha256=message.body_sha256,
        body_salt=message.body_salt,
        body_commitment=message.body_commitment,
        flags=list(message.flags if flags is None else flags),
        corrects=message.corrects_id,
        attachments=[_attachment(a) for a in attachments],
        import_id=message.import_id,
        source=message.source,
        platform_message_id=message.platform_message_id,
        assumed_timezone=message.assumed_timezone,
        operated_by=None if message.operated_by is None else usernames.get(message.operated_by, ""),
        capture_session=message.capture_session_id,
    ).model_dump(mode="json")


def recorded_json(message: Any, attachments: Sequence[Attachment]) -> dict[str, Any]:
    """The answer to recording a message: its id, flags, the message it corrects and its files."""
    return MessageRecorded(
        id=message.id,
        flags=list(message.flags),
        corrects=message.corrects_id,
        attachments=[_attachment(a) for a in attachments],
    ).model_dump(mode="json")


def search_json(
    contacts: Sequence[Contact], messages: Sequence[tuple[Message, str]], usernames: dict[int, str],
    truncated: bool,
) -> dict[str, Any]:
    """Search results: the contacts found, the messages found with a snippet each, and whether cut short."""
    return SearchResults(
        contacts=[_contact(c, usernames) for c in contacts],
        messages=[
            SearchHit(
                id=m.id,
                contact_id=m.contact_id,
                operation_id=m.operation_id,
                direction=m.direction,
                flags=list(m.flags),
                snippet=snippet,
            )
            for m, snippet in messages
        ],
        truncated=truncated,
    ).model_dump(mode="json")
