"""A contact's initiative flags, assessed from the evidence and recorded when they change (rule 8).

The flags a message is recorded with are fixed in its row and audit entry. Three of them depend on what
is known of the whole conversation, which changes later: ``decoy_initiated`` (no incoming message before
an outgoing one, by platform time: a message recorded late may precede it), ``decoy_raised_first`` (the
decoy's message is the first, by platform time, that an officer marked with an incitement topic) and
``persona_age_inconsistent`` (an outgoing message marked ``age_stated`` with an age other than the
profile's persona age). When a message is recorded whose platform time is earlier than a message
already known, when an import adds messages, and when an officer annotates, the contact is assessed
again; if the outcome differs from the current one it is recorded as a new ``contact_assessment`` row
with its own audit entry (``contact.assess``). Nothing recorded earlier is edited: the current flags are
the latest assessment's for the messages it considered (ids up to its ``basis_message_id``) and the
recorded flags for messages after them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, func
from sqlmodel import Session, col, select

from audit.evidence_bundle.initiative import assessment_row_sha256, initiative_sheet

from .. import audit_bridge, clock
from ..access import Actor
from ..clock import with_offset
from ..disclosure import codes
from ..evidence.fingerprint import columns
from ..evidence.flags import StreamFlags, ordered
from ..models import Contact, Message, Profile
from ..models.initiative import OFFICER, Annotation, ContactAssessment
from ..reviews.generation import reviews_of_assessment

#: The flags an assessment decides (the others are fixed when a message is recorded or imported).
ASSESSED_FLAGS = ("decoy_initiated", "decoy_raised_first", "persona_age_inconsistent")
#: The contact-level flags an assessment gives.
CONTACT_FLAGS = ("decoy_raised_first", "persona_age_inconsistent")


@dataclass
class Outcome:
    """What an assessment finds: the contact's flags, the topics the decoy raised first, the assessed
    flags of each message that carries one, and the initiative sheet."""

    flags: list[str] = field(default_factory=list)
    raised_first: list[str] = field(default_factory=list)
    message_flags: dict[str, list[str]] = field(default_factory=dict)
    sheet: dict[str, Any] = field(default_factory=dict)

    def same_as(self, other: Outcome) -> bool:
        """Whether both say the same of the contact and its messages."""
        return (
            self.flags == other.flags
            and self.raised_first == other.raised_first
            and self.message_flags == other.message_flags
            and _firsts(self.sheet) == _firsts(other.sheet)
        )


def _firsts(sheet: dict[str, Any]) -> dict[str, Any]:
    return {
        topic: None if first is None else (first["message_id"], first["annotation_id"], first.get("age"))
        for topic, first in (sheet.get("topics") or {}).items()
    }


def officer_annotations(session: Session, contact_id: int) -> list[dict[str, Any]]:
    """Every annotation of the contact by id, as the sheet reads them."""
    rows = session.exec(
        select(
            Annotation.id,
            Annotation.message_id,
            Annotation.topic,
            Annotation.age,
            Annotation.retracts_id,
            Annotation.role,
        )
        .where(Annotation.contact_id == contact_id)
        .order_by(col(Annotation.id))
    ).all()
    return [
        {"id": a, "message_id": m, "topic": t, "age": age, "retracts_id": r, "role": role}
        for a, m, t, age, r, role in rows
    ]


def _marked_messages(session: Session, message_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The platform time (with its offset) and direction of each given message."""
    wanted = sorted(set(message_ids))
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(wanted), 1000):
        rows = session.exec(
            select(Message.id, Message.sent_at, Message.sent_offset_minutes, Message.direction).where(
                col(Message.id).in_(wanted[start : start + 1000])
            )
        ).all()
        for message_id, sent_at, offset, direction in rows:
            found[int(message_id)] = {"sent_at": with_offset(sent_at, offset), "direction": direction}  # type: ignore[arg-type]
    return found


def sheet_of(
    session: Session, contact_id: int
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[int, Any]]:
    """The contact's initiative sheet from its annotations now, with the annotations and marked messages."""
    annotations = officer_annotations(session, contact_id)
    messages = _marked_messages(session, (a["message_id"] for a in annotations))
    return initiative_sheet(annotations, messages), annotations, messages


