"""audit_append_entry: PostgreSQL's whole append (locks, head, entry, tree) in one call

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 07:00:00
"""
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

from audit.store import install_triggers
from audit.triggers import APPEND_FUNCTION, FRONTIER_ROOT_FUNCTION, LEGACY_APPEND_FUNCTION

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The function of revision 0006, for a downgrade.
_LEGACY = """CREATE OR REPLACE FUNCTION audit_append(p_idx bigint, p_entry bytea, p_leaf bytea, p_root bytea,
    p_frontier bytea) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    moved integer;
BEGIN
    INSERT INTO audit_entry (idx, entry, leaf_hash) VALUES (p_idx, p_entry, p_leaf);
    UPDATE audit_head SET size = p_idx + 1, root = p_root, frontier = p_frontier
        WHERE id = 1 AND size = p_idx;
    GET DIAGNOSTICS moved = ROW_COUNT;
    RETURN moved;
END
$$"""


def upgrade() -> None:
    """Apply this revision (the trigger set is idempotent and now includes the new functions)."""
    install_triggers(op.get_bind())
    if op.get_bind().dialect.name == "postgresql":
        op.execute(text(f"DROP FUNCTION IF EXISTS {LEGACY_APPEND_FUNCTION}"))


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(text(_LEGACY))
        for signature in (APPEND_FUNCTION, FRONTIER_ROOT_FUNCTION):
            op.execute(text(f"DROP FUNCTION IF EXISTS {signature}"))
