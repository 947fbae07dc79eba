"""witnesses: the cosignatures witnesses gave to signed checkpoints, and their refusals

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 19:00:00

checkpoint_cosignature and witness_refusal are append-only.

The SQL below (column types, triggers and statements) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TABLES = ("checkpoint_cosignature", "witness_refusal")


def _append_only(table: str, dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        ]
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE DELETE OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()",
    ]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('checkpoint_cosignature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('witness', sa.String(length=300), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('cosigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('line', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('checkpoint_cosignature', schema=None) as batch_op:
        batch_op.create_index('ix_checkpoint_cosignature_once', ['checkpoint_id', 'witness'], unique=True)
        batch_op.create_index('ix_checkpoint_cosignature_witness', ['witness', 'size'], unique=False)

    op.create_table('witness_refusal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('witness', sa.String(length=300), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('witness_refusal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_witness_refusal_checkpoint_id'), ['checkpoint_id'], unique=False)

    dialect = op.get_bind().dialect.name
    for table in NEW_TABLES:
        for statement in _append_only(table, dialect):
            op.execute(statement)


def downgrade() -> None:
    """Revert this revision."""
    dialect = op.get_bind().dialect.name
    for table in NEW_TABLES:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    with op.batch_alter_table('witness_refusal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_witness_refusal_checkpoint_id'))
    op.drop_table('witness_refusal')
    with op.batch_alter_table('checkpoint_cosignature', schema=None) as batch_op:
        batch_op.drop_index('ix_checkpoint_cosignature_witness')
        batch_op.drop_index('ix_checkpoint_cosignature_once')
    op.drop_table('checkpoint_cosignature')
