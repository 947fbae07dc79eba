"""Read services of evidence: each checks access, loads, and writes the read to the audit log (rule 5).

Every read of evidence goes through one of these functions, and only they record reads. The entry is
written in the caller's transaction: the caller commits before a byte of the answer leaves, and a
rolled-back read leaves no entry. Objects the caller may not see are NotFound, never Forbidden, so that
their existence is not revealed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlmodel import Session

from .. import access, audit_bridge, blobstore
from ..access import Actor
from ..disclosure import codes
from ..disclosure.classes import is_sensitive_attachment
from ..errors import Forbidden, NotFound
from ..models import (
    Attachment,
    Authorization,
    AuthorizationDocument,
    Contact,
    Message,
    Profile,
    SignedReport,
)
from . import search, transcript
from .services import attachments_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContactRead:
    """One contact and the name of the officer who recorded it."""

    contact: Contact
    usernames: dict[int, str]


@dataclass(frozen=True)
class ContactList:
    """A page of a profile's contacts by id; ``more`` when another page follows."""

    profile: Profile
    contacts: list[Contact]
    more: bool
    usernames: dict[int, str]


@dataclass(frozen=True)
class Transcript:
    """A page of a contact's transcript and the names of the recorders it shows."""

    contact: Contact
    page: transcript.Page
    usernames: dict[int, str]


@dataclass(frozen=True)
class MessageRead:
    """One message with its attachments and the name of its recorder."""

    message: Message
    attachments: list[Attachment]
    usernames: dict[int, str]


@dataclass(frozen=True)
class Download:
    """An attachment about to be sent, and which store holds its file."""

    attachment: Attachment
    store: str


def _require_reader(actor: Actor) -> None:
    # Admins manage accounts and never read evidence: NotFound, as for a hidden operation.
    if not access.sees_evidence(actor):
        raise NotFound(_("not found"))


def visible_contact(session: Session, actor: Actor, contact_id: int) -> Contact:
    """The contact, or NotFound when it does not exist or its operation is hidden from ``actor``."""
    found = transcript.by_id(session, Contact, contact_id)
    return access.require_visible(session, actor, found, "contact")  # type: ignore[no-any-return]


def visible_profile(session: Session, actor: Actor, profile_id: int) -> Profile:
    """The profile, or NotFound."""
    found = transcript.by_id(session, Profile, profile_id)
    return access.require_visible(session, actor, found, "profile")  # type: ignore[no-any-return]


def visible_message(session: Session, actor: Actor, message_id: int) -> Message:
    """The message, or NotFound."""
    found = transcript.by_id(session, Message, message_id)
    return access.require_visible(session, actor, found, "message")  # type: ignore[no-any-return]


def _record_read(
    session: Session,
    actor: Actor,
    *,
    action: str,
    object_type: str,
    object_id: int | None,
    operation_id: int | None,
    details: Mapping[str, Any] | None = None,
    evidence: Mapping[str, str] | None = None,
) -> None:
    """Write the audit entry of a read in the session's transaction (the caller commits)."""
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action=action,
        object_type=object_type,
        object_id=object_id,
        operation_id=operation_id,
        evidence=dict(evidence or {}),
        details=dict(details or {}),
    )


def read_contact(*, session: Session, actor: Actor, contact_id: int) -> ContactRead:
    """One contact; records ``contact.read``."""
    _require_reader(actor)
    contact = visible_contact(session, actor, contact_id)
    names = transcript.usernames(session, {contact.recorded_by})
    _record_read(
        session,
        actor,
        action="contact.read",
        object_type="contact",
        object_id=contact.id,
        operation_id=contact.operation_id,
    )
    return ContactRead(contact, names)


