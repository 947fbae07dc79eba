"""retention: legal holds on an operation or a contact and their lifting, and the outcome of a suspect's
case

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 14:40:00

All three tables are append-only like the rest of the evidence: a hold is lifted by a row of its own,
and a contact's outcome is its latest record.

The SQL below (column types, triggers and statements) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TABLES = ("legal_hold", "legal_hold_lift", "contact_outcome")


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
    op.create_table('contact_outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact_outcome', schema=None) as batch_op:
        batch_op.create_index('ix_contact_outcome_contact', ['contact_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_outcome_operation_id'), ['operation_id'], unique=False)

    op.create_table('legal_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['set_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('legal_hold', schema=None) as batch_op:
        batch_op.create_index('ix_legal_hold_contact', ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_legal_hold_operation_id'), ['operation_id'], unique=False)

    op.create_table('legal_hold_lift',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hold_id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('lifted_by', sa.Integer(), nullable=False),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hold_id'], ['legal_hold.id'], ),
    sa.ForeignKeyConstraint(['lifted_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hold_id')
    )
    with op.batch_alter_table('legal_hold_lift', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_hold_lift_operation_id'), ['operation_id'], unique=False)

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
    with op.batch_alter_table('legal_hold_lift', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_hold_lift_operation_id'))

    op.drop_table('legal_hold_lift')
    with op.batch_alter_table('legal_hold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_hold_operation_id'))
        batch_op.drop_index('ix_legal_hold_contact')

    op.drop_table('legal_hold')
    with op.batch_alter_table('contact_outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_outcome_operation_id'))
        batch_op.drop_index('ix_contact_outcome_contact')

    op.drop_table('contact_outcome')
