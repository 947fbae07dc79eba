"""Results of integrity verification runs (a plain table: the runs themselves are audit entries too)."""

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime


class VerificationRun(SQLModel, table=True):
    """One full verification of the audit log and the evidence it covers."""

    __tablename__ = "verification_run"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime = Field(sa_type=UTCDateTime)
    ok: bool
    entries: int
    checkpoints: int
    first_bad_index: int | None = Field(default=None)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    trigger: str = Field(max_length=16)
    actor: str = Field(max_length=64)
