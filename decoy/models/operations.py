"""Operations, their members, authorizations (never edited) and decoy profiles with their history."""

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime


class OperationStatus(enum.StrEnum):
    """The life of an operation."""

    planned = "planned"
    active = "active"
    suspended = "suspended"
    closed = "closed"


class AuthorizationKind(enum.StrEnum):
    """The legal form of an authorization, as the law names it.

    ``written_order`` is the kind of orders registered before these names; a migration gave the law's
    kind to those whose issuing authority says it, and new orders cannot be registered with it.
    """

    ovj_order = "ovj_order"
    rc_authorisation = "rc_authorisation"
    urgent_oral_order = "urgent_oral_order"
    court_ruling = "court_ruling"
    written_order = "written_order"


#: The kinds a new order may be registered with.
REGISTRABLE_KINDS = ("ovj_order", "rc_authorisation", "urgent_oral_order", "court_ruling")


class ProfileStatus(enum.StrEnum):
    """The life of a decoy profile."""

    draft = "draft"
    pending_approval = "pending_approval"
    active = "active"
    suspended = "suspended"
    retired = "retired"


class Operation(SQLModel, table=True):
    """A case: a code name, a team, a status and its members."""

    __tablename__ = "operation"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(120), unique=True, nullable=False))
    team: str = Field(default="", max_length=120)
    status: str = Field(default=OperationStatus.planned.value, max_length=16)
    timezone: str = Field(default="Europe/Amsterdam", max_length=64)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_by: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(sa_type=UTCDateTime)


class OperationMember(SQLModel, table=True):
    """A user assigned to an operation (need to know)."""

    __tablename__ = "operation_member"

    operation_id: int = Field(foreign_key="operation.id", primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, index=True)
    added_by: int = Field(foreign_key="user_account.id")
    added_at: datetime = Field(sa_type=UTCDateTime)


class Authorization(SQLModel, table=True):
    """A legal order or ruling; append-only: an extension is a new row that supersedes the old one."""

    __tablename__ = "legal_authorization"
    __table_args__ = (
        UniqueConstraint("operation_id", "reference", name="uq_authorization_reference"),
        Index("ix_authorization_supersedes", "supersedes_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    reference: str = Field(max_length=120)
    kind: str = Field(max_length=24)
    authority: str = Field(max_length=200)
    issuer_name: str = Field(default="", max_length=200)
    legal_basis: str = Field(max_length=200)
    offence: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    suspect_description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    justification: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    method: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    issued_on: date | None = Field(default=None)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime)
    review_interval_days: int
    platforms: list[str] = Field(sa_column=Column(JSON, nullable=False))
    persona_constraints: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    may_initiate_contact: bool = Field(default=False)
    max_profiles: int
    conditions: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    written_order_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    supersedes_id: int | None = Field(default=None, foreign_key="legal_authorization.id")
    #: The range the persona's age must lie in (rule 11); None where the order sets none.
    persona_age_min: int | None = Field(default=None)
    persona_age_max: int | None = Field(default=None)
    #: When an urgent oral order was given (its written order is due counted from it).
    oral_order_given_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: The references of the advice and the consent a legal basis needs (e.g. infiltration's).
    advice_reference: str | None = Field(default=None, max_length=200)
    consent_reference: str | None = Field(default=None, max_length=200)
    registered_by: int = Field(foreign_key="user_account.id")
    registered_at: datetime = Field(sa_type=UTCDateTime)


class AuthorizationOfficer(SQLModel, table=True):
    """An officer named in an authorization; append-only with it."""

    __tablename__ = "authorization_officer"

    authorization_id: int = Field(foreign_key="legal_authorization.id", primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True)


class AuthorizationDocument(SQLModel, table=True):
    """A scanned order (PDF) attached to an authorization, stored by SHA-256; append-only."""

    __tablename__ = "authorization_document"

    id: int | None = Field(default=None, primary_key=True)
    authorization_id: int = Field(foreign_key="legal_authorization.id", index=True)
    kind: str = Field(default="order", max_length=24)
    filename: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    size: int
    media_type: str = Field(max_length=100)
    uploaded_by: int = Field(foreign_key="user_account.id")
    uploaded_at: datetime = Field(sa_type=UTCDateTime)


class Profile(SQLModel, table=True):
    """A decoy profile; its status is the last of its append-only transitions."""

    __tablename__ = "profile"

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    authorization_id: int = Field(foreign_key="legal_authorization.id", index=True)
    platform: str = Field(max_length=80)
    handle: str = Field(max_length=200)
    persona: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    #: The age the persona gives; inside its authorization's range.
    persona_age: int | None = Field(default=None)
    status: str = Field(default=ProfileStatus.pending_approval.value, max_length=24)
    proposed_by: int = Field(foreign_key="user_account.id")
    proposed_at: datetime = Field(sa_type=UTCDateTime)
    approved_by: int | None = Field(default=None, foreign_key="user_account.id")
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ProfileTransition(SQLModel, table=True):
    """One change of a profile's status: who, when and why; append-only."""

    __tablename__ = "profile_transition"

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="profile.id", index=True)
    from_status: str | None = Field(default=None, max_length=24)
    to_status: str = Field(max_length=24)
    actor: str = Field(max_length=64)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    at: datetime = Field(sa_type=UTCDateTime)
