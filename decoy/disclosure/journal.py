"""The internal journal: officers' notes on an operation and on its contacts.

The detectives and supervisors assigned to an operation keep notes on it and on each of its contacts
(what they plan, what they agreed, how a conversation should go on). A note is append-only: a correction
is a new note. Its disclosure class is ``journal`` (internal: never in a disclosure bundle) until a legal
officer decides otherwise (decoy.disclosure.classes). Everyone who may see the operation reads its
journal inside Decoy. Every note has its audit entry, with its row hash (decoy.disclosure.rows) and no
text, in the same transaction.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlmodel import Session, col, select

from .. import access, audit_bridge, clock
from ..access import Actor
from ..errors import Forbidden, InvalidInput, NotFound
from ..evidence.fingerprint import columns, committed_text, text_evidence
from ..evidence.validation import checked_text, records
from ..models import MAX_ID, Contact, Operation, User
from ..models.disclosure import JournalNote
from . import codes
from .rows import note_row_sha256

#: The longest note, in characters.
MAX_BODY = 20_000
#: The notes one page shows unless asked otherwise, and the most it shows.
PAGE = 50
MAX_PAGE = 500


def visible_contact(session: Session, actor: Actor, contact_id: int) -> Contact:
    """The contact, or NotFound when it does not exist or ``actor`` may not see it."""
    found = session.get(Contact, contact_id) if 0 < contact_id <= MAX_ID else None
    return access.require_visible(session, actor, found, "contact")  # type: ignore[no-any-return]


def _scope(
    session: Session, actor: Actor, operation_id: int, contact_id: int | None
) -> tuple[Operation, Contact | None]:
    """The operation and the contact (of that operation) a note or a list is about; NotFound for what
    ``actor`` may not see."""
    operation = access.visible_operation(session, actor, operation_id) if 0 < operation_id <= MAX_ID else None
    if operation is None:
        raise NotFound(access.not_found("operation"))
    if contact_id is None:
        return operation, None
    if isinstance(contact_id, bool) or not isinstance(contact_id, int):
        raise InvalidInput(_("contact_id must name a contact by its id"), field="contact_id")
    contact = visible_contact(session, actor, contact_id)
    if contact.operation_id != operation.id:
        raise InvalidInput(_("contact_id must name a contact of this operation"), field="contact_id")
    return operation, contact


def may_write(session: Session, actor: Actor, operation_id: int) -> bool:
    """Whether ``actor`` keeps the operation's journal: a detective or supervisor assigned to it."""
    return records(actor) and access.is_member(session, actor, operation_id)


def require_writer(session: Session, actor: Actor, operation_id: int, contact_id: int | None = None) -> None:
    """NotFound for an operation or contact ``actor`` may not see, Forbidden for one they may only read."""
    _scope(session, actor, operation_id, contact_id)
    if not may_write(session, actor, operation_id):
        raise Forbidden(_("only the operation's detectives and supervisors write in its journal"))


def write(
    session: Session, *, actor: codes.Acting, operation_id: int, contact_id: int | None, body: str
) -> JournalNote:
    """Add a note to the operation's journal (on one of its contacts when ``contact_id`` is given), with
    its audit entry; the caller commits. The text is kept exactly as written."""
    require_writer(session, actor, operation_id, contact_id)
    name = codes.officer_name(actor)
    text = checked_text(body, "body", max_chars=MAX_BODY, allow_empty=False)
    row = JournalNote(
        operation_id=operation_id,
        contact_id=contact_id,
        body=text,
        **committed_text(text),
        written_by=actor.id,
        written_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit_bridge.record(
        session,
        actor=name,
        action="journal.write",
        object_type="journal_note",
        object_id=row.id,
        operation_id=operation_id,
        evidence={"row_sha256": note_row_sha256(columns(row))},
        details={"contact": contact_id, **text_evidence(columns(row))},
    )
    return row


def notes_of(
    session: Session,
    actor: Actor,
    operation_id: int,
    contact_id: int | None = None,
    limit: int = PAGE,
    before: int | None = None,
) -> list[JournalNote]:
    """The journal newest first: the whole operation's (its own notes and its contacts'), or one contact's
    when ``contact_id`` is given; at most ``limit`` notes older than note ``before``. NotFound for what
    ``actor`` may not see."""
    _scope(session, actor, operation_id, contact_id)
    query = select(JournalNote).where(JournalNote.operation_id == operation_id)
    if contact_id is not None:
        query = query.where(JournalNote.contact_id == contact_id)
    if before is not None:
        query = query.where(col(JournalNote.id) < before)
    bounded = max(1, min(int(limit), MAX_PAGE + 1))
    return list(session.exec(query.order_by(col(JournalNote.id).desc()).limit(bounded)).all())


def visible_note(session: Session, actor: Actor, note_id: int) -> JournalNote:
    """The note, or NotFound when it does not exist or ``actor`` may not see its operation."""
    found = session.get(JournalNote, note_id) if 0 < note_id <= MAX_ID else None
    return access.require_visible(session, actor, found, "note")  # type: ignore[no-any-return]


def authors(session: Session, notes: list[JournalNote]) -> dict[int, User]:
    """The accounts that wrote ``notes``, by id (inside Decoy an officer is shown by name)."""
    ids = {note.written_by for note in notes}
    if not ids:
        return {}
    return {user.id: user for user in session.exec(select(User).where(col(User.id).in_(ids))).all()}  # type: ignore[misc]
