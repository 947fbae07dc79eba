"""The JSON shapes of the initiative record: annotating a message, deciding a suggestion, the sheet."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..models.initiative import TOPICS
from ..models.schemas import Input, Output, UtcMoment, one_of, text
from .annotations import MAX_AGE, MAX_REMARK, MAX_TERM, MIN_AGE


class AnnotationCreate(Input):
    """An annotation of the message (or, with ``retracts``, the retraction of one)."""

    topic: one_of(TOPICS) = Field(description="the topic the message carries")
    age: int | None = Field(
        default=None, ge=MIN_AGE, le=MAX_AGE, description="the age stated (topic age_stated only)"
    )
    retracts: int | None = Field(
        default=None, ge=1, description="the id of the annotation of this message this one retracts"
    )
    remark: text(MAX_REMARK) | None = Field(default=None, description="a note; a legal officer's remark")
    suggested_term: str | None = Field(
        default=None,
        max_length=MAX_TERM,
        description="the word list's term, when the annotation confirms a suggestion",
    )


class SuggestionDismissalCreate(Input):
    """An officer's dismissal of a suggestion of the word list."""

    topic: one_of(TOPICS) = Field(description="the suggested topic")
    term: str = Field(min_length=1, max_length=MAX_TERM, description="the word list's term that matched")


class AnnotationPublic(Output):
    """An annotation: which message, the topic, who (``by``) and when (``at``), in which capacity."""

    id: int
    message_id: int
    contact_id: int
    topic: str
    age: int | None
    retracts: int | None
    retracted_by: int | None
    role: str
    suggested_term: str | None
    remark: str
    by: str
    at: UtcMoment


class AnnotationRecorded(AnnotationPublic):
    """A new annotation, with the assessment it caused (null when the contact's flags did not change)."""

    assessment: int | None
    contact_flags: list[str]


class DismissalPublic(Output):
    """A dismissed suggestion."""

    id: int
    message_id: int
    topic: str
    term: str
    by: str
    at: UtcMoment


class FirstRaised(Output):
    """Who raised a topic first, in which message and when (the platform's time with its offset)."""

    first_by: str = Field(description='"decoy" or "counterpart"')
    message_id: int
    at: str
    annotation_id: int
    age: int | None = Field(default=None, description="the age stated (age_stated only)")


class InitiativeSheet(Output):
    """The contact's initiative sheet: per topic who raised it first, from confirmed annotations."""

    contact_id: int
    topics: dict[str, FirstRaised | None]
    age_to_meeting_seconds: int | None = Field(
        description="from the first age_stated to the first meeting_proposed, by platform time"
    )
    raised_first: list[str] = Field(description="the incitement topics the decoy raised first")
    flags: list[str] = Field(description="the contact's assessed flags now")
    assessment: int | None = Field(description="the current recorded assessment")
    annotations: int = Field(description="how many annotations the contact has, retractions included")
    remarks: list[dict[str, Any]] = Field(description="legal officers' review remarks, shown apart")


class AssessmentPublic(Output):
    """One recorded assessment of a contact's flags."""

    id: int
    contact_id: int
    cause: str
    cause_id: int | None
    basis_message_id: int | None
    flags: list[str]
    raised_first: list[str]
    message_flags: dict[str, list[str]]
    assessed_at: UtcMoment


class AnnotationList(Output):
    """A message's annotations, oldest first."""

    items: list[AnnotationPublic]


class AssessmentList(Output):
    """A contact's recorded assessments, oldest first; the last is the current one."""

    items: list[AssessmentPublic]
