"""audit_append: PostgreSQL's one-round-trip append (entry row and head move in one call)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 03:15:00
"""
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

from audit.store import install_triggers
from audit.triggers import LEGACY_APPEND_FUNCTION

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (the trigger set is idempotent and now includes the function)."""
    install_triggers(op.get_bind())


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(text(f"DROP FUNCTION IF EXISTS {LEGACY_APPEND_FUNCTION}"))
