"""safeguarding: the cases opened for a real child or a presumed victim, their actions and closing, and
the openings of sensitive material

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 14:08:45

All four tables are append-only like the rest of the evidence: a case's state is derived from its actions
and its closing, never written over.

The SQL below (column types, triggers and statements) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TABLES = ("safeguarding_case", "safeguarding_action", "safeguarding_closure", "sensitive_opening")


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
    op.create_table('safeguarding_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('cause', sa.String(length=24), nullable=False),
    sa.Column('category_change_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('opened_by', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_change_id'], ['contact_category_change.id'], ),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['opened_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('safeguarding_case', schema=None) as batch_op:
        batch_op.create_index('ix_safeguarding_case_contact', ['contact_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_safeguarding_case_operation_id'), ['operation_id'], unique=False)

    op.create_table('safeguarding_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['safeguarding_case.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('safeguarding_action', schema=None) as batch_op:
        batch_op.create_index('ix_safeguarding_action_case', ['case_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_safeguarding_action_operation_id'), ['operation_id'], unique=False)

    op.create_table('safeguarding_closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('closed_by', sa.Integer(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['safeguarding_case.id'], ),
    sa.ForeignKeyConstraint(['closed_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id')
    )
    with op.batch_alter_table('safeguarding_closure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safeguarding_closure_operation_id'), ['operation_id'], unique=False)

    op.create_table('sensitive_opening',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('opened_by', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], ),
    sa.ForeignKeyConstraint(['opened_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sensitive_opening', schema=None) as batch_op:
        batch_op.create_index('ix_sensitive_opening_attachment', ['attachment_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sensitive_opening_operation_id'), ['operation_id'], unique=False)

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
    with op.batch_alter_table('sensitive_opening', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sensitive_opening_operation_id'))
        batch_op.drop_index('ix_sensitive_opening_attachment')

    op.drop_table('sensitive_opening')
    with op.batch_alter_table('safeguarding_closure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safeguarding_closure_operation_id'))

    op.drop_table('safeguarding_closure')
    with op.batch_alter_table('safeguarding_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safeguarding_action_operation_id'))
        batch_op.drop_index('ix_safeguarding_action_case')

    op.drop_table('safeguarding_action')
    with op.batch_alter_table('safeguarding_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safeguarding_case_operation_id'))
        batch_op.drop_index('ix_safeguarding_case_contact')

    op.drop_table('safeguarding_case')