def current_sheet(session: Session, contact_id: int) -> dict[str, Any]:
    """The contact's initiative sheet now, as :func:`sheet_of` gives it, read without every annotation.

    The sheet depends only on each topic's first annotation that counts (an officer's, neither retracted
    nor retracting) by the platform time of its message, then the message id, then the annotation id. So
    the database gives each topic's earliest platform time among those, then the annotations that count
    on the messages of those times (several, when messages share a time), and the function that builds
    the sheet in bundles and in the offline verifier decides from them."""
    retracted = select(Annotation.retracts_id).where(
        Annotation.contact_id == contact_id, col(Annotation.retracts_id).is_not(None)
    )
    counting = (
        Annotation.role == OFFICER,
        col(Annotation.retracts_id).is_(None),
        col(Annotation.id).not_in(retracted),
    )
    firsts = dict(
        session.execute(
            select(Annotation.topic, func.min(Message.sent_at))
            .join(Message, col(Message.id) == Annotation.message_id)
            .where(Annotation.contact_id == contact_id, *counting)
            .group_by(col(Annotation.topic))
        ).all()
    )
    rows = (
        session.execute(
            select(
                Annotation.id,
                Annotation.message_id,
                Annotation.topic,
                Annotation.age,
                Message.sent_at,
                Message.sent_offset_minutes,
                Message.direction,
            )
            .join(Annotation, col(Annotation.message_id) == Message.id)
            # The messages at those times by the (contact, sent_at) index, then their annotations.
            .where(Message.contact_id == contact_id, col(Message.sent_at).in_(set(firsts.values())))
            .where(*counting)
        ).all()
        if firsts
        else []
    )
    candidates = [row for row in rows if firsts.get(row.topic) == row.sent_at]
    annotations = [
        {"id": r.id, "message_id": r.message_id, "topic": r.topic, "age": r.age, "retracts_id": None,
         "role": OFFICER}
        for r in candidates
    ]
    messages = {
        int(r.message_id): {
            "sent_at": with_offset(r.sent_at, r.sent_offset_minutes),
            "direction": r.direction,
        }
        for r in candidates
    }
    return initiative_sheet(annotations, messages)


def _initiated(session: Session, profile: Profile, contact_id: int) -> list[int]:
    """The outgoing messages no incoming message precedes, where the order did not allow the decoy to
    start a contact (as message_flags judges ``decoy_initiated``, from what is known now)."""
    stream = StreamFlags(session, profile=profile, contact_id=contact_id, officer_id=0)
    query = select(Message.id, Message.sent_at).where(
        Message.contact_id == contact_id, Message.direction == "out"
    )
    if stream.earliest_incoming is not None:
        query = query.where(col(Message.sent_at) <= stream.earliest_incoming)
    rows = session.exec(query.order_by(col(Message.sent_at), col(Message.id))).all()
    return [int(m) for m, sent_at in rows if "decoy_initiated" in stream.flags("out", sent_at)]  # type: ignore[arg-type]


def assess(session: Session, contact: Contact) -> Outcome:
    """The contact's assessed flags from everything known now."""
    profile = session.get(Profile, contact.profile_id)
    if profile is None:
        raise LookupError(f"no profile {contact.profile_id}")
    sheet, annotations, messages = sheet_of(session, contact.id)  # type: ignore[arg-type]
    marked: dict[int, set[str]] = {}
    for message_id in _initiated(session, profile, contact.id):  # type: ignore[arg-type]
        marked.setdefault(message_id, set()).add("decoy_initiated")
    for topic in sheet["raised_first"]:
        marked.setdefault(int(sheet["topics"][topic]["message_id"]), set()).add("decoy_raised_first")
    retracted = {a["retracts_id"] for a in annotations if a["retracts_id"] is not None}
    if profile.persona_age is not None:
        for a in annotations:
            if (
                a["topic"] == "age_stated"
                and a["role"] == OFFICER
                and a["retracts_id"] is None
                and a["id"] not in retracted
                and a["age"] is not None
                and a["age"] != profile.persona_age
                and messages[a["message_id"]]["direction"] == "out"
            ):
                marked.setdefault(int(a["message_id"]), set()).add("persona_age_inconsistent")
    contact_flags = {flag for flags in marked.values() for flag in flags} & set(CONTACT_FLAGS)
    return Outcome(
        flags=ordered(contact_flags),
        raised_first=list(sheet["raised_first"]),
        message_flags={str(m): ordered(flags) for m, flags in sorted(marked.items())},
        sheet=sheet,
    )


def latest(session: Session, contact_id: int) -> ContactAssessment | None:
    """The contact's current (latest) recorded assessment."""
    return session.exec(
        select(ContactAssessment)
        .where(ContactAssessment.contact_id == contact_id)
        .order_by(col(ContactAssessment.id).desc())
        .limit(1)
    ).first()


