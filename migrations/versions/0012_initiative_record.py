"""the initiative record: annotations, dismissed suggestions, contact assessments, persona ages

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-11 09:00:00

An authorization gains the range its persona's age must lie in and a profile the persona's age, by plain
ALTER TABLE; the profile's age is frozen with the rest of what it was proposed with, so the trigger that
guards those columns is made again naming it. The three new tables are append-only like the rest of the
evidence.

The SQL below (column types, triggers and statements) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        'ALTER TABLE legal_authorization ADD COLUMN persona_age_min INTEGER',
        'ALTER TABLE legal_authorization ADD COLUMN persona_age_max INTEGER',
        'ALTER TABLE profile ADD COLUMN persona_age INTEGER',
        'DROP TRIGGER IF EXISTS profile_no_update',
        "CREATE TRIGGER IF NOT EXISTS profile_no_update BEFORE UPDATE OF id, operation_id, authorization_id, platform, handle, persona, proposed_by, proposed_at, persona_age ON profile BEGIN SELECT RAISE(ABORT, 'profile is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS annotation_no_delete BEFORE DELETE ON annotation BEGIN SELECT RAISE(ABORT, 'annotation is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS annotation_no_update BEFORE UPDATE ON annotation BEGIN SELECT RAISE(ABORT, 'annotation is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS suggestion_dismissal_no_delete BEFORE DELETE ON suggestion_dismissal BEGIN SELECT RAISE(ABORT, 'suggestion_dismissal is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS suggestion_dismissal_no_update BEFORE UPDATE ON suggestion_dismissal BEGIN SELECT RAISE(ABORT, 'suggestion_dismissal is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS contact_assessment_no_delete BEFORE DELETE ON contact_assessment BEGIN SELECT RAISE(ABORT, 'contact_assessment is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS contact_assessment_no_update BEFORE UPDATE ON contact_assessment BEGIN SELECT RAISE(ABORT, 'contact_assessment is append-only'); END",
    ),
    "postgresql": (
        'ALTER TABLE legal_authorization ADD COLUMN persona_age_min INTEGER',
        'ALTER TABLE legal_authorization ADD COLUMN persona_age_max INTEGER',
        'ALTER TABLE profile ADD COLUMN persona_age INTEGER',
        'DROP TRIGGER IF EXISTS profile_frozen ON profile',
        'CREATE TRIGGER profile_frozen BEFORE UPDATE OF id, operation_id, authorization_id, platform, handle, persona, proposed_by, proposed_at, persona_age ON profile FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS annotation_append_only ON annotation',
        'CREATE TRIGGER annotation_append_only BEFORE DELETE OR UPDATE ON annotation FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS annotation_no_truncate ON annotation',
        'CREATE TRIGGER annotation_no_truncate BEFORE TRUNCATE ON annotation FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS suggestion_dismissal_append_only ON suggestion_dismissal',
        'CREATE TRIGGER suggestion_dismissal_append_only BEFORE DELETE OR UPDATE ON suggestion_dismissal FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS suggestion_dismissal_no_truncate ON suggestion_dismissal',
        'CREATE TRIGGER suggestion_dismissal_no_truncate BEFORE TRUNCATE ON suggestion_dismissal FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS contact_assessment_append_only ON contact_assessment',
        'CREATE TRIGGER contact_assessment_append_only BEFORE DELETE OR UPDATE ON contact_assessment FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()',
        'DROP TRIGGER IF EXISTS contact_assessment_no_truncate ON contact_assessment',
        'CREATE TRIGGER contact_assessment_no_truncate BEFORE TRUNCATE ON contact_assessment FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()',
    ),
}
DOWNGRADE_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        'DROP TRIGGER IF EXISTS annotation_no_delete',
        'DROP TRIGGER IF EXISTS annotation_no_update',
        'DROP TRIGGER IF EXISTS suggestion_dismissal_no_delete',
        'DROP TRIGGER IF EXISTS suggestion_dismissal_no_update',
        'DROP TRIGGER IF EXISTS contact_assessment_no_delete',
        'DROP TRIGGER IF EXISTS contact_assessment_no_update',
        'DROP TRIGGER IF EXISTS profile_no_update',
        "CREATE TRIGGER IF NOT EXISTS profile_no_update BEFORE UPDATE OF id, operation_id, authorization_id, platform, handle, persona, proposed_by, proposed_at ON profile BEGIN SELECT RAISE(ABORT, 'profile is append-only'); END",
        'ALTER TABLE profile DROP COLUMN persona_age',
        'ALTER TABLE legal_authorization DROP COLUMN persona_age_max',
        'ALTER TABLE legal_authorization DROP COLUMN persona_age_min',
    ),
    "postgresql": (
        'DROP TRIGGER IF EXISTS annotation_append_only ON annotation',
        'DROP TRIGGER IF EXISTS annotation_no_truncate ON annotation',
        'DROP TRIGGER IF EXISTS suggestion_dismissal_append_only ON suggestion_dismissal',
        'DROP TRIGGER IF EXISTS suggestion_dismissal_no_truncate ON suggestion_dismissal',
        'DROP TRIGGER IF EXISTS contact_assessment_append_only ON contact_assessment',
        'DROP TRIGGER IF EXISTS contact_assessment_no_truncate ON contact_assessment',
        'DROP TRIGGER IF EXISTS profile_frozen ON profile',
        'CREATE TRIGGER profile_frozen BEFORE UPDATE OF id, operation_id, authorization_id, platform, handle, persona, proposed_by, proposed_at ON profile FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()',
        'ALTER TABLE profile DROP COLUMN persona_age',
        'ALTER TABLE legal_authorization DROP COLUMN persona_age_max',
        'ALTER TABLE legal_authorization DROP COLUMN persona_age_min',
    ),
}


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('annotation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=24), nullable=False),
    sa.Column('age', sa.Integer(), nullable=True),
    sa.Column('retracts_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('suggested_term', sa.Text(), nullable=True),
    sa.Column('remark', sa.Text(), nullable=False),
    sa.Column('annotated_by', sa.Integer(), nullable=False),
    sa.Column('annotated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['annotated_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['retracts_id'], ['annotation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('annotation', schema=None) as batch_op:
        batch_op.create_index('ix_annotation_contact', ['contact_id', 'id'], unique=False)
        batch_op.create_index('ix_annotation_message', ['message_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_annotation_operation_id'), ['operation_id'], unique=False)

    op.create_table('suggestion_dismissal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=24), nullable=False),
    sa.Column('term', sa.Text(), nullable=False),
    sa.Column('dismissed_by', sa.Integer(), nullable=False),
    sa.Column('dismissed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['dismissed_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('suggestion_dismissal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suggestion_dismissal_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_suggestion_dismissal_message', ['message_id', 'topic'], unique=False)
        batch_op.create_index(batch_op.f('ix_suggestion_dismissal_operation_id'), ['operation_id'], unique=False)

    op.create_table('contact_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('cause', sa.String(length=24), nullable=False),
    sa.Column('cause_id', sa.Integer(), nullable=True),
    sa.Column('basis_message_id', sa.Integer(), nullable=True),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('raised_first', sa.JSON(), nullable=False),
    sa.Column('message_flags', sa.JSON(), nullable=False),
    sa.Column('sheet', sa.JSON(), nullable=False),
    sa.Column('assessed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact_assessment', schema=None) as batch_op:
        batch_op.create_index('ix_contact_assessment_contact', ['contact_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_assessment_operation_id'), ['operation_id'], unique=False)

    for statement in UPGRADE_SQL[op.get_bind().dialect.name]:
        op.execute(sa.text(statement))


def downgrade() -> None:
    """Revert this revision."""
    for statement in DOWNGRADE_SQL[op.get_bind().dialect.name]:
        op.execute(sa.text(statement))
    with op.batch_alter_table('contact_assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_assessment_operation_id'))
        batch_op.drop_index('ix_contact_assessment_contact')

    op.drop_table('contact_assessment')
    with op.batch_alter_table('suggestion_dismissal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestion_dismissal_operation_id'))
        batch_op.drop_index('ix_suggestion_dismissal_message')
        batch_op.drop_index(batch_op.f('ix_suggestion_dismissal_contact_id'))

    op.drop_table('suggestion_dismissal')
    with op.batch_alter_table('annotation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annotation_operation_id'))
        batch_op.drop_index('ix_annotation_message')
        batch_op.drop_index('ix_annotation_contact')

    op.drop_table('annotation')
