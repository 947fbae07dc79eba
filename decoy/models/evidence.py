"""Contacts, messages and attachments: the evidence, append-only."""

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime

#: The flags of the specification, in the order they are shown.
FLAGS = (
    "outside_authorization",
    "profile_not_active",
    "decoy_initiated",
    "officer_not_named",
    "platform_not_permitted",
    "differs_from_export",
    "missing_from_export",
    "decoy_raised_first",
    "persona_age_inconsistent",
    "operation_closed",
)


class Contact(SQLModel, table=True):
    """A counterpart who reached a profile."""

    __tablename__ = "contact"
    __table_args__ = (Index("ix_contact_profile", "profile_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    profile_id: int = Field(foreign_key="profile.id")
    counterpart: str = Field(sa_column=Column(Text, nullable=False))
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recorded_by: int = Field(foreign_key="user_account.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)


class Message(SQLModel, table=True):
    """One event of a conversation, verbatim; a correction is a new message referencing the old one."""

    __tablename__ = "message"
    __table_args__ = (
        Index("ix_message_contact_order", "contact_id", "sent_at", "id"),
        # Whether an incoming message precedes a moment (the decoy_initiated flag), in O(log n).
        Index("ix_message_contact_direction", "contact_id", "direction", "sent_at"),
        Index("ix_message_contact_platform_id", "contact_id", "platform_message_id"),
        # Which messages a page's messages are corrected by, without scanning the contact.
        Index("ix_message_corrects", "corrects_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    contact_id: int = Field(foreign_key="contact.id")
    #: "in", "out", or "system" (a line the platform wrote, e.g. an encryption notice, in an import).
    direction: str = Field(max_length=6)
    sent_at: datetime = Field(sa_type=UTCDateTime)
    sent_offset_minutes: int = Field(default=0)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    recorded_by: int = Field(foreign_key="user_account.id")
    body: str = Field(sa_column=Column(Text, nullable=False))
    #: The SHA-256 of the text; emptied with the text by a disposal of a text recorded with a commitment.
    body_sha256: str = Field(max_length=64)
    #: The random key of the text's commitment (hex), emptied by a disposal; None: recorded before
    #: commitments.
    body_salt: str | None = Field(default=None, max_length=64)
    #: HMAC-SHA256 of the text under ``body_salt`` (hex): what the audit entry and the row hash carry.
    body_commitment: str | None = Field(default=None, max_length=64)
    corrects_id: int | None = Field(default=None, foreign_key="message.id")
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Provenance (all None for a message typed into Decoy outside a capture session).
    capture_session_id: int | None = Field(default=None, foreign_key="capture_session.id")
    operated_by: int | None = Field(default=None, foreign_key="user_account.id")
    import_id: int | None = Field(default=None, foreign_key="message_import.id")
    #: Where in the import's file the message is ("line 12", "messages[3]").
    source: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    platform_message_id: str | None = Field(default=None, max_length=255)
    #: The zone a time without an offset was read in.
    assumed_timezone: str | None = Field(default=None, max_length=64)


class Attachment(SQLModel, table=True):
    """A captured file, stored content-addressed by SHA-256."""

    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    sha256: str = Field(max_length=64, index=True)
    size: int
    media_type: str = Field(max_length=100)
    filename: str = Field(default="", max_length=255)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
