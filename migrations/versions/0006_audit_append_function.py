"""audit_append: PostgreSQL's one-round-trip append (entry row and head move in one call)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 03:15:00
"""
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

from audit.store import install_triggers
from audit.triggers import (
    APPEND_FUNCTION,
    FRONTIER_ROOT_FUNCTION,
    LEGACY_APPEND_FUNCTION,
    LEGACY_APPEND_SQL,
)

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: the trigger set (idempotent), and this revision's function, from fixed SQL."""
    install_triggers(op.get_bind())
    if op.get_bind().dialect.name == "postgresql":
        op.execute(text(LEGACY_APPEND_SQL))


def downgrade() -> None:
    """Revert this revision (and the functions the current trigger set installed with it)."""
    if op.get_bind().dialect.name == "postgresql":
        for signature in (LEGACY_APPEND_FUNCTION, APPEND_FUNCTION, FRONTIER_ROOT_FUNCTION):
            op.execute(text(f"DROP FUNCTION IF EXISTS {signature}"))
