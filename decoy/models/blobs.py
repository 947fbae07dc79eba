"""Attachments kept inside the database: a header row per file, its content in ~1 MiB chunks."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, LargeBinary, String
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime


class EvidenceBlob(SQLModel, table=True):
    """One stored file: its SHA-256, size, media type and how many chunks hold it.

    ``id`` is never reused (AUTOINCREMENT on SQLite, a sequence on PostgreSQL), so that a release
    names one stored copy and not a later copy of the same content.
    """

    __tablename__ = "evidence_blob"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True)
    size: int = Field(sa_type=BigInteger)
    chunk_size: int
    chunk_count: int
    media_type: str = Field(max_length=100)
    stored_at: datetime = Field(sa_type=UTCDateTime)


class EvidenceBlobChunk(SQLModel, table=True):
    """One piece of a stored file, in order (``seq`` from 0)."""

    __tablename__ = "evidence_blob_chunk"

    sha256: str = Field(
        sa_column=Column(String(64), ForeignKey("evidence_blob.sha256"), primary_key=True)
    )
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    data: bytes = Field(sa_type=LargeBinary)


class EvidenceBlobRelease(SQLModel, table=True):
    """The record that a stored copy was verified in the file store and may be removed from the database.

    The database refuses to delete a blob or its chunks unless a release names that copy.
    """

    __tablename__ = "evidence_blob_release"

    id: int | None = Field(default=None, primary_key=True)
    blob_id: int = Field(index=True)
    sha256: str = Field(max_length=64)
    destination: str = Field(max_length=16)
    released_by: str = Field(max_length=64)
    released_at: datetime = Field(sa_type=UTCDateTime)
