"""timestamps: the RFC 3161 tokens time-stamp authorities gave to signed checkpoints

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 19:30:00

checkpoint_timestamp is append-only.

The SQL below (column types, triggers and statements) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "checkpoint_timestamp"


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('checkpoint_timestamp',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('authority', sa.String(length=500), nullable=False),
    sa.Column('token', sa.LargeBinary(), nullable=False),
    sa.Column('stamped_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('checkpoint_timestamp', schema=None) as batch_op:
        batch_op.create_index('ix_checkpoint_timestamp_once', ['checkpoint_id', 'authority'], unique=True)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE} BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END")
        op.execute(f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE} BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"CREATE TRIGGER {TABLE}_append_only BEFORE DELETE OR UPDATE ON {TABLE} FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
        op.execute(f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()")


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
    with op.batch_alter_table('checkpoint_timestamp', schema=None) as batch_op:
        batch_op.drop_index('ix_checkpoint_timestamp_once')
    op.drop_table('checkpoint_timestamp')
