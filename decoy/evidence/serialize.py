"""JSON shapes of contacts, messages and attachments (the API's, reusable by exports)."""

from __future__ import annotations

from typing import Any

from ..clock import rfc3339, with_offset
from ..models import Attachment, Contact, Message


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    """An attachment's record; the file itself is at ``/attachments/<id>``."""
    return {
        "id": attachment.id,
        "sha256": attachment.sha256,
        "size": attachment.size,
        "media_type": attachment.media_type,
        "filename": attachment.filename,
    }


def contact_json(contact: Contact, usernames: dict[int, str]) -> dict[str, Any]:
    """A contact: counterpart verbatim, first sighting, flags and who recorded it."""
    return {
        "id": contact.id,
        "operation_id": contact.operation_id,
        "profile_id": contact.profile_id,
        "counterpart": contact.counterpart,
        "first_seen_at": rfc3339(contact.first_seen_at),
        "flags": list(contact.flags),
        "recorded_by": usernames.get(contact.recorded_by, ""),
        "recorded_at": rfc3339(contact.recorded_at),
    }


def message_json(
    message: Message, attachments: list[Attachment], usernames: dict[int, str]
) -> dict[str, Any]:
    """A message: the platform's time with its own offset, the server's time in UTC, text verbatim."""
    return {
        "id": message.id,
        "contact_id": message.contact_id,
        "direction": message.direction,
        "sent_at": rfc3339(with_offset(message.sent_at, message.sent_offset_minutes)),
        "recorded_at": rfc3339(message.recorded_at),
        "recorded_by": usernames.get(message.recorded_by, ""),
        "body": message.body,
        "body_sha256": message.body_sha256,
        "flags": list(message.flags),
        "corrects": message.corrects_id,
        "attachments": [attachment_json(a) for a in attachments],
    }
