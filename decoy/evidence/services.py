"""Recording contacts and messages: never refused for a rule, always flagged, hashed into the audit log.

Contacts are recorded here; messages by decoy.evidence.recording (re-exported here), under the rules of
decoy.evidence.validation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask_babel import gettext as _
from sqlmodel import Session, col, select

from .. import access, audit_bridge, clock
from ..access import Actor
from ..disclosure import codes
from ..errors import InvalidInput
from ..models import Attachment, Contact, Profile
from .fingerprint import columns, contact_fingerprint, text_sha256
from .flags import contact_flags
from .recording import LoggedMessage, Recording, log_message, require_recorder
from .validation import (
    DIRECTIONS,
    MAX_BODY_CHARS,
    MAX_COUNTERPART_CHARS,
    MAX_FILENAME_CHARS,
    MAX_FILES,
    MAX_ID,
    Upload,
    checked_text,
    require_logger,
    storable_filename,
)

__all__ = [
    "DIRECTIONS",
    "MAX_BODY_CHARS",
    "MAX_COUNTERPART_CHARS",
    "MAX_FILENAME_CHARS",
    "MAX_FILES",
    "MAX_ID",
    "LoggedMessage",
    "Recording",
    "require_recorder",
    "Upload",
    "attachments_of",
    "checked_text",
    "create_contact",
    "log_message",
    "require_logger",
    "storable_filename",
]


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
        actor=codes.officer_name(actor),
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