def current(session: Session, contact: Contact) -> Outcome:
    """What the record says now: the latest assessment, and the recorded ``decoy_initiated`` of the
    messages after it (or of every message, before the first assessment)."""
    found = latest(session, contact.id)  # type: ignore[arg-type]
    outcome = (
        Outcome()
        if found is None
        else Outcome(
            flags=list(found.flags),
            raised_first=list(found.raised_first),
            message_flags={key: list(value) for key, value in found.message_flags.items()},
            sheet=dict(found.sheet),
        )
    )
    query = select(Message.id).where(
        Message.contact_id == contact.id, cast(Message.flags, String).contains("decoy_initiated")
    )
    if found is not None and found.basis_message_id is not None:
        query = query.where(col(Message.id) > found.basis_message_id)
    for message_id in session.exec(query).all():
        flags = set(outcome.message_flags.get(str(message_id), [])) | {"decoy_initiated"}
        outcome.message_flags[str(message_id)] = ordered(flags)
    outcome.message_flags = dict(sorted(outcome.message_flags.items(), key=lambda item: int(item[0])))
    return outcome


def reassess(
    session: Session, actor: Actor | str, contact: Contact, *, cause: str, cause_id: int | None
) -> ContactAssessment | None:
    """Assess the contact again; record the assessment (and its audit entry) when its outcome differs
    from the current one, and return it (None when nothing changed). The caller commits."""
    found = assess(session, contact)
    if found.same_as(current(session, contact)):
        return None
    basis = session.exec(select(func.max(Message.id)).where(Message.contact_id == contact.id)).one()
    row = ContactAssessment(
        operation_id=contact.operation_id,
        contact_id=contact.id,  # type: ignore[arg-type]
        cause=cause,
        cause_id=cause_id,
        basis_message_id=basis,
        flags=found.flags,
        raised_first=found.raised_first,
        message_flags=found.message_flags,
        sheet=found.sheet,
        assessed_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit_bridge.record(
        session,
        actor=actor if isinstance(actor, str) else codes.officer_name(actor),
        action="contact.assess",
        object_type="contact_assessment",
        object_id=row.id,
        operation_id=row.operation_id,
        evidence={"row_sha256": assessment_row_sha256(columns(row))},
        details={
            "contact": row.contact_id,
            "cause": cause,
            "cause_id": cause_id,
            "flags": row.flags,
            "raised_first": row.raised_first,
        },
    )
    if row.message_flags:
        reviews_of_assessment(session, row.contact_id)
    return row


def is_late(session: Session, contact_id: int, sent_at: Any) -> bool:
    """Whether a message of this platform time would be recorded late: a message of the contact already
    known was sent after it."""
    later = session.exec(
        select(Message.id).where(Message.contact_id == contact_id, col(Message.sent_at) > sent_at).limit(1)
    ).first()
    return later is not None


def assessed_message_flags(session: Session, messages: Sequence[Message]) -> dict[int, list[str]]:
    """The assessed flags (of ASSESSED_FLAGS) that the latest assessment gives each of the messages it
    considered, by id; a message not in the answer keeps the assessed flags it was recorded with."""
    by_contact: dict[int, ContactAssessment | None] = {}
    found: dict[int, list[str]] = {}
    for message in messages:
        if message.contact_id not in by_contact:
            by_contact[message.contact_id] = latest(session, message.contact_id)
        assessment = by_contact[message.contact_id]
        if assessment is None or assessment.basis_message_id is None or message.id is None:
            continue
        if message.id <= assessment.basis_message_id:
            found[message.id] = list(assessment.message_flags.get(str(message.id), []))
    return found


def flags_now(
    recorded: Iterable[str], assessed: Sequence[str] | None, later: Iterable[str] = ()
) -> list[str]:
    """A message's current flags: those it was recorded with, the assessed ones replaced by the latest
    assessment's (``assessed``; None when no assessment considered it), and those found later
    (an import's reconciliation)."""
    flags = set(recorded)
    if assessed is not None:
        flags = (flags - set(ASSESSED_FLAGS)) | set(assessed)
    return ordered(flags | set(later))


def contact_flags_now(session: Session, contacts: Sequence[Contact]) -> dict[int, list[str]]:
    """Each contact's flags now: those of its first sighting and its latest assessment's, by contact id."""
    ids = [c.id for c in contacts if c.id is not None]
    assessed: dict[int, list[str]] = {}
    if ids:
        newest = (
            select(func.max(ContactAssessment.id))
            .where(col(ContactAssessment.contact_id).in_(ids))
            .group_by(col(ContactAssessment.contact_id))
        )
        rows = session.exec(
            select(ContactAssessment.contact_id, ContactAssessment.flags).where(
                col(ContactAssessment.id).in_(newest)
            )
        ).all()
        assessed = {int(contact_id): list(flags) for contact_id, flags in rows}
    return {c.id: ordered(set(c.flags) | set(assessed.get(c.id, ()))) for c in contacts if c.id is not None}
