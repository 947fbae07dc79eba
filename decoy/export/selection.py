"""What one disclosure bundle holds (rule 10): the named contacts' case-file material, their profiles and
the authorizations they ran under, and the audit entries of exactly that.

A contact, message or attachment whose disclosure class is ``withheld`` or ``sensitive`` is listed in
``withheld.json`` by its SHA-256 and a description, never shown; a ``journal`` item is absent. Other
contacts of the operation appear in the bundle only as leaf hashes inside the inclusion proofs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlmodel import Session, col, select

from ..disclosure.classes import sensitive_sha256s
from ..errors import InvalidInput
from ..models import Attachment, Authorization, CaptureSession, Contact, Message, Profile
from ..models.disclosure import DEFAULT_CLASS, DisclosureDecision, JournalNote, Redaction
from ..models.reviews import Review

#: Classes whose items a bundle lists by hash instead of showing.
LISTED = ("withheld", "sensitive")
#: The most contacts one export may name.
MAX_CONTACTS = 1000
#: The entries about a contact's records, by object type; each names its contact in ``details.contact``.
_CONTACT_RECORDS = (
    "annotation", "suggestion_dismissal", "contact_assessment", "import", "signed_report",
    "contact_category_change",
)


def parse_contacts(value: str | Sequence[int] | None) -> tuple[int, ...] | None:
    """The contact ids an export names ("1,2" or a list), None for all; InvalidInput naming ``contacts``."""
    if value is None or value == "" or value == []:
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    ids: list[int] = []
    for part in parts:
        text = str(part).strip()
        if not text.isdigit() or len(text) > 10:
            raise InvalidInput(
                _("contacts: a comma-separated list of contact ids, e.g. 1,2"), field="contacts"
            )
        ids.append(int(text))
    if len(ids) > MAX_CONTACTS:
        raise InvalidInput(_("contacts: at most %(count)s contacts", count=MAX_CONTACTS), field="contacts")
    return tuple(sorted(set(ids)))


def latest_decisions(session: Session, operation_id: int) -> dict[tuple[str, int], DisclosureDecision]:
    """The latest disclosure decision of every item of the operation that has one."""
    latest: dict[tuple[str, int], DisclosureDecision] = {}
    for decision in session.exec(
        select(DisclosureDecision)
        .where(DisclosureDecision.operation_id == operation_id)
        .order_by(col(DisclosureDecision.id))
    ).all():
        latest[(decision.item_kind, decision.item_id)] = decision
    return latest


@dataclass
class Selection:
    """The items of one export and the entries that record them."""

    operation_id: int
    #: The contacts named (None: all of the operation's).
    named: tuple[int, ...] | None
    #: The export's own entry (earlier exports' entries are not part of this disclosure).
    export_index: int | None
    #: Contacts whose transcripts the bundle holds, in id order.
    contacts: list[Contact] = field(default_factory=list)
    #: Contacts listed by hash only (withheld or sensitive).
    listed_contacts: list[Contact] = field(default_factory=list)
    profiles: set[int] = field(default_factory=set)
    authorizations: set[int] = field(default_factory=set)
    capture_sessions: set[int] = field(default_factory=set)
    reviews: set[int] = field(default_factory=set)
    #: Messages whose entries the bundle holds (shown or listed); journal messages are not among them.
    messages: set[int] = field(default_factory=set)
    attachments: set[int] = field(default_factory=set)
    #: Journal notes a legal officer disclosed (shown) or withheld (listed); other notes are absent.
    notes: list[JournalNote] = field(default_factory=list)
    #: The latest redacted copy of each attachment that has one: carried in the original's place.
    redactions: dict[int, Redaction] = field(default_factory=dict)
    _cache: dict[str, set[int]] = field(default_factory=dict, repr=False)
    decisions: dict[tuple[str, int], DisclosureDecision] = field(default_factory=dict)
    #: The SHA-256 of every file marked sensitive anywhere: never copied into the bundle, whichever
    #: attachment or import holds it.
    sensitive_files: set[str] = field(default_factory=set)

    def class_of(self, kind: str, item_id: int | None) -> str:
        """The item's disclosure class (its kind's default when no decision changed it: ``journal`` for a
        note, ``case_file`` for the rest)."""
        found = self.decisions.get((kind, item_id or 0))
        return DEFAULT_CLASS[kind] if found is None else found.disclosure_class

    def contact_ids(self) -> set[int]:
        """The ids of the contacts whose transcripts the bundle holds."""
        return self._ids("contacts", self.contacts)

    def _ids(self, name: str, rows: list[Any]) -> set[int]:
        """The ids of ``rows``, computed once (the lists are complete before entries are filtered)."""
        cached = self._cache.get(name)
        if cached is None:
            cached = self._cache[name] = {row.id or 0 for row in rows}
        return cached

    def holds(self, kind: str, item_id: Any) -> bool:
        """Whether the bundle shows or lists the item (a disclosure decision about it is then part of it)."""
        if kind == "contact":
            return item_id in self.contact_ids() or item_id in self._ids("listed", self.listed_contacts)
        if kind == "note":
            return item_id in self._ids("notes", self.notes)
        return item_id in {"message": self.messages, "attachment": self.attachments}.get(kind, set())

    def includes(self, index: int, entry: dict[str, Any]) -> bool:
        """Whether the audit entry at ``index`` belongs in this bundle."""
        if entry.get("operation") != self.operation_id:
            return False
        found = entry.get("object") or {}
        kind, object_id = found.get("type"), found.get("id")
        if kind == "operation":
            action = entry.get("action")
            if action == "operation.member_remove":
                return False  # an internal matter of the team, with a reason that may name a person
            return action != "operation.export" or index == self.export_index
        if kind == "contact":
            shown = object_id in self.contact_ids()
            listed = self._ids("listed", self.listed_contacts)
            return shown or (entry.get("action") == "contact.create" and object_id in listed)
        if kind in _CONTACT_RECORDS:
            return (entry.get("details") or {}).get("contact") in self.contact_ids()
        if kind == "redaction":
            return object_id in self._ids("redactions", list(self.redactions.values()))
        if kind == "journal_note":
            return object_id in self._ids("notes", self.notes)
        if kind == "authorization_withdrawal":
            return (entry.get("details") or {}).get("authorization_id") in self.authorizations
        if kind == "operation_closure":
            return True
        if kind == "disclosure_decision":
            item = (entry.get("details") or {}).get("item") or {}
            return self.holds(str(item.get("kind")), item.get("id"))
        members = {
            "authorization": self.authorizations,
            "profile": self.profiles,
            "capture_session": self.capture_sessions,
            "review": self.reviews,
            "message": self.messages,
            "attachment": self.attachments,
        }.get(str(kind))
        return members is not None and object_id in members


def select_items(
    session: Session, operation_id: int, named: tuple[int, ...] | None, export_index: int | None = None
) -> Selection:
    """What an export of ``named`` contacts of the operation holds (read in the export's snapshot)."""
    chosen = Selection(operation_id, named, export_index, decisions=latest_decisions(session, operation_id),
                       sensitive_files=sensitive_sha256s(session))
    query = select(Contact).where(Contact.operation_id == operation_id)
    if named is not None:
        query = query.where(col(Contact.id).in_(named))
    for contact in session.exec(query.order_by(col(Contact.id))).all():
        shown = chosen.class_of("contact", contact.id)
        if shown == "case_file":
            chosen.contacts.append(contact)
        elif shown in LISTED:
            chosen.listed_contacts.append(contact)
    contact_ids = list(chosen.contact_ids())
    if named is None:
        # The whole operation: every profile and order, with or without contacts.
        profiles = _rows(session, select(Profile.id), Profile.operation_id, [operation_id])
        chosen.profiles = {profile_id for (profile_id,) in profiles}
        chosen.authorizations = {
            a for (a,) in _rows(session, select(Authorization.id), Authorization.operation_id, [operation_id])
        }
    else:
        chosen.profiles = {contact.profile_id for contact in chosen.contacts}
        chosen.authorizations = _with_superseded(
            session,
            {a for (a,) in _rows(session, select(Profile.authorization_id), Profile.id, chosen.profiles)},
        )
    chosen.capture_sessions = {
        i for (i,) in _rows(session, select(CaptureSession.id), CaptureSession.profile_id, chosen.profiles)
    }
    chosen.messages = {
        message_id
        for (message_id,) in _rows(session, select(Message.id), Message.contact_id, contact_ids)
        if chosen.class_of("message", message_id) != "journal"
    }
    chosen.attachments = {
        attachment_id
        for attachment_id, message_id in _rows(
            session, select(Attachment.id, Attachment.message_id), Attachment.operation_id, [operation_id]
        )
        if message_id in chosen.messages
    }
    for redaction in session.exec(
        select(Redaction).where(Redaction.operation_id == operation_id).order_by(col(Redaction.id))
    ).all():
        if redaction.attachment_id in chosen.attachments:
            chosen.redactions[redaction.attachment_id] = redaction
    notes = select(JournalNote).where(JournalNote.operation_id == operation_id)
    chosen.notes = [
        note
        for note in session.exec(notes.order_by(col(JournalNote.id))).all()
        if chosen.class_of("note", note.id) != "journal"
        and (note.contact_id in contact_ids if note.contact_id is not None else named is None)
    ]
    reviews = session.exec(
        select(Review.id, Review.authorization_id, Review.contact_id).where(
            Review.operation_id == operation_id
        )
    ).all()
    chosen.reviews = {
        review_id
        for review_id, authorization_id, contact_id in reviews
        if authorization_id in chosen.authorizations and (contact_id is None or contact_id in contact_ids)
    }
    return chosen


def _rows(session: Session, query: Any, column: Any, values: Iterable[int]) -> list[Any]:
    """The rows of ``query`` whose ``column`` is among ``values``, read in slices of the IN list."""
    wanted = sorted(values)
    rows: list[Any] = []
    for start in range(0, len(wanted), 5000):
        part = query.where(col(column).in_(wanted[start:start + 5000]))
        rows.extend(session.connection().execute(part).all())
    return rows


def _with_superseded(session: Session, authorization_ids: set[int]) -> set[int]:
    """The authorizations with every one they supersede, back to the first order."""
    found = set(authorization_ids)
    frontier = set(authorization_ids)
    while frontier:
        earlier = {
            s
            for (s,) in _rows(session, select(Authorization.supersedes_id), Authorization.id, frontier)
            if s is not None and s not in found
        }
        found |= earlier
        frontier = earlier
    return found


def sensitive_copies(session: Session, operation_id: int, named: tuple[int, ...] | None) -> list[int]:
    """Attachments an export of ``named`` contacts (all when None) would copy although their file is one
    marked sensitive elsewhere: their class must be decided before the export."""
    sensitive = sensitive_sha256s(session)
    if not sensitive:
        return []
    decisions = latest_decisions(session, operation_id)
    query = (
        select(Attachment.id, Attachment.sha256, Message.id, Message.contact_id)
        .join(Message, col(Message.id) == Attachment.message_id)
        .where(Attachment.operation_id == operation_id, col(Attachment.sha256).in_(sorted(sensitive)))
    )
    if named is not None:
        query = query.where(col(Message.contact_id).in_(named))

    def listed(kind: str, item_id: int) -> bool:
        found = decisions.get((kind, item_id))
        return found is not None and found.disclosure_class in (*LISTED, "journal")

    return sorted(
        attachment_id
        for attachment_id, _sha256, message_id, contact_id in session.exec(query).all()
        if not (listed("attachment", attachment_id) or listed("message", message_id)
                or listed("contact", contact_id))
    )
