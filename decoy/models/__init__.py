"""SQLModel tables, one module per aggregate; importing this package registers them all."""

from sqlmodel import SQLModel

from audit.store import define_tables

from .accounts import ApiToken, LoginAttempt, RecoveryCode, Role, User, UserRole

AUDIT_TABLES = define_tables(SQLModel.metadata)

__all__ = ["AUDIT_TABLES", "ApiToken", "LoginAttempt", "RecoveryCode", "Role", "User", "UserRole"]
