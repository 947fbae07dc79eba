"""The initiative record: officers' annotations of the topics a message carries, the suggestions they
dismissed, and the contact's recorded assessments of who raised what first; all append-only."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from audit.evidence_bundle.initiative import INCITEMENT_TOPICS, LEGAL, OFFICER, TOPICS

from ..db import UTCDateTime

__all__ = [
    "ASSESSMENT_CAUSES", "INCITEMENT_TOPICS", "LEGAL", "OFFICER", "TOPICS", "Annotation", "ContactAssessment",
    "SuggestionDismissal",
]

#: Why a contact was assessed again.
ASSESSMENT_CAUSES = ("annotation", "message", "import")


class Annotation(SQLModel, table=True):
    """An officer's mark that a message carries a topic; a retraction is a new annotation naming it."""

    __tablename__ = "annotation"
    __table_args__ = (
        Index("ix_annotation_contact", "contact_id", "id"),
        Index("ix_annotation_message", "message_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    contact_id: int = Field(foreign_key="contact.id")
    message_id: int = Field(foreign_key="message.id")
    topic: str = Field(max_length=24)
    #: The age stated (topic ``age_stated`` only).
    age: int | None = Field(default=None)
    #: The annotation this one retracts (same message and topic).
    retracts_id: int | None = Field(default=None, foreign_key="annotation.id")
    #: ``officer`` or ``legal`` (a legal officer's review remark).
    role: str = Field(max_length=12)
    #: The word list's term, when the annotation confirms a suggestion.
    suggested_term: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    remark: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    annotated_by: int = Field(foreign_key="user_account.id")
    annotated_at: datetime = Field(sa_type=UTCDateTime)


class SuggestionDismissal(SQLModel, table=True):
    """An officer's decision that a suggestion of the word list is not a finding."""

    __tablename__ = "suggestion_dismissal"
    __table_args__ = (Index("ix_suggestion_dismissal_message", "message_id", "topic"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    message_id: int = Field(foreign_key="message.id")
    topic: str = Field(max_length=24)
    term: str = Field(sa_column=Column(Text, nullable=False))
    dismissed_by: int = Field(foreign_key="user_account.id")
    dismissed_at: datetime = Field(sa_type=UTCDateTime)


class ContactAssessment(SQLModel, table=True):
    """One recorded assessment of a contact's initiative flags; the latest is the current one (rule 8)."""

    __tablename__ = "contact_assessment"
    __table_args__ = (Index("ix_contact_assessment_contact", "contact_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    contact_id: int = Field(foreign_key="contact.id")
    #: ``annotation``, ``message`` (recorded late) or ``import``.
    cause: str = Field(max_length=24)
    #: The annotation, message or import that caused it.
    cause_id: int | None = Field(default=None)
    #: The highest message id the assessment considered; later messages keep their recorded flags.
    basis_message_id: int | None = Field(default=None)
    #: The contact's assessed flags (``decoy_raised_first``, ``persona_age_inconsistent``).
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: The topics the decoy raised first.
    raised_first: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: The assessed flags of each message that carries one: {"<message id>": [flag, ...]}.
    message_flags: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: The initiative sheet as assessed.
    sheet: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    assessed_at: datetime = Field(sa_type=UTCDateTime)
