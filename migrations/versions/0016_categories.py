"""categories: a contact's category and its history, and the register of suspects' notification
(art. 126bb Sv)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-15 09:00:00

Both tables are append-only like the rest of the evidence: a contact's category is its latest change, a
suspect's notification state its latest record.

The SQL below (column types, triggers and statements) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TABLES = ("contact_category_change", "suspect_notification")


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
    op.create_table('contact_category_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('from_category', sa.String(length=20), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_by', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact_category_change', schema=None) as batch_op:
        batch_op.create_index('ix_contact_category_change_contact', ['contact_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_category_change_operation_id'), ['operation_id'], unique=False)

    op.create_table('suspect_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('suspect_notification', schema=None) as batch_op:
        batch_op.create_index('ix_suspect_notification_contact', ['contact_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_suspect_notification_operation_id'), ['operation_id'], unique=False)

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
    with op.batch_alter_table('suspect_notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suspect_notification_operation_id'))
        batch_op.drop_index('ix_suspect_notification_contact')

    op.drop_table('suspect_notification')
    with op.batch_alter_table('contact_category_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_category_change_operation_id'))
        batch_op.drop_index('ix_contact_category_change_contact')

    op.drop_table('contact_category_change')
