"""The initiative record of a contact as a bundle holds it (``contacts/<id>/initiative.json``): the sheet,
every annotation (retractions and legal officers' remarks included), every dismissed suggestion and
every recorded assessment, each with the account ids its row hash covers and the names shown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from audit.entry import format_time

from ..models import Contact
from ..models.initiative import Annotation, ContactAssessment, SuggestionDismissal
from . import assessment

Names = Callable[[int | None, datetime | None], str | None]


def initiative_record(session: Session, contact: Contact, names: Names) -> dict[str, Any]:
    """The contact's initiative record for a bundle; times in UTC as the row hashes write them."""
    contact_id: int = contact.id  # type: ignore[assignment]
    sheet, _annotations, _messages = assessment.sheet_of(session, contact_id)
    annotations = session.exec(
        select(Annotation).where(Annotation.contact_id == contact_id).order_by(col(Annotation.id))
    ).all()
    dismissals = session.exec(
        select(SuggestionDismissal)
        .where(SuggestionDismissal.contact_id == contact_id)
        .order_by(col(SuggestionDismissal.id))
    ).all()
    assessments = session.exec(
        select(ContactAssessment)
        .where(ContactAssessment.contact_id == contact_id)
        .order_by(col(ContactAssessment.id))
    ).all()
    return {
        "contact_id": contact_id,
        "sheet": sheet,
        "flags": list(assessments[-1].flags) if assessments else [],
        "annotations": [
            {
                "id": a.id,
                "operation_id": a.operation_id,
                "contact_id": a.contact_id,
                "message_id": a.message_id,
                "topic": a.topic,
                "age": a.age,
                "retracts_id": a.retracts_id,
                "role": a.role,
                "suggested_term": a.suggested_term,
                "remark": a.remark,
                "annotated_by": a.annotated_by,
                "by": names(a.annotated_by, a.annotated_at),
                "annotated_at": format_time(a.annotated_at),
            }
            for a in annotations
        ],
        "dismissals": [
            {
                "id": d.id,
                "operation_id": d.operation_id,
                "contact_id": d.contact_id,
                "message_id": d.message_id,
                "topic": d.topic,
                "term": d.term,
                "dismissed_by": d.dismissed_by,
                "by": names(d.dismissed_by, d.dismissed_at),
                "dismissed_at": format_time(d.dismissed_at),
            }
            for d in dismissals
        ],
        "assessments": [
            {
                "id": a.id,
                "operation_id": a.operation_id,
                "contact_id": a.contact_id,
                "cause": a.cause,
                "cause_id": a.cause_id,
                "basis_message_id": a.basis_message_id,
                "flags": list(a.flags),
                "raised_first": list(a.raised_first),
                "message_flags": dict(a.message_flags),
                "sheet": a.sheet,
                "assessed_at": format_time(a.assessed_at),
            }
            for a in assessments
        ],
    }


def current_flags_of_contact(
    session: Session, contact_id: int
) -> Callable[[Any, list[str] | tuple[str, ...]], list[str]]:
    """A function giving a message of the contact its flags now, from its recorded flags and those found
    later (an import's reconciliation): the contact's latest assessment is read once."""
    found = assessment.latest(session, contact_id)

    def now(message: Any, later: list[str] | tuple[str, ...]) -> list[str]:
        considered = (
            found is not None
            and found.basis_message_id is not None
            and message.id is not None
            and message.id <= found.basis_message_id
        )
        assessed = found.message_flags.get(str(message.id), []) if considered else None  # type: ignore[union-attr]
        return assessment.flags_now(message.flags, assessed, later)

    return now
