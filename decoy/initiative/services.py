"""Reading the initiative record: a contact's sheet, annotations and assessments (access checked here).

Reading them is not an audit entry: like the flags they are findings about the evidence, derived from
rows that each have their own entry, and they show no message text.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from .. import access
from ..access import Actor
from ..evidence.transcript import usernames
from ..models import MAX_ID, Contact
from ..models.initiative import LEGAL, Annotation, ContactAssessment
from . import assessment
from .annotations import visible_message


def visible_contact(session: Session, actor: Actor, contact_id: int) -> Contact:
    """The contact, or NotFound when it does not exist or ``actor`` may not see it."""
    found = session.get(Contact, contact_id) if 0 < contact_id <= MAX_ID else None
    return access.require_visible(session, actor, found, "contact")  # type: ignore[no-any-return]


def annotation_json(
    row: Annotation, names: dict[int, str], retracted_by: int | None = None
) -> dict[str, Any]:
    """An annotation as the API and the bundle show it."""
    return {
        "id": row.id,
        "message_id": row.message_id,
        "contact_id": row.contact_id,
        "topic": row.topic,
        "age": row.age,
        "retracts": row.retracts_id,
        "retracted_by": retracted_by,
        "role": row.role,
        "suggested_term": row.suggested_term,
        "remark": row.remark,
        "by": names.get(row.annotated_by, ""),
        "at": row.annotated_at,
    }


def retractions(rows: list[Annotation]) -> dict[int, int]:
    """Which annotation retracts each retracted one, among ``rows``."""
    return {row.retracts_id: row.id for row in rows if row.retracts_id is not None and row.id is not None}


def read_sheet(session: Session, actor: Actor, contact_id: int) -> dict[str, Any]:
    """The contact's initiative sheet now, its assessed flags, and the legal officers' remarks."""
    contact = visible_contact(session, actor, contact_id)
    sheet = assessment.current_sheet(session, contact_id)
    found = assessment.latest(session, contact_id)
    count = session.exec(select(func.count()).where(Annotation.contact_id == contact_id)).one()
    remarks = list(
        session.exec(
            select(Annotation)
            .where(Annotation.contact_id == contact_id, Annotation.role == LEGAL)
            .order_by(col(Annotation.id))
        ).all()
    )
    names = usernames(session, {row.annotated_by for row in remarks})
    withdrawn = retractions(remarks)
    return {
        "contact_id": contact.id,
        "topics": sheet["topics"],
        "age_to_meeting_seconds": sheet["age_to_meeting_seconds"],
        "raised_first": sheet["raised_first"],
        "flags": [] if found is None else list(found.flags),
        "assessment": None if found is None else found.id,
        "annotations": int(count),
        "remarks": [
            annotation_json(row, names, withdrawn.get(row.id))  # type: ignore[arg-type]
            for row in remarks
            if row.retracts_id is None
        ],
    }


def read_annotations(
    session: Session, actor: Actor, message_id: int
) -> tuple[list[Annotation], dict[int, str]]:
    """The message's annotations in the order they were made, and the usernames they name."""
    message = visible_message(session, actor, message_id)
    rows = list(
        session.exec(
            select(Annotation).where(Annotation.message_id == message.id).order_by(col(Annotation.id))
        ).all()
    )
    return rows, usernames(session, {row.annotated_by for row in rows})


def read_assessments(session: Session, actor: Actor, contact_id: int) -> list[ContactAssessment]:
    """Every recorded assessment of the contact, oldest first."""
    visible_contact(session, actor, contact_id)
    return list(
        session.exec(
            select(ContactAssessment)
            .where(ContactAssessment.contact_id == contact_id)
            .order_by(col(ContactAssessment.id))
        ).all()
    )