def read_contacts(
    *, session: Session, actor: Actor, profile_id: int, after: int | None = None, limit: int = 50
) -> ContactList:
    """A page of the profile's contacts after contact ``after``; records ``contact.list`` with their ids."""
    _require_reader(actor)
    profile = visible_profile(session, actor, profile_id)
    rows = transcript.contacts_of(session, profile, after=after, limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    names = transcript.usernames(session, {c.recorded_by for c in rows})
    _record_read(
        session,
        actor,
        action="contact.list",
        object_type="profile",
        object_id=profile.id,
        operation_id=profile.operation_id,
        details={"contacts": [c.id for c in rows]},
    )
    return ContactList(profile, rows, more, names)


def read_messages(
    *,
    session: Session,
    actor: Actor,
    contact_id: int,
    after: int | None = None,
    limit: int = 100,
    marked: bool = False,
) -> Transcript:
    """The contact's messages after message ``after`` (keyset; with ``marked``, only those annotated or
    flagged); records ``contact.read`` with the page."""
    _require_reader(actor)
    contact = visible_contact(session, actor, contact_id)
    page = transcript.message_page(session, contact, after=after, limit=limit, marked=marked)
    _record_read(
        session,
        actor,
        action="contact.read",
        object_type="contact",
        object_id=contact.id,
        operation_id=contact.operation_id,
        details={
            "after": after,
            **({"marked": True} if marked else {}),
            "messages": [m.id for m in page.messages],
        },
    )
    return Transcript(contact, page, page.usernames)


def read_transcript_page(
    *,
    session: Session,
    actor: Actor,
    contact_id: int,
    after: int | None = None,
    before: int | None = None,
    start: int | None = None,
    limit: int = 100,
    marked: bool = False,
) -> Transcript:
    """The transcript on the contact's web page (anchored as in message_page; with ``marked``, only the
    messages annotated or flagged); records ``contact.read``."""
    _require_reader(actor)
    contact = visible_contact(session, actor, contact_id)
    page = transcript.message_page(
        session, contact, after=after, start=start, before=before, limit=limit, marked=marked
    )
    _record_read(
        session,
        actor,
        action="contact.read",
        object_type="contact",
        object_id=contact.id,
        operation_id=contact.operation_id,
        details={
            "page": True,
            **({"marked": True} if marked else {}),
            "messages": [m.id for m in page.messages],
        },
    )
    # The page names the contact's recorder too.
    names = dict(page.usernames)
    if contact.recorded_by not in names:
        names.update(transcript.usernames(session, {contact.recorded_by}))
    return Transcript(contact, page, names)


def read_message(*, session: Session, actor: Actor, message_id: int) -> MessageRead:
    """One message with its attachments; records ``message.read``."""
    _require_reader(actor)
    message = visible_message(session, actor, message_id)
    attachments = attachments_of(session, [message_id])[message_id]
    names = transcript.usernames(session, {message.recorded_by, message.operated_by or message.recorded_by})
    _record_read(
        session,
        actor,
        action="message.read",
        object_type="message",
        object_id=message.id,
        operation_id=message.operation_id,
    )
    return MessageRead(message, attachments, names)


def download_attachment(*, session: Session, actor: Actor, attachment_id: int) -> Download:
    """An attachment whose file is in a store; records ``attachment.download``.

    NotFound when the file is missing, with nothing recorded: no byte of evidence was read.
    """
    _require_reader(actor)
    found = transcript.by_id(session, Attachment, attachment_id)
    attachment: Attachment = access.require_visible(session, actor, found, "attachment")
    if is_sensitive_attachment(session, attachment):
        raise Forbidden(
            _(
                "attachment %(id)s is sensitive: only legal officers and the operation's supervisors open "
                "it, each time with a reason (POST /api/v1/attachments/%(id)s/open)",
                id=attachment.id,
            )
        )
    store = blobstore.locate(attachment.sha256, connection=session.connection())
    if store is None:
        log.error("attachment %s: file %s missing from the store", attachment.id, attachment.sha256)
        raise NotFound(
            "the file of this attachment is missing from the evidence store; run `decoy audit verify`"
        )
    _record_read(
        session,
        actor,
        action="attachment.download",
        object_type="attachment",
        object_id=attachment.id,
        operation_id=attachment.operation_id,
        details={"message": attachment.message_id},
    )
    return Download(attachment, store)


def search_evidence(
    *, session: Session, actor: Actor, query: str, limit: int = search.MAX_RESULTS
) -> search.Results:
    """Contacts and messages containing ``query`` that ``actor`` may see; records ``evidence.search``.

    The entry names the query and every contact and message the answer shows.
    """
    _require_reader(actor)
    results = search.matching(session, actor, query, limit=limit)
    _record_read(
        session,
        actor,
        action="evidence.search",
        object_type="search",
        object_id=None,
        operation_id=None,
        details={
            "q": results.query,
            "contacts": [c.id for c in results.contacts],
            "messages": [m.id for m, _snippet in results.messages],
        },
    )
    return results


def read_authorization_document(
    *, session: Session, actor: Actor, document_id: int
) -> AuthorizationDocument:
    """An order document whose file is in a store; records ``authorization.document_read`` with its hash."""
    _require_reader(actor)
    found: AuthorizationDocument | None = transcript.by_id(session, AuthorizationDocument, document_id)
    if found is None:
        raise NotFound(_("no such document"))
    authorization: Authorization = access.require_visible(
        session, actor, session.get(Authorization, found.authorization_id), "authorization"
    )
    if not blobstore.exists(found.sha256, connection=session.connection()):
        raise NotFound(_("the file of this document is missing from the store; run `decoy audit verify`"))
    _record_read(
        session,
        actor,
        action="authorization.document_read",
        object_type="authorization",
        object_id=authorization.id,
        operation_id=authorization.operation_id,
        evidence={found.filename: found.sha256},
        details={"document_id": found.id},
    )
    return found


def read_signed_report(*, session: Session, actor: Actor, report_id: int) -> tuple[SignedReport, str]:
    """A signed proces-verbaal whose file is in a store, and that store; records ``report.signed_read``.
    NotFound when it is hidden or its file is missing (then nothing is recorded: no byte was read)."""
    found = transcript.by_id(session, SignedReport, report_id)
    report: SignedReport = access.require_visible(session, actor, found, "signed report")
    store = blobstore.locate(report.sha256, connection=session.connection())
    if store is None:
        raise NotFound(_("the file of this document is missing from the store; run `decoy audit verify`"))
    _record_read(
        session,
        actor,
        action="report.signed_read",
        object_type="signed_report",
        object_id=report.id,
        operation_id=report.operation_id,
        details={"contact": report.contact_id, "sha256": report.sha256},
    )
    return report, store
