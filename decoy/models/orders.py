"""The order's whole life beyond its registration: kinds mapped to the law's names, withdrawals, the
closing and reopening of an operation with its end report and deliveries, and leads passed on; all
append-only."""

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime

__all__ = [
    "AuthorizationKindChange", "AuthorizationWithdrawal", "ClosureAction", "EndReport", "EndReportDelivery",
    "Lead", "OperationClosure", "TLP_LABELS",
]

#: The Traffic Light Protocol labels (FIRST TLP 2.0) a lead may carry.
TLP_LABELS = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED")


class ClosureAction:
    """What an operation_closure row records."""

    close = "close"
    reopen = "reopen"


class AuthorizationKindChange(SQLModel, table=True):
    """That an authorization registered under an older kind was given the kind the law names by a
    migration, by a rule that reads its issuing authority; the row keeps its registered kind here, so that
    its recorded row hash still verifies."""

    __tablename__ = "authorization_kind_change"

    authorization_id: int = Field(foreign_key="legal_authorization.id", primary_key=True)
    from_kind: str = Field(max_length=24)
    to_kind: str = Field(max_length=24)
    rule: str = Field(sa_column=Column(Text, nullable=False))
    changed_at: datetime = Field(sa_type=UTCDateTime)


class AuthorizationWithdrawal(SQLModel, table=True):
    """A legal officer's record that an order was withdrawn from a moment on, and why."""

    __tablename__ = "authorization_withdrawal"
    __table_args__ = (Index("ux_authorization_withdrawal", "authorization_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    authorization_id: int = Field(foreign_key="legal_authorization.id")
    operation_id: int = Field(foreign_key="operation.id", index=True)
    effective_at: datetime = Field(sa_type=UTCDateTime)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    withdrawn_by: int = Field(foreign_key="user_account.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)


class OperationClosure(SQLModel, table=True):
    """An operation closed (with its reason) or reopened (a legal officer's recorded decision)."""

    __tablename__ = "operation_closure"
    __table_args__ = (Index("ix_operation_closure_operation", "operation_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id")
    #: ``close`` or ``reopen``.
    action: str = Field(max_length=8)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    decided_by: int = Field(foreign_key="user_account.id")
    decided_at: datetime = Field(sa_type=UTCDateTime)


class EndReport(SQLModel, table=True):
    """The end report for the public prosecutor made when an operation closed (a PDF, kept by SHA-256)."""

    __tablename__ = "end_report"
    __table_args__ = (Index("ux_end_report_closure", "closure_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    closure_id: int = Field(foreign_key="operation_closure.id")
    sha256: str = Field(max_length=64)
    size: int
    created_by: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(sa_type=UTCDateTime)


class EndReportDelivery(SQLModel, table=True):
    """That an end report was delivered: to whom, when, and who records it."""

    __tablename__ = "end_report_delivery"

    id: int | None = Field(default=None, primary_key=True)
    end_report_id: int = Field(foreign_key="end_report.id", index=True)
    recipient: str = Field(max_length=200)
    delivered_at: datetime = Field(sa_type=UTCDateTime)
    recorded_by: int = Field(foreign_key="user_account.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)


class Lead(SQLModel, table=True):
    """Information passed from an operation to another unit or agency: to whom, on what legal basis, under
    which TLP label, the SHA-256 of what was sent, when and by whom."""

    __tablename__ = "lead"
    __table_args__ = (Index("ix_lead_operation", "operation_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id")
    recipient: str = Field(max_length=200)
    legal_basis: str = Field(max_length=200)
    tlp: str = Field(max_length=20)
    sha256: str = Field(max_length=64)
    description: str = Field(sa_column=Column(Text, nullable=False))
    passed_at: datetime = Field(sa_type=UTCDateTime)
    passed_by: int = Field(foreign_key="user_account.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)
