"""disclosure: verbalisant codes and their history, disclosure decisions, the journal, redactions, signed
reports

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-13 09:00:00

An account gains its verbalisant code (unique, by a unique index so that SQLite's table is altered in
place and keeps its triggers). The five new tables are append-only like the rest of the evidence.

The SQL below (column types, triggers and statements) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE TRIGGER IF NOT EXISTS verbalisant_assignment_no_delete BEFORE DELETE ON verbalisant_assignment BEGIN SELECT RAISE(ABORT, 'verbalisant_assignment is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS verbalisant_assignment_no_update BEFORE UPDATE ON verbalisant_assignment BEGIN SELECT RAISE(ABORT, 'verbalisant_assignment is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS disclosure_decision_no_delete BEFORE DELETE ON disclosure_decision BEGIN SELECT RAISE(ABORT, 'disclosure_decision is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS disclosure_decision_no_update BEFORE UPDATE ON disclosure_decision BEGIN SELECT RAISE(ABORT, 'disclosure_decision is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS journal_note_no_delete BEFORE DELETE ON journal_note BEGIN SELECT RAISE(ABORT, 'journal_note is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS journal_note_no_update BEFORE UPDATE ON journal_note BEGIN SELECT RAISE(ABORT, 'journal_note is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS redaction_no_delete BEFORE DELETE ON redaction BEGIN SELECT RAISE(ABORT, 'redaction is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS redaction_no_update BEFORE UPDATE ON redaction BEGIN SELECT RAISE(ABORT, 'redaction is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS signed_report_no_delete BEFORE DELETE ON signed_report BEGIN SELECT RAISE(ABORT, 'signed_report is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS signed_report_no_update BEFORE UPDATE ON signed_report BEGIN SELECT RAISE(ABORT, 'signed_report is append-only'); END",
    ),
    "postgresql": (
        'DROP TRIGGER IF EXISTS verbalisant_assignment_append_only ON verbalisant_assignment',
        'CREATE TRIGGER verbalisant_assignment_append_only BEFORE DELETE OR UPDATE ON verbalisant_assignment FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS verbalisant_assignment_no_truncate ON verbalisant_assignment',
        'CREATE TRIGGER verbalisant_assignment_no_truncate BEFORE TRUNCATE ON verbalisant_assignment FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS disclosure_decision_append_only ON disclosure_decision',
        'CREATE TRIGGER disclosure_decision_append_only BEFORE DELETE OR UPDATE ON disclosure_decision FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS disclosure_decision_no_truncate ON disclosure_decision',
        'CREATE TRIGGER disclosure_decision_no_truncate BEFORE TRUNCATE ON disclosure_decision FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS journal_note_append_only ON journal_note',
        'CREATE TRIGGER journal_note_append_only BEFORE DELETE OR UPDATE ON journal_note FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS journal_note_no_truncate ON journal_note',
        'CREATE TRIGGER journal_note_no_truncate BEFORE TRUNCATE ON journal_note FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS redaction_append_only ON redaction',
        'CREATE TRIGGER redaction_append_only BEFORE DELETE OR UPDATE ON redaction FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS redaction_no_truncate ON redaction',
        'CREATE TRIGGER redaction_no_truncate BEFORE TRUNCATE ON redaction FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS signed_report_append_only ON signed_report',
        'CREATE TRIGGER signed_report_append_only BEFORE DELETE OR UPDATE ON signed_report FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS signed_report_no_truncate ON signed_report',
        'CREATE TRIGGER signed_report_no_truncate BEFORE TRUNCATE ON signed_report FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()',
    ),
}
DOWNGRADE_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        'DROP TRIGGER IF EXISTS verbalisant_assignment_no_delete',
        'DROP TRIGGER IF EXISTS verbalisant_assignment_no_update',
        'DROP TRIGGER IF EXISTS disclosure_decision_no_delete',
        'DROP TRIGGER IF EXISTS disclosure_decision_no_update',
        'DROP TRIGGER IF EXISTS journal_note_no_delete',
        'DROP TRIGGER IF EXISTS journal_note_no_update',
        'DROP TRIGGER IF EXISTS redaction_no_delete',
        'DROP TRIGGER IF EXISTS redaction_no_update',
        'DROP TRIGGER IF EXISTS signed_report_no_delete',
        'DROP TRIGGER IF EXISTS signed_report_no_update',
    ),
    "postgresql": (
        'DROP TRIGGER IF EXISTS verbalisant_assignment_append_only ON verbalisant_assignment',
        'DROP TRIGGER IF EXISTS verbalisant_assignment_no_truncate ON verbalisant_assignment',
        'DROP TRIGGER IF EXISTS disclosure_decision_append_only ON disclosure_decision',
        'DROP TRIGGER IF EXISTS disclosure_decision_no_truncate ON disclosure_decision',
        'DROP TRIGGER IF EXISTS journal_note_append_only ON journal_note',
        'DROP TRIGGER IF EXISTS journal_note_no_truncate ON journal_note',
        'DROP TRIGGER IF EXISTS redaction_append_only ON redaction',
        'DROP TRIGGER IF EXISTS redaction_no_truncate ON redaction',
        'DROP TRIGGER IF EXISTS signed_report_append_only ON signed_report',
        'DROP TRIGGER IF EXISTS signed_report_no_truncate ON signed_report',
    ),
}


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('verbalisant_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('assigned_by', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('verbalisant_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verbalisant_assignment_code'), ['code'], unique=False)
        batch_op.create_index('ix_verbalisant_assignment_user', ['user_id', 'assigned_at'], unique=False)

    op.create_table('disclosure_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('item_kind', sa.String(length=12), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('disclosure_class', sa.String(length=12), nullable=False),
    sa.Column('ground', sa.String(length=200), nullable=True),
    sa.Column('decision_reference', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('disclosure_decision', schema=None) as batch_op:
        batch_op.create_index('ix_disclosure_decision_item', ['item_kind', 'item_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_decision_operation_id'), ['operation_id'], unique=False)

    op.create_table('journal_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('written_by', sa.Integer(), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['written_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('journal_note', schema=None) as batch_op:
        batch_op.create_index('ix_journal_note_operation', ['operation_id', 'contact_id', 'id'], unique=False)

    op.create_table('signed_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['uploaded_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contact_id', 'sha256')
    )
    with op.batch_alter_table('signed_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signed_report_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signed_report_operation_id'), ['operation_id'], unique=False)

    op.create_table('redaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=255), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('made_by', sa.Integer(), nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], ),
    sa.ForeignKeyConstraint(['made_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('redaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_redaction_attachment_id'), ['attachment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_redaction_operation_id'), ['operation_id'], unique=False)

    op.add_column('user_account', sa.Column('verbalisant_code', sa.String(length=32), nullable=True))
    op.create_index('ux_user_account_verbalisant_code', 'user_account', ['verbalisant_code'], unique=True)
    for statement in UPGRADE_SQL[op.get_bind().dialect.name]:
        op.execute(sa.text(statement))


def downgrade() -> None:
    """Revert this revision."""
    for statement in DOWNGRADE_SQL[op.get_bind().dialect.name]:
        op.execute(sa.text(statement))
    op.drop_index('ux_user_account_verbalisant_code', table_name='user_account')
    op.drop_column('user_account', 'verbalisant_code')

    with op.batch_alter_table('redaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redaction_operation_id'))
        batch_op.drop_index(batch_op.f('ix_redaction_attachment_id'))

    op.drop_table('redaction')
    with op.batch_alter_table('signed_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signed_report_operation_id'))
        batch_op.drop_index(batch_op.f('ix_signed_report_contact_id'))

    op.drop_table('signed_report')
    with op.batch_alter_table('journal_note', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_note_operation')

    op.drop_table('journal_note')
    with op.batch_alter_table('disclosure_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_decision_operation_id'))
        batch_op.drop_index('ix_disclosure_decision_item')

    op.drop_table('disclosure_decision')
    with op.batch_alter_table('verbalisant_assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_verbalisant_assignment_user')
        batch_op.drop_index(batch_op.f('ix_verbalisant_assignment_code'))

    op.drop_table('verbalisant_assignment')
