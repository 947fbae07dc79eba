"""Safeguarding: the case opened when a real child or a presumed victim appears in an operation, the
actions taken for them, the case's closing with its outcome, and every opening of sensitive material; all
append-only."""

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime

__all__ = [
    "ACTION_KINDS", "OPENING_CATEGORIES", "PROTECTIVE_ACTIONS", "SAFEGUARDING_TRIGGERS", "SafeguardingAction",
    "SafeguardingCase", "SafeguardingClosure", "SensitiveOpening",
]

#: The contact categories whose choice opens a case.
OPENING_CATEGORIES = ("real_minor", "presumed_victim")
#: What opened a case: one of those categories, or an officer's confirmation of a trafficking signal.
SAFEGUARDING_TRIGGERS = (*OPENING_CATEGORIES, "trafficking_signal")
#: The actions that answer a case in time: a care report (e.g. to Veilig Thuis), a trafficking notice
#: (e.g. to the national coordination centre), a hand-over to the youth or the vice unit, contact with the
#: child's guardians, or another protective step (described in its note).
PROTECTIVE_ACTIONS = (
    "care_report", "trafficking_notice", "handover_youth", "handover_vice", "guardian_contact", "other",
)
#: Every action kind: the protective ones, and a further trafficking signal confirmed while the case is open.
ACTION_KINDS = (*PROTECTIVE_ACTIONS, "trafficking_signal")


class SafeguardingCase(SQLModel, table=True):
    """A safeguarding case of a contact: why it opened, by whom, and by when a protective action is due."""

    __tablename__ = "safeguarding_case"
    __table_args__ = (Index("ix_safeguarding_case_contact", "contact_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    contact_id: int = Field(foreign_key="contact.id")
    #: ``real_minor``, ``presumed_victim`` or ``trafficking_signal``.
    cause: str = Field(max_length=24)
    #: The change of category that opened it, or the message whose trafficking signal was confirmed.
    category_change_id: int | None = Field(default=None, foreign_key="contact_category_change.id")
    message_id: int | None = Field(default=None, foreign_key="message.id")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    opened_by: int = Field(foreign_key="user_account.id")
    opened_at: datetime = Field(sa_type=UTCDateTime)
    #: When the first protective action is due (SAFEGUARDING_DUE_HOURS after opening).
    due_at: datetime = Field(sa_type=UTCDateTime)


class SafeguardingAction(SQLModel, table=True):
    """One action of a case, with its reference (the report's or notice's number, the receiving unit's
    case number)."""

    __tablename__ = "safeguarding_action"
    __table_args__ = (Index("ix_safeguarding_action_case", "case_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="safeguarding_case.id")
    operation_id: int = Field(foreign_key="operation.id", index=True)
    kind: str = Field(max_length=24)
    reference: str = Field(max_length=200)
    note: str = Field(sa_column=Column(Text, nullable=False))
    #: When the action was taken (it may precede its recording).
    taken_at: datetime = Field(sa_type=UTCDateTime)
    recorded_by: int = Field(foreign_key="user_account.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)


class SafeguardingClosure(SQLModel, table=True):
    """The closing of a case, with its outcome; a case closes once."""

    __tablename__ = "safeguarding_closure"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="safeguarding_case.id", unique=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    outcome: str = Field(sa_column=Column(Text, nullable=False))
    closed_by: int = Field(foreign_key="user_account.id")
    closed_at: datetime = Field(sa_type=UTCDateTime)


class SensitiveOpening(SQLModel, table=True):
    """That an officer opened a sensitive attachment, and why."""

    __tablename__ = "sensitive_opening"
    __table_args__ = (Index("ix_sensitive_opening_attachment", "attachment_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    attachment_id: int = Field(foreign_key="attachment.id")
    operation_id: int = Field(foreign_key="operation.id", index=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    opened_by: int = Field(foreign_key="user_account.id")
    opened_at: datetime = Field(sa_type=UTCDateTime)
