"""capture sessions, imports of a platform's export, and their reconciliation with typed messages

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 09:00:00

A message gains its provenance (the capture session, the officer at the keyboard, the import and the
place in its file, the platform's message id, the zone a time without an offset was read in), by plain
ALTER TABLE on both databases: rebuilding the message table, which is append-only and referenced, is
neither needed nor safe. Its direction may now also be "system" (a line the platform wrote); SQLite does
not enforce a VARCHAR's length, so on SQLite only the declared type in the schema text changes, by the
procedure SQLite's documentation gives for a change that leaves the stored content as it is (writable
schema, then a new schema version); PostgreSQL widens the column in place. The four new tables are
append-only like the rest of the evidence.

The SQL below (column types, triggers and statements) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        'ALTER TABLE message ADD COLUMN capture_session_id INTEGER REFERENCES capture_session (id)',
        'ALTER TABLE message ADD COLUMN operated_by INTEGER REFERENCES user_account (id)',
        'ALTER TABLE message ADD COLUMN import_id INTEGER REFERENCES message_import (id)',
        'ALTER TABLE message ADD COLUMN source TEXT',
        'ALTER TABLE message ADD COLUMN platform_message_id VARCHAR(255)',
        'ALTER TABLE message ADD COLUMN assumed_timezone VARCHAR(64)',
        'CREATE INDEX ix_message_contact_platform_id ON message (contact_id, platform_message_id)',
        "CREATE TRIGGER IF NOT EXISTS capture_session_no_delete BEFORE DELETE ON capture_session BEGIN SELECT RAISE(ABORT, 'capture_session is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS capture_session_no_update BEFORE UPDATE ON capture_session BEGIN SELECT RAISE(ABORT, 'capture_session is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS capture_session_end_no_delete BEFORE DELETE ON capture_session_end BEGIN SELECT RAISE(ABORT, 'capture_session_end is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS capture_session_end_no_update BEFORE UPDATE ON capture_session_end BEGIN SELECT RAISE(ABORT, 'capture_session_end is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS message_import_no_delete BEFORE DELETE ON message_import BEGIN SELECT RAISE(ABORT, 'message_import is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS message_import_no_update BEFORE UPDATE ON message_import BEGIN SELECT RAISE(ABORT, 'message_import is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS message_import_result_no_delete BEFORE DELETE ON message_import_result BEGIN SELECT RAISE(ABORT, 'message_import_result is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS message_import_result_no_update BEFORE UPDATE ON message_import_result BEGIN SELECT RAISE(ABORT, 'message_import_result is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS export_reconciliation_no_delete BEFORE DELETE ON export_reconciliation BEGIN SELECT RAISE(ABORT, 'export_reconciliation is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS export_reconciliation_no_update BEFORE UPDATE ON export_reconciliation BEGIN SELECT RAISE(ABORT, 'export_reconciliation is append-only'); END",
    ),
    "postgresql": (
        'ALTER TABLE message ADD COLUMN capture_session_id INTEGER REFERENCES capture_session (id)',
        'ALTER TABLE message ADD COLUMN operated_by INTEGER REFERENCES user_account (id)',
        'ALTER TABLE message ADD COLUMN import_id INTEGER REFERENCES message_import (id)',
        'ALTER TABLE message ADD COLUMN source TEXT',
        'ALTER TABLE message ADD COLUMN platform_message_id VARCHAR(255)',
        'ALTER TABLE message ADD COLUMN assumed_timezone VARCHAR(64)',
        'CREATE INDEX ix_message_contact_platform_id ON message (contact_id, platform_message_id)',
        'ALTER TABLE message ALTER COLUMN direction TYPE VARCHAR(6)',
        'DROP TRIGGER IF EXISTS capture_session_append_only ON capture_session',
        'CREATE TRIGGER capture_session_append_only BEFORE DELETE OR UPDATE ON capture_session FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS capture_session_no_truncate ON capture_session',
        'CREATE TRIGGER capture_session_no_truncate BEFORE TRUNCATE ON capture_session FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS capture_session_end_append_only ON capture_session_end',
        'CREATE TRIGGER capture_session_end_append_only BEFORE DELETE OR UPDATE ON capture_session_end FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS capture_session_end_no_truncate ON capture_session_end',
        'CREATE TRIGGER capture_session_end_no_truncate BEFORE TRUNCATE ON capture_session_end FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS message_import_append_only ON message_import',
        'CREATE TRIGGER message_import_append_only BEFORE DELETE OR UPDATE ON message_import FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS message_import_no_truncate ON message_import',
        'CREATE TRIGGER message_import_no_truncate BEFORE TRUNCATE ON message_import FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS message_import_result_append_only ON message_import_result',
        'CREATE TRIGGER message_import_result_append_only BEFORE DELETE OR UPDATE ON message_import_result FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS message_import_result_no_truncate ON message_import_result',
        'CREATE TRIGGER message_import_result_no_truncate BEFORE TRUNCATE ON message_import_result FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS export_reconciliation_append_only ON export_reconciliation',
        'CREATE TRIGGER export_reconciliation_append_only BEFORE DELETE OR UPDATE ON export_reconciliation FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS export_reconciliation_no_truncate ON export_reconciliation',
        'CREATE TRIGGER export_reconciliation_no_truncate BEFORE TRUNCATE ON export_reconciliation FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()',
    ),
}
DOWNGRADE_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        'DROP TRIGGER IF EXISTS capture_session_no_delete',
        'DROP TRIGGER IF EXISTS capture_session_no_update',
        'DROP TRIGGER IF EXISTS capture_session_end_no_delete',
        'DROP TRIGGER IF EXISTS capture_session_end_no_update',
        'DROP TRIGGER IF EXISTS message_import_no_delete',
        'DROP TRIGGER IF EXISTS message_import_no_update',
        'DROP TRIGGER IF EXISTS export_reconciliation_no_delete',
        'DROP TRIGGER IF EXISTS export_reconciliation_no_update',
        'DROP TRIGGER IF EXISTS message_import_result_no_delete',
        'DROP TRIGGER IF EXISTS message_import_result_no_update',
        'DROP INDEX IF EXISTS ix_message_contact_platform_id',
        'ALTER TABLE message DROP COLUMN assumed_timezone',
        'ALTER TABLE message DROP COLUMN platform_message_id',
        'ALTER TABLE message DROP COLUMN source',
        'ALTER TABLE message DROP COLUMN import_id',
        'ALTER TABLE message DROP COLUMN operated_by',
        'ALTER TABLE message DROP COLUMN capture_session_id',
    ),
    "postgresql": (
        'DROP TRIGGER IF EXISTS capture_session_append_only ON capture_session',
        'DROP TRIGGER IF EXISTS capture_session_no_truncate ON capture_session',
        'DROP TRIGGER IF EXISTS capture_session_end_append_only ON capture_session_end',
        'DROP TRIGGER IF EXISTS capture_session_end_no_truncate ON capture_session_end',
        'DROP TRIGGER IF EXISTS message_import_append_only ON message_import',
        'DROP TRIGGER IF EXISTS message_import_no_truncate ON message_import',
        'DROP TRIGGER IF EXISTS export_reconciliation_append_only ON export_reconciliation',
        'DROP TRIGGER IF EXISTS message_import_result_append_only ON message_import_result',
        'DROP TRIGGER IF EXISTS message_import_result_no_truncate ON message_import_result',
        'DROP TRIGGER IF EXISTS export_reconciliation_no_truncate ON export_reconciliation',
        'DROP INDEX IF EXISTS ix_message_contact_platform_id',
        'ALTER TABLE message DROP COLUMN assumed_timezone',
        'ALTER TABLE message DROP COLUMN platform_message_id',
        'ALTER TABLE message DROP COLUMN source',
        'ALTER TABLE message DROP COLUMN import_id',
        'ALTER TABLE message DROP COLUMN operated_by',
        'ALTER TABLE message DROP COLUMN capture_session_id',
        'ALTER TABLE message ALTER COLUMN direction TYPE VARCHAR(3)',
    ),
}


#: SQLite: the declared length of message.direction, in the table's schema text (the stored rows are unchanged).
SQLITE_DIRECTION = (
    "UPDATE sqlite_master SET sql = replace(sql, 'direction VARCHAR({old}) NOT NULL', "
    "'direction VARCHAR({new}) NOT NULL') WHERE type = 'table' AND name = 'message'"
)


def _sqlite_direction_length(old: int, new: int) -> None:
    """Declare message.direction VARCHAR(new) instead of VARCHAR(old) in SQLite's schema text."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(sa.text(SQLITE_DIRECTION.format(old=old, new=new)))
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('capture_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('operated_by', sa.Integer(), nullable=False),
    sa.Column('device', sa.String(length=200), nullable=False),
    sa.Column('tool', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['operated_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['profile_id'], ['profile.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('capture_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_capture_session_operation_id'), ['operation_id'], unique=False)
        batch_op.create_index('ix_capture_session_profile', ['profile_id', 'id'], unique=False)

    op.create_table('capture_session_end',
    sa.Column('capture_session_id', sa.Integer(), nullable=False),
    sa.Column('ended_by', sa.Integer(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completeness_statement', sa.Text(), nullable=False),
    sa.Column('known_gaps', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['capture_session_id'], ['capture_session.id'], ),
    sa.ForeignKeyConstraint(['ended_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('capture_session_id')
    )
    op.create_table('message_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('decoy_name', sa.Text(), nullable=False),
    sa.Column('chat', sa.Text(), nullable=True),
    sa.Column('assumed_timezone', sa.String(length=64), nullable=True),
    sa.Column('capture_session_id', sa.Integer(), nullable=True),
    sa.Column('imported_by', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['capture_session_id'], ['capture_session.id'], ),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['imported_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contact_id', 'sha256', name='uq_message_import_contact_file')
    )
    with op.batch_alter_table('message_import', schema=None) as batch_op:
        batch_op.create_index('ix_message_import_contact', ['contact_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_import_operation_id'), ['operation_id'], unique=False)

    op.create_table('message_import_result',
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exported', sa.Integer(), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('differences', sa.Integer(), nullable=False),
    sa.Column('system_lines', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['message_import.id'], ),
    sa.PrimaryKeyConstraint('import_id')
    )
    op.create_table('export_reconciliation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('export_message_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['export_message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['import_id'], ['message_import.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('export_reconciliation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_reconciliation_import_id'), ['import_id'], unique=False)
        batch_op.create_index('ix_export_reconciliation_message', ['message_id', 'id'], unique=False)

    for statement in UPGRADE_SQL[op.get_bind().dialect.name]:
        op.execute(sa.text(statement))
    _sqlite_direction_length(3, 6)


def downgrade() -> None:
    """Revert this revision."""
    _sqlite_direction_length(6, 3)
    for statement in DOWNGRADE_SQL[op.get_bind().dialect.name]:
        op.execute(sa.text(statement))

    with op.batch_alter_table('export_reconciliation', schema=None) as batch_op:
        batch_op.drop_index('ix_export_reconciliation_message')
        batch_op.drop_index(batch_op.f('ix_export_reconciliation_import_id'))

    op.drop_table('export_reconciliation')
    with op.batch_alter_table('message_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_import_operation_id'))
        batch_op.drop_index('ix_message_import_contact')

    op.drop_table('message_import_result')
    op.drop_table('message_import')
    op.drop_table('capture_session_end')
    with op.batch_alter_table('capture_session', schema=None) as batch_op:
        batch_op.drop_index('ix_capture_session_profile')
        batch_op.drop_index(batch_op.f('ix_capture_session_operation_id'))

    op.drop_table('capture_session')

