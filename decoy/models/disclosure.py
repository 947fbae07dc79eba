"""Disclosure: the officers' verbalisant codes and their history, legal officers' decisions on what a
disclosure may show, the internal journal, redacted copies of attachments and signed reports; all
append-only."""

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime

__all__ = [
    "CLASSES", "DEFAULT_CLASS", "ITEM_KINDS", "DisclosureDecision", "JournalNote", "Redaction",
    "SignedReport", "VerbalisantAssignment",
]

#: The disclosure classes (SPEC "Disclosure class").
CLASSES = ("case_file", "journal", "withheld", "sensitive")
#: What a disclosure decision may be about, with the class each has until a decision changes it.
DEFAULT_CLASS = {"contact": "case_file", "message": "case_file", "attachment": "case_file", "note": "journal"}
ITEM_KINDS = tuple(DEFAULT_CLASS)


class VerbalisantAssignment(SQLModel, table=True):
    """That an officer has a verbalisant code from a moment on (until their next assignment).

    The account's current code is also on ``user_account.verbalisant_code``; these rows are the history a
    court can be told under seal. A code belongs to one account for ever.
    """

    __tablename__ = "verbalisant_assignment"
    __table_args__ = (Index("ix_verbalisant_assignment_user", "user_id", "assigned_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id")
    code: str = Field(max_length=32, index=True)
    assigned_by: int | None = Field(default=None, foreign_key="user_account.id")
    assigned_at: datetime = Field(sa_type=UTCDateTime)


class DisclosureDecision(SQLModel, table=True):
    """A legal officer's decision of the class of a contact, message, attachment or journal note; the
    latest decision of an item is its class."""

    __tablename__ = "disclosure_decision"
    __table_args__ = (Index("ix_disclosure_decision_item", "item_kind", "item_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    #: ``contact``, ``message``, ``attachment`` or ``note``.
    item_kind: str = Field(max_length=12)
    item_id: int
    disclosure_class: str = Field(max_length=12)
    #: The legal ground of withholding (e.g. "art. 149b Sv"); required for ``withheld``.
    ground: str | None = Field(default=None, max_length=200)
    #: The reference of the decision that withholds (required for ``withheld``).
    decision_reference: str | None = Field(default=None, max_length=200)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    decided_by: int = Field(foreign_key="user_account.id")
    decided_at: datetime = Field(sa_type=UTCDateTime)


class JournalNote(SQLModel, table=True):
    """An officer's internal note on an operation or one of its contacts; class ``journal`` until a legal
    officer decides otherwise."""

    __tablename__ = "journal_note"
    __table_args__ = (Index("ix_journal_note_operation", "operation_id", "contact_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id")
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    body: str = Field(sa_column=Column(Text, nullable=False))
    body_sha256: str = Field(max_length=64)
    #: As a message's: the commitment's key (emptied by a disposal) and the commitment.
    body_salt: str | None = Field(default=None, max_length=64)
    body_commitment: str | None = Field(default=None, max_length=64)
    written_by: int = Field(foreign_key="user_account.id")
    written_at: datetime = Field(sa_type=UTCDateTime)


class Redaction(SQLModel, table=True):
    """A redacted copy of an attachment (faces or a third party blurred), which a bundle carries in the
    original's place."""

    __tablename__ = "redaction"

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    attachment_id: int = Field(foreign_key="attachment.id", index=True)
    sha256: str = Field(max_length=64)
    size: int
    media_type: str = Field(max_length=255)
    filename: str = Field(max_length=255)
    #: What was redacted and why.
    statement: str = Field(sa_column=Column(Text, nullable=False))
    made_by: int = Field(foreign_key="user_account.id")
    made_at: datetime = Field(sa_type=UTCDateTime)


class SignedReport(SQLModel, table=True):
    """The proces-verbaal of a contact as the officer signed it outside Decoy, uploaded as a PDF."""

    __tablename__ = "signed_report"
    __table_args__ = (UniqueConstraint("contact_id", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    sha256: str = Field(max_length=64)
    size: int
    filename: str = Field(max_length=255)
    uploaded_by: int = Field(foreign_key="user_account.id")
    uploaded_at: datetime = Field(sa_type=UTCDateTime)
