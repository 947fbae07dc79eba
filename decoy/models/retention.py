"""Retention: legal holds on an operation or a contact and their lifting, and the outcome of a suspect's
case (which sets how long their data is kept); all append-only."""

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime

__all__ = [
    "CASE_OUTCOMES", "ContactOutcome", "Disposal", "DisposalApproval", "DisposalTombstone", "LegalHold",
    "LegalHoldLift",
]

#: How a suspect's case ended: convicted, acquitted, dismissed by the public prosecutor (sepot), settled
#: out of court (transactie or strafbeschikking), or no prosecution started.
CASE_OUTCOMES = ("convicted", "acquitted", "dismissed", "settled", "not_prosecuted")


class LegalHold(SQLModel, table=True):
    """A legal hold on an operation (every contact of it) or on one contact: nothing under it is disposed of
    until it is lifted."""

    __tablename__ = "legal_hold"
    __table_args__ = (Index("ix_legal_hold_contact", "contact_id"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    #: The contact held, or None for the whole operation.
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    set_by: int = Field(foreign_key="user_account.id")
    set_at: datetime = Field(sa_type=UTCDateTime)


class LegalHoldLift(SQLModel, table=True):
    """The lifting of a legal hold, with its reason; a hold is lifted once."""

    __tablename__ = "legal_hold_lift"

    id: int | None = Field(default=None, primary_key=True)
    hold_id: int = Field(foreign_key="legal_hold.id", unique=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    lifted_by: int = Field(foreign_key="user_account.id")
    lifted_at: datetime = Field(sa_type=UTCDateTime)


class ContactOutcome(SQLModel, table=True):
    """How the case of a suspect (a contact) ended, with the decision's reference; the latest is the
    contact's outcome."""

    __tablename__ = "contact_outcome"
    __table_args__ = (Index("ix_contact_outcome_contact", "contact_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    contact_id: int = Field(foreign_key="contact.id")
    outcome: str = Field(max_length=20)
    reference: str = Field(max_length=200)
    #: When the outcome became final (the judgment, the dismissal): retention is counted from it.
    decided_at: datetime = Field(sa_type=UTCDateTime)
    recorded_by: int = Field(foreign_key="user_account.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)


class Disposal(SQLModel, table=True):
    """A legal officer's request to dispose of a contact's content, with the reason and the decision's
    reference; it takes effect when another legal officer approves it."""

    __tablename__ = "disposal"
    __table_args__ = (Index("ix_disposal_contact", "contact_id"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    contact_id: int = Field(foreign_key="contact.id")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    decision_reference: str = Field(max_length=200)
    requested_by: int = Field(foreign_key="user_account.id")
    requested_at: datetime = Field(sa_type=UTCDateTime)


class DisposalApproval(SQLModel, table=True):
    """The second legal officer's approval of a disposal; the content is removed in the same transaction."""

    __tablename__ = "disposal_approval"

    id: int | None = Field(default=None, primary_key=True)
    disposal_id: int = Field(foreign_key="disposal.id", unique=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    approved_by: int = Field(foreign_key="user_account.id")
    approved_at: datetime = Field(sa_type=UTCDateTime)


class DisposalTombstone(SQLModel, table=True):
    """What a disposal removed: the kind of item, its id and the SHA-256 of the removed content."""

    __tablename__ = "disposal_tombstone"
    __table_args__ = (Index("ix_disposal_tombstone_item", "item_kind", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    disposal_id: int = Field(foreign_key="disposal.id", index=True)
    #: ``message`` (its text), ``note`` (a journal note's text), ``attachment`` or ``import`` (a file).
    item_kind: str = Field(max_length=16)
    item_id: int
    sha256: str = Field(max_length=64)
