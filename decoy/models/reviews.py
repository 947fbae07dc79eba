"""Legal reviews, their decisions, automatic enforcement actions, notifications and the e-mail outbox.

Reviews, decisions and enforcement actions are append-only (database triggers): a review's status is
derived from its due time and its decision, never stored. Each row that must happen once carries a
unique key, so that a missed run, a restart or a second scheduler cannot make it happen twice.
"""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime


class ReviewKind(enum.StrEnum):
    """Why a review exists."""

    periodic = "periodic"
    before_expiry = "before_expiry"
    triggered = "triggered"


class ReviewStatus(enum.StrEnum):
    """A review's derived status; ``superseded`` when an extension replaced its authorization undecided."""

    pending = "pending"
    overdue = "overdue"
    done = "done"
    superseded = "superseded"


class Decision(enum.StrEnum):
    """What a legal officer decided."""

    continue_ = "continue"
    amend = "amend"
    suspend = "suspend"
    terminate = "terminate"


class Review(SQLModel, table=True):
    """A scheduled or triggered legal check of an operation under one authorization; append-only."""

    __tablename__ = "review"
    __table_args__ = (Index("ix_review_operation_due", "operation_id", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(120), unique=True, nullable=False))
    operation_id: int = Field(foreign_key="operation.id")
    authorization_id: int = Field(foreign_key="legal_authorization.id", index=True)
    kind: str = Field(max_length=16)
    trigger: str = Field(default="", max_length=32)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    flag: str = Field(default="", max_length=40)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ReviewDecision(SQLModel, table=True):
    """The one decision on a review: continue, amend, suspend or terminate; append-only."""

    __tablename__ = "review_decision"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", sa_column_kwargs={"unique": True})
    decision: str = Field(max_length=16)
    rationale: str = Field(sa_column=Column(Text, nullable=False))
    decided_by: int = Field(foreign_key="user_account.id")
    decided_at: datetime = Field(sa_type=UTCDateTime)
    profiles: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class EnforcementAction(SQLModel, table=True):
    """One automatic action of the system under a rule (lapse, overdue review); happens once by its key."""

    __tablename__ = "enforcement_action"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(120), unique=True, nullable=False))
    rule: str = Field(max_length=40)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    authorization_id: int = Field(foreign_key="legal_authorization.id")
    review_id: int | None = Field(default=None, foreign_key="review.id")
    at: datetime = Field(sa_type=UTCDateTime)
    profiles: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Notification(SQLModel, table=True):
    """A notice to one person, shown in the app (and e-mailed through the outbox); once per key and person."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("key", "user_id", name="uq_notification_key_user"),
        Index("ix_notification_user", "user_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160)
    user_id: int = Field(foreign_key="user_account.id")
    kind: str = Field(max_length=32)
    operation_id: int | None = Field(default=None, foreign_key="operation.id")
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    link: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxEmail(SQLModel, table=True):
    """An e-mail waiting to be sent, with its retries; a failing server delays it, never loses it."""

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_email_outbox_due", "sent_at", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int | None = Field(
        default=None, foreign_key="notification.id", sa_column_kwargs={"unique": True}
    )
    recipient: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
