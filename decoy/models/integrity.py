"""Results of integrity verification runs (a plain table: the runs themselves are audit entries too)."""

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text
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


class CheckpointCosignature(SQLModel, table=True):
    """A witness's cosignature of a signed checkpoint (c2sp.org/tlog-cosignature), as the witness answered
    it and after it was checked against the witness's key. Append-only."""

    __tablename__ = "checkpoint_cosignature"
    __table_args__ = (
        # One cosignature per witness and checkpoint, however many times it is shown.
        Index("ix_checkpoint_cosignature_once", "checkpoint_id", "witness", unique=True),
        Index("ix_checkpoint_cosignature_witness", "witness", "size"),
    )

    id: int | None = Field(default=None, primary_key=True)
    checkpoint_id: int
    #: The witness's verifier key (name+id+key), as DECOY_WITNESSES names it.
    witness: str = Field(max_length=300)
    size: int
    #: The time the witness put in its cosignature.
    cosigned_at: datetime = Field(sa_type=UTCDateTime)
    #: The signature line, verbatim (``— name base64``).
    line: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(sa_type=UTCDateTime)


class WitnessRefusal(SQLModel, table=True):
    """A witness refused a checkpoint: its log view does not extend to it (a fork), or it does not accept
    the log's signature. The most serious event the log can have. Append-only."""

    __tablename__ = "witness_refusal"

    id: int | None = Field(default=None, primary_key=True)
    checkpoint_id: int = Field(index=True)
    witness: str = Field(max_length=300)
    size: int
    status: int
    #: What the witness answered (its first 2,000 characters).
    answer: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_type=UTCDateTime)


class CheckpointTimestamp(SQLModel, table=True):
    """A time-stamp authority's token (RFC 3161) for a signed checkpoint's text, checked on receipt
    (its hash, its nonce, its signer's chain). Append-only."""

    __tablename__ = "checkpoint_timestamp"
    __table_args__ = (Index("ix_checkpoint_timestamp_once", "checkpoint_id", "authority", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    checkpoint_id: int
    #: The authority's URL, as DECOY_TSA_URL names it.
    authority: str = Field(max_length=500)
    #: The time-stamp response, DER (a bundle carries it as ``audit/checkpoint.tsr``).
    token: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    #: The time the authority stamped (its genTime).
    stamped_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)
