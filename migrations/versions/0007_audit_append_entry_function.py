"""audit_append_entry: PostgreSQL's whole append (locks, head, entry, tree) in one call

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 07:00:00
"""
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

from audit.store import install_triggers
from audit.triggers import APPEND_FUNCTION, FRONTIER_ROOT_FUNCTION, LEGACY_APPEND_FUNCTION, LEGACY_APPEND_SQL

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (the trigger set is idempotent and now includes the new functions).

    Processes of the previous version call audit_append, dropped here: stop them before migrating.
    """
    install_triggers(op.get_bind())
    if op.get_bind().dialect.name == "postgresql":
        op.execute(text(f"DROP FUNCTION IF EXISTS {LEGACY_APPEND_FUNCTION}"))


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(text(LEGACY_APPEND_SQL))
        for signature in (APPEND_FUNCTION, FRONTIER_ROOT_FUNCTION):
            op.execute(text(f"DROP FUNCTION IF EXISTS {signature}"))
