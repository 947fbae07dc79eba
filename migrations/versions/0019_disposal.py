"""disposal: two legal officers' decision to dispose of a contact's content, its tombstones, and the one
controlled path that removes content

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 15:00:00

disposal, disposal_approval and disposal_tombstone are append-only. The text of a message or a journal
note stays append-only too, with one exception: it may be emptied (and nothing else of the row changed)
when a tombstone of an approved disposal names it. In SQLite, any UPDATE of another column of message or
journal_note is refused by a trigger of its own, and an UPDATE of the text is refused unless the new
text is empty and such a tombstone exists; in PostgreSQL, one trigger function checks the same (the row
as JSON, without its text, unchanged). Deletes stay refused.

The SQL below (column types, triggers and statements) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TABLES = ("disposal", "disposal_approval", "disposal_tombstone")
#: The tables whose text a disposal empties, their text column's kind in a tombstone, and every other column.
EMPTIED = {
    "message": ("message", (
        "id", "operation_id", "contact_id", "direction", "sent_at", "sent_offset_minutes", "recorded_at",
        "recorded_by", "body_sha256", "corrects_id", "flags", "capture_session_id", "operated_by",
        "import_id", "source", "platform_message_id", "assumed_timezone",
    )),
    "journal_note": ("note", ("id", "operation_id", "contact_id", "body_sha256", "written_by", "written_at")),
}


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


def _covered(kind: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM disposal_tombstone t JOIN disposal_approval a ON a.disposal_id = t.disposal_id "  # noqa: S608 - a fixed kind of this revision
        f"WHERE t.item_kind = '{kind}' AND t.item_id = OLD.id)"
    )


def _emptied_only(table: str, kind: str, others: tuple[str, ...], dialect: str) -> list[str]:
    """The triggers that let a disposal empty the text of ``table`` and nothing else."""
    if dialect == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OF {', '.join(others)} ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
            f"CREATE TRIGGER {table}_text_disposed_only BEFORE UPDATE OF body ON {table} WHEN NOT (NEW.body = '' AND {_covered(kind)}) BEGIN SELECT RAISE(ABORT, '{table} is append-only (its text is removed only under an approved disposal)'); END",
        ]
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_disposal_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.body = '' AND (to_jsonb(NEW) - 'body') = (to_jsonb(OLD) - 'body') AND {_covered(kind)} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only (its text is removed only under an approved disposal)', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END
$$""",
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        f"DROP TRIGGER IF EXISTS {table}_frozen ON {table}",
        f"CREATE TRIGGER {table}_frozen BEFORE UPDATE OF {', '.join(others)} ON {table} FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        f"CREATE TRIGGER {table}_disposal_guard BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_disposal_guard()",
    ]


def _emptied_undone(table: str, dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_text_disposed_only",
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        ]
    return [
        f"DROP TRIGGER IF EXISTS {table}_disposal_guard ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_frozen ON {table}",
        f"DROP FUNCTION IF EXISTS {table}_disposal_guard()",
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE DELETE OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
    ]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('disposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decision_reference', sa.String(length=200), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['requested_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('disposal', schema=None) as batch_op:
        batch_op.create_index('ix_disposal_contact', ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disposal_operation_id'), ['operation_id'], unique=False)

    op.create_table('disposal_approval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('disposal_id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('approved_by', sa.Integer(), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['disposal_id'], ['disposal.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('disposal_id')
    )
    with op.batch_alter_table('disposal_approval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disposal_approval_operation_id'), ['operation_id'], unique=False)

    op.create_table('disposal_tombstone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('disposal_id', sa.Integer(), nullable=False),
    sa.Column('item_kind', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['disposal_id'], ['disposal.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('disposal_tombstone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disposal_tombstone_disposal_id'), ['disposal_id'], unique=False)
        batch_op.create_index('ix_disposal_tombstone_item', ['item_kind', 'item_id'], unique=False)

    dialect = op.get_bind().dialect.name
    for table in NEW_TABLES:
        for statement in _append_only(table, dialect):
            op.execute(statement)
    for table, (kind, others) in EMPTIED.items():
        for statement in _emptied_only(table, kind, others, dialect):
            op.execute(statement)


def downgrade() -> None:
    """Revert this revision."""
    dialect = op.get_bind().dialect.name
    for table in EMPTIED:
        for statement in _emptied_undone(table, dialect):
            op.execute(statement)
    for table in NEW_TABLES:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    with op.batch_alter_table('disposal_tombstone', schema=None) as batch_op:
        batch_op.drop_index('ix_disposal_tombstone_item')
        batch_op.drop_index(batch_op.f('ix_disposal_tombstone_disposal_id'))

    op.drop_table('disposal_tombstone')
    with op.batch_alter_table('disposal_approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disposal_approval_operation_id'))

    op.drop_table('disposal_approval')
    with op.batch_alter_table('disposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disposal_operation_id'))
        batch_op.drop_index('ix_disposal_contact')

    op.drop_table('disposal')
