"""Annotating messages with the topics they carry, retracting an annotation, and deciding a suggestion.

An annotation is an officer's finding that a message carries a topic (``age_stated`` with the age,
``sexual_topic``, ``meeting_proposed``, ``payment_offered``, ``image_requested``, ``image_sent``). The
detectives and supervisors assigned to the operation annotate; a legal officer's annotation is a review
remark, recorded and shown apart, that never counts for the initiative. Annotations are append-only: a
retraction is a new annotation naming the one it withdraws (same message, topic and capacity). A
suggestion of the word list becomes a finding only when an officer confirms it (an annotation that
keeps the list's term); a dismissal is recorded too. Every row has its audit entry with its row hash,
and every officer's annotation assesses the contact again (decoy.initiative.assessment).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlmodel import Session, col, select

from audit.evidence_bundle.initiative import annotation_row_sha256, dismissal_row_sha256

from .. import access, audit_bridge, clock
from ..access import Actor
from ..disclosure import codes
from ..errors import Forbidden, InvalidInput, NotFound, RuleViolation
from ..evidence.fingerprint import columns
from ..evidence.validation import checked_text, records
from ..models import MAX_ID, Contact, Message
from ..models.initiative import LEGAL, OFFICER, TOPICS, Annotation, ContactAssessment, SuggestionDismissal
from . import assessment
from .suggestions import WordListError, current_word_list

#: The youngest and oldest age an ``age_stated`` annotation may carry.
MIN_AGE = 1
MAX_AGE = 120
MAX_REMARK = 5_000
MAX_TERM = 500


@dataclass(frozen=True)
class Annotated:
    """A new annotation and the assessment it caused (None when the contact's flags did not change)."""

    annotation: Annotation
    assessment: ContactAssessment | None


def visible_message(session: Session, actor: Actor, message_id: int) -> Message:
    found = session.get(Message, message_id) if 0 < message_id <= MAX_ID else None
    return access.require_visible(session, actor, found, "message")  # type: ignore[no-any-return]


def capacity(session: Session, actor: Actor, operation_id: int) -> str:
    """``officer`` for a detective or supervisor assigned to the operation, ``legal`` for a legal
    officer; Forbidden for anyone else who may see it."""
    if records(actor) and access.is_member(session, actor, operation_id):
        return OFFICER
    if actor.has_role("legal"):
        return LEGAL
    raise Forbidden(
        _("only the operation's detectives and supervisors annotate; legal officers add review remarks")
    )


def require_annotator(session: Session, actor: Actor, message_id: int) -> tuple[Message, str]:
    """The message and the capacity ``actor`` annotates it in (NotFound when they may not see it)."""
    message = visible_message(session, actor, message_id)
    return message, capacity(session, actor, message.operation_id)


def _topic(topic: object) -> str:
    if not isinstance(topic, str) or topic not in TOPICS:
        raise InvalidInput(_("topic must be one of %(topics)s", topics=", ".join(TOPICS)), field="topic")
    return topic


def _age(topic: str, age: object) -> int | None:
    if topic != "age_stated":
        if age is not None:
            raise InvalidInput(_("age belongs to the topic age_stated only"), field="age")
        return None
    if isinstance(age, bool) or not isinstance(age, int):
        raise InvalidInput(_("age_stated needs the age stated, a whole number"), field="age")
    if not MIN_AGE <= age <= MAX_AGE:
        raise InvalidInput(
            _("age must lie between %(low)d and %(high)d", low=MIN_AGE, high=MAX_AGE), field="age"
        )
    return age


def _lock_contact(session: Session, contact_id: int) -> Contact:
    """The contact, its row held until the transaction ends (PostgreSQL), so that two annotations of
    one contact are assessed one after the other."""
    found = session.exec(select(Contact).where(Contact.id == contact_id).with_for_update()).first()
    if found is None:
        raise NotFound(access.not_found("contact"))
    return found


def _retracted(session: Session, message: Message, role: str, topic: str, retracts: object) -> Annotation:
    if isinstance(retracts, bool) or not isinstance(retracts, int):
        raise InvalidInput(_("retracts must name an annotation by its id"), field="retracts")
    target = session.get(Annotation, retracts) if 0 < retracts <= MAX_ID else None
    if target is None or target.message_id != message.id:
        raise InvalidInput(_("retracts must name an annotation of this message"), field="retracts")
    if target.retracts_id is not None:
        raise RuleViolation(_("a retraction cannot itself be retracted; annotate again instead"))
    if target.topic != topic:
        raise InvalidInput(_("a retraction names the topic of the annotation it retracts"), field="topic")
    if target.role != role:
        raise RuleViolation(
            _("an officer's annotation is retracted by an officer, a remark by a legal officer")
        )
    again = session.exec(select(Annotation.id).where(Annotation.retracts_id == target.id).limit(1)).first()
    if again is not None:
        raise RuleViolation(_("annotation %(id)d has been retracted already", id=target.id))
    return target  # type: ignore[no-any-return]


def annotate(
    *,
    session: Session,
    actor: Actor,
    message_id: int,
    topic: object,
    age: object = None,
    retracts: object = None,
    remark: object = "",
    suggested_term: object = None,
) -> Annotated:
    """Record an annotation of a message (or, with ``retracts``, the retraction of one), its audit entry,
    and, for an officer's, the contact's new assessment when its flags change. The caller commits."""
    message, role = require_annotator(session, actor, message_id)
    topic = _topic(topic)
    if message.direction not in ("in", "out"):
        raise RuleViolation(_("a line the platform wrote is neither party's; it carries no topic"))
    target = None
    if retracts is not None:
        target = _retracted(session, message, role, topic, retracts)
        if age is not None:
            raise InvalidInput(_("a retraction carries no age"), field="age")
        checked_age = None
    else:
        checked_age = _age(topic, age)
    text = checked_text("" if remark is None else remark, "remark", max_chars=MAX_REMARK)
    term = None
    if suggested_term is not None:
        term = checked_text(suggested_term, "suggested_term", max_chars=MAX_TERM, allow_empty=False)
        if target is not None:
            raise InvalidInput(_("a retraction confirms no suggestion"), field="suggested_term")
    contact = _lock_contact(session, message.contact_id)
    row = Annotation(
        operation_id=message.operation_id,
        contact_id=message.contact_id,
        message_id=message.id,  # type: ignore[arg-type]
        topic=topic,
        age=checked_age,
        retracts_id=None if target is None else target.id,
        role=role,
        suggested_term=term,
        remark=text,
        annotated_by=actor.id,
        annotated_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="annotation.create",
        object_type="annotation",
        object_id=row.id,
        operation_id=row.operation_id,
        evidence={"row_sha256": annotation_row_sha256(columns(row))},
        details={
            "message": row.message_id,
            "contact": row.contact_id,
            "topic": topic,
            "age": checked_age,
            "retracts": row.retracts_id,
            "role": role,
            **({"suggested_term": term} if term is not None else {}),
        },
    )
    assessed = None
    if role == OFFICER:
        assessed = assessment.reassess(session, actor, contact, cause="annotation", cause_id=row.id)
    return Annotated(row, assessed)


def dismiss(
    *, session: Session, actor: Actor, message_id: int, topic: object, term: object
) -> SuggestionDismissal:
    """Record an officer's dismissal of a suggestion of the word list (it stays no finding). The caller
    commits. Only the officers who annotate dismiss; a legal officer's remarks are annotations."""
    message, role = require_annotator(session, actor, message_id)
    if role != OFFICER:
        raise Forbidden(_("only the operation's detectives and supervisors decide a suggestion"))
    topic = _topic(topic)
    term = checked_text(term, "term", max_chars=MAX_TERM, allow_empty=False)
    try:
        suggested = current_word_list().suggest(message.body)
    except WordListError as error:
        raise RuleViolation(_("the word list cannot be read: %(problem)s", problem=str(error))) from error
    if not any(found.topic == topic and found.term == term for found in suggested):
        raise RuleViolation(
            _("the word list does not suggest %(topic)s by that term for this message", topic=topic)
        )
    row = SuggestionDismissal(
        operation_id=message.operation_id,
        contact_id=message.contact_id,
        message_id=message.id,  # type: ignore[arg-type]
        topic=topic,
        term=term,
        dismissed_by=actor.id,
        dismissed_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="suggestion.dismiss",
        object_type="suggestion_dismissal",
        object_id=row.id,
        operation_id=row.operation_id,
        evidence={"row_sha256": dismissal_row_sha256(columns(row))},
        details={"message": row.message_id, "contact": row.contact_id, "topic": topic, "term": term},
    )
    return row


def annotations_of(session: Session, message_ids: list[int]) -> dict[int, list[Annotation]]:
    """The annotations of the given messages, by message id, in the order they were made."""
    found: dict[int, list[Annotation]] = {}
    for start in range(0, len(message_ids), 1000):
        rows = session.exec(
            select(Annotation)
            .where(col(Annotation.message_id).in_(message_ids[start : start + 1000]))
            .order_by(col(Annotation.id))
        ).all()
        for row in rows:
            found.setdefault(row.message_id, []).append(row)
    return found


def dismissals_of(session: Session, message_ids: list[int]) -> dict[int, list[SuggestionDismissal]]:
    """The dismissed suggestions of the given messages, by message id."""
    found: dict[int, list[SuggestionDismissal]] = {}
    for start in range(0, len(message_ids), 1000):
        rows = session.exec(
            select(SuggestionDismissal)
            .where(col(SuggestionDismissal.message_id).in_(message_ids[start : start + 1000]))
            .order_by(col(SuggestionDismissal.id))
        ).all()
        for row in rows:
            found.setdefault(row.message_id, []).append(row)
    return found
