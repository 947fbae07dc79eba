"""Accounts, roles, second factors, sign-in sessions and API tokens."""

import enum
from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime


class Role(enum.StrEnum):
    """The roles of the specification; admin excludes the others."""

    detective = "detective"
    supervisor = "supervisor"
    legal = "legal"
    admin = "admin"


class User(SQLModel, table=True):
    """A person with an account."""

    __tablename__ = "user_account"
    __table_args__ = (Index("ux_user_account_verbalisant_code", "verbalisant_code", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    display_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320)
    password_hash: str = Field(max_length=200)
    is_active: bool = Field(default=True)
    totp_secret: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    totp_confirmed: bool = Field(default=False)
    totp_last_step: int = Field(default=0)
    failed_attempts: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # True while the password is one someone else set (at creation): the person chooses their own before
    # anything else, so that whoever created the account never knows the password that is in use.
    must_set_password: bool = Field(default=True)
    # The argon2 hash of the one-time code a second-factor reset issues; enrolling again needs it as well
    # as the person's own password (the administrator who reset knows the code, never the password).
    reset_code_hash: str | None = Field(default=None, max_length=200)
    locale: str | None = Field(default=None, max_length=8)
    #: The code the officer acts under outside Decoy (exports, reports, audit entries); see
    #: ``verbalisant_assignment`` for who had which code when.
    verbalisant_code: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    created_at: datetime = Field(sa_type=UTCDateTime)


class UserRole(SQLModel, table=True):
    """One role held by one user."""

    __tablename__ = "user_role"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    role: str = Field(sa_column=Column(String(16), primary_key=True))


class RecoveryCode(SQLModel, table=True):
    """A single-use recovery code, stored as an argon2 hash."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    code_hash: str = Field(max_length=200)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A bearer token for the API or the calendar feed; only its SHA-256 is kept."""

    __tablename__ = "api_token"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=100)
    purpose: str = Field(default="api", max_length=16)
    token_hash: str = Field(max_length=64)
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginSession(SQLModel, table=True):
    """A signed-in browser session: the cookie holds a random key, this row its SHA-256.

    A session is live while it has not ended and is within the idle and absolute limits; every request
    that carries the cookie checks its row, so that ending the row ends the session everywhere.
    """

    __tablename__ = "login_session"
    __table_args__ = (UniqueConstraint("key_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    address: str = Field(default="", max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: str | None = Field(default=None, max_length=32)


class LoginAttempt(SQLModel, table=True):
    """A login attempt by network address, for the per-address rate limit."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_address_at", "address", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)
