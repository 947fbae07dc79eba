"""How evidence reached Decoy: capture sessions, imports of a platform's own export, and the
reconciliation of hand-typed messages with such an export; all append-only."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime

#: The tools a capture session names besides an import format (an API client names itself).
MANUAL_TOOL = "manual"
#: The import formats (spec "Import").
IMPORT_FORMATS = ("whatsapp", "telegram", "instagram", "decoy")
#: What a reconciliation found for a hand-typed message: the export confirms it, says otherwise, or lacks it.
CONFIRMED = "confirmed"
DIFFERS = "differs_from_export"
MISSING = "missing_from_export"
RECONCILIATION_OUTCOMES = (CONFIRMED, DIFFERS, MISSING)


class CaptureSession(SQLModel, table=True):
    """A period in which one officer operates one profile, on a named device with a named tool."""

    __tablename__ = "capture_session"
    __table_args__ = (Index("ix_capture_session_profile", "profile_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    profile_id: int = Field(foreign_key="profile.id")
    operated_by: int = Field(foreign_key="user_account.id")
    device: str = Field(max_length=200)
    tool: str = Field(max_length=100)
    started_at: datetime = Field(sa_type=UTCDateTime)


class CaptureSessionEnd(SQLModel, table=True):
    """The end of a capture session, with the officer's statement of completeness and the gaps known."""

    __tablename__ = "capture_session_end"

    capture_session_id: int = Field(foreign_key="capture_session.id", primary_key=True)
    ended_by: int = Field(foreign_key="user_account.id")
    ended_at: datetime = Field(sa_type=UTCDateTime)
    completeness_statement: str = Field(sa_column=Column(Text, nullable=False))
    known_gaps: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class MessageImport(SQLModel, table=True):
    """A platform's export file imported into one contact: the file's hash and what it added."""

    __tablename__ = "message_import"
    __table_args__ = (
        UniqueConstraint("contact_id", "sha256", name="uq_message_import_contact_file"),
        Index("ix_message_import_contact", "contact_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    contact_id: int = Field(foreign_key="contact.id")
    format: str = Field(max_length=20)
    sha256: str = Field(max_length=64)
    size: int = Field(sa_type=BigInteger)
    filename: str = Field(default="", max_length=255)
    decoy_name: str = Field(sa_column=Column(Text, nullable=False))
    chat: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: The zone the export's times without an offset were read in (None when every time had one).
    assumed_timezone: str | None = Field(default=None, max_length=64)
    capture_session_id: int | None = Field(default=None, foreign_key="capture_session.id")
    imported_by: int = Field(foreign_key="user_account.id")
    imported_at: datetime = Field(sa_type=UTCDateTime)


class MessageImportResult(SQLModel, table=True):
    """What an import added and found, written with its last messages: an import without one is
    unfinished (the same file again resumes it)."""

    __tablename__ = "message_import_result"

    import_id: int = Field(foreign_key="message_import.id", primary_key=True)
    completed_at: datetime = Field(sa_type=UTCDateTime)
    first_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    exported: int
    added: int
    duplicates: int
    differences: int
    system_lines: int


class ExportReconciliation(SQLModel, table=True):
    """What an import said of a hand-typed message: confirmed, differs_from_export or missing_from_export."""

    __tablename__ = "export_reconciliation"
    __table_args__ = (Index("ix_export_reconciliation_message", "message_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="message_import.id", index=True)
    message_id: int = Field(foreign_key="message.id")
    outcome: str = Field(max_length=24)
    #: The export's message it was compared with (added by the import), where there is one.
    export_message_id: int | None = Field(default=None, foreign_key="message.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)
