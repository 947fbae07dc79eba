"""operations and evidence

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 12:19:48.850813

The SQL below (column types, triggers and functions) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The PostgreSQL functions that the statements below create.
DECOY_REJECT_CHANGE_FUNCTION = """CREATE OR REPLACE FUNCTION decoy_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END
$$"""
PROFILE_STATUS_FOLLOWS_HISTORY_FUNCTION = """CREATE OR REPLACE FUNCTION profile_status_follows_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM (SELECT to_status FROM profile_transition WHERE profile_id = NEW.id ORDER BY id DESC LIMIT 1) THEN
        RAISE EXCEPTION 'profile status must follow its transition history'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$"""

#: Evidence tables are append-only. A profile's status may change only together with its transition row (its
#: latest transition names it); its identity never.
UPGRADE_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE TRIGGER IF NOT EXISTS legal_authorization_no_delete BEFORE DELETE ON legal_authorization BEGIN SELECT RAISE(ABORT, 'legal_authorization is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS legal_authorization_no_update BEFORE UPDATE ON legal_authorization BEGIN SELECT RAISE(ABORT, 'legal_authorization is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS authorization_officer_no_delete BEFORE DELETE ON authorization_officer BEGIN SELECT RAISE(ABORT, 'authorization_officer is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS authorization_officer_no_update BEFORE UPDATE ON authorization_officer BEGIN SELECT RAISE(ABORT, 'authorization_officer is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS authorization_document_no_delete BEFORE DELETE ON authorization_document BEGIN SELECT RAISE(ABORT, 'authorization_document is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS authorization_document_no_update BEFORE UPDATE ON authorization_document BEGIN SELECT RAISE(ABORT, 'authorization_document is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS profile_transition_no_delete BEFORE DELETE ON profile_transition BEGIN SELECT RAISE(ABORT, 'profile_transition is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS profile_transition_no_update BEFORE UPDATE ON profile_transition BEGIN SELECT RAISE(ABORT, 'profile_transition is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS contact_no_delete BEFORE DELETE ON contact BEGIN SELECT RAISE(ABORT, 'contact is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS contact_no_update BEFORE UPDATE ON contact BEGIN SELECT RAISE(ABORT, 'contact is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS message_no_delete BEFORE DELETE ON message BEGIN SELECT RAISE(ABORT, 'message is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS message_no_update BEFORE UPDATE ON message BEGIN SELECT RAISE(ABORT, 'message is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS attachment_no_delete BEFORE DELETE ON attachment BEGIN SELECT RAISE(ABORT, 'attachment is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS attachment_no_update BEFORE UPDATE ON attachment BEGIN SELECT RAISE(ABORT, 'attachment is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS profile_no_delete BEFORE DELETE ON profile BEGIN SELECT RAISE(ABORT, 'profile is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS profile_no_update BEFORE UPDATE OF id, operation_id, authorization_id, platform, handle, persona, proposed_by, proposed_at ON profile BEGIN SELECT RAISE(ABORT, 'profile is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS profile_status_follows_history BEFORE UPDATE OF status ON profile WHEN NEW.status IS NOT (SELECT to_status FROM profile_transition WHERE profile_id = NEW.id ORDER BY id DESC LIMIT 1) BEGIN SELECT RAISE(ABORT, 'profile status must follow its transition history'); END",
    ),
    "postgresql": (
        DECOY_REJECT_CHANGE_FUNCTION,
        "DROP TRIGGER IF EXISTS legal_authorization_append_only ON legal_authorization",
        "CREATE TRIGGER legal_authorization_append_only BEFORE DELETE OR UPDATE ON legal_authorization FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        "DROP TRIGGER IF EXISTS legal_authorization_no_truncate ON legal_authorization",
        "CREATE TRIGGER legal_authorization_no_truncate BEFORE TRUNCATE ON legal_authorization FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()",
        DECOY_REJECT_CHANGE_FUNCTION,
        "DROP TRIGGER IF EXISTS authorization_officer_append_only ON authorization_officer",
        "CREATE TRIGGER authorization_officer_append_only BEFORE DELETE OR UPDATE ON authorization_officer FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        "DROP TRIGGER IF EXISTS authorization_officer_no_truncate ON authorization_officer",
        "CREATE TRIGGER authorization_officer_no_truncate BEFORE TRUNCATE ON authorization_officer FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()",
        DECOY_REJECT_CHANGE_FUNCTION,
        "DROP TRIGGER IF EXISTS authorization_document_append_only ON authorization_document",
        "CREATE TRIGGER authorization_document_append_only BEFORE DELETE OR UPDATE ON authorization_document FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        "DROP TRIGGER IF EXISTS authorization_document_no_truncate ON authorization_document",
        "CREATE TRIGGER authorization_document_no_truncate BEFORE TRUNCATE ON authorization_document FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()",
        DECOY_REJECT_CHANGE_FUNCTION,
        "DROP TRIGGER IF EXISTS profile_transition_append_only ON profile_transition",
        "CREATE TRIGGER profile_transition_append_only BEFORE DELETE OR UPDATE ON profile_transition FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        "DROP TRIGGER IF EXISTS profile_transition_no_truncate ON profile_transition",
        "CREATE TRIGGER profile_transition_no_truncate BEFORE TRUNCATE ON profile_transition FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()",
        DECOY_REJECT_CHANGE_FUNCTION,
        "DROP TRIGGER IF EXISTS contact_append_only ON contact",
        "CREATE TRIGGER contact_append_only BEFORE DELETE OR UPDATE ON contact FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        "DROP TRIGGER IF EXISTS contact_no_truncate ON contact",
        "CREATE TRIGGER contact_no_truncate BEFORE TRUNCATE ON contact FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()",
        DECOY_REJECT_CHANGE_FUNCTION,
        "DROP TRIGGER IF EXISTS message_append_only ON message",
        "CREATE TRIGGER message_append_only BEFORE DELETE OR UPDATE ON message FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        "DROP TRIGGER IF EXISTS message_no_truncate ON message",
        "CREATE TRIGGER message_no_truncate BEFORE TRUNCATE ON message FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()",
        DECOY_REJECT_CHANGE_FUNCTION,
        "DROP TRIGGER IF EXISTS attachment_append_only ON attachment",
        "CREATE TRIGGER attachment_append_only BEFORE DELETE OR UPDATE ON attachment FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        "DROP TRIGGER IF EXISTS attachment_no_truncate ON attachment",
        "CREATE TRIGGER attachment_no_truncate BEFORE TRUNCATE ON attachment FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()",
        DECOY_REJECT_CHANGE_FUNCTION,
        "DROP TRIGGER IF EXISTS profile_append_only ON profile",
        "CREATE TRIGGER profile_append_only BEFORE DELETE ON profile FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        "DROP TRIGGER IF EXISTS profile_frozen ON profile",
        "CREATE TRIGGER profile_frozen BEFORE UPDATE OF id, operation_id, authorization_id, platform, handle, persona, proposed_by, proposed_at ON profile FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        "DROP TRIGGER IF EXISTS profile_no_truncate ON profile",
        "CREATE TRIGGER profile_no_truncate BEFORE TRUNCATE ON profile FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()",
        PROFILE_STATUS_FOLLOWS_HISTORY_FUNCTION,
        "DROP TRIGGER IF EXISTS profile_status_follows_history ON profile",
        "CREATE TRIGGER profile_status_follows_history BEFORE UPDATE OF status ON profile FOR EACH ROW EXECUTE FUNCTION profile_status_follows_history()",
    ),
}

#: What the downgrade removes.
DOWNGRADE_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "DROP TRIGGER IF EXISTS legal_authorization_no_delete",
        "DROP TRIGGER IF EXISTS legal_authorization_no_update",
        "DROP TRIGGER IF EXISTS authorization_officer_no_delete",
        "DROP TRIGGER IF EXISTS authorization_officer_no_update",
        "DROP TRIGGER IF EXISTS authorization_document_no_delete",
        "DROP TRIGGER IF EXISTS authorization_document_no_update",
        "DROP TRIGGER IF EXISTS profile_transition_no_delete",
        "DROP TRIGGER IF EXISTS profile_transition_no_update",
        "DROP TRIGGER IF EXISTS contact_no_delete",
        "DROP TRIGGER IF EXISTS contact_no_update",
        "DROP TRIGGER IF EXISTS message_no_delete",
        "DROP TRIGGER IF EXISTS message_no_update",
        "DROP TRIGGER IF EXISTS attachment_no_delete",
        "DROP TRIGGER IF EXISTS attachment_no_update",
        "DROP TRIGGER IF EXISTS profile_no_delete",
        "DROP TRIGGER IF EXISTS profile_no_update",
        "DROP TRIGGER IF EXISTS profile_status_follows_history",
    ),
    "postgresql": (
        "DROP TRIGGER IF EXISTS legal_authorization_append_only ON legal_authorization",
        "DROP TRIGGER IF EXISTS legal_authorization_frozen ON legal_authorization",
        "DROP TRIGGER IF EXISTS legal_authorization_no_truncate ON legal_authorization",
        "DROP TRIGGER IF EXISTS authorization_officer_append_only ON authorization_officer",
        "DROP TRIGGER IF EXISTS authorization_officer_frozen ON authorization_officer",
        "DROP TRIGGER IF EXISTS authorization_officer_no_truncate ON authorization_officer",
        "DROP TRIGGER IF EXISTS authorization_document_append_only ON authorization_document",
        "DROP TRIGGER IF EXISTS authorization_document_frozen ON authorization_document",
        "DROP TRIGGER IF EXISTS authorization_document_no_truncate ON authorization_document",
        "DROP TRIGGER IF EXISTS profile_transition_append_only ON profile_transition",
        "DROP TRIGGER IF EXISTS profile_transition_frozen ON profile_transition",
        "DROP TRIGGER IF EXISTS profile_transition_no_truncate ON profile_transition",
        "DROP TRIGGER IF EXISTS contact_append_only ON contact",
        "DROP TRIGGER IF EXISTS contact_frozen ON contact",
        "DROP TRIGGER IF EXISTS contact_no_truncate ON contact",
        "DROP TRIGGER IF EXISTS message_append_only ON message",
        "DROP TRIGGER IF EXISTS message_frozen ON message",
        "DROP TRIGGER IF EXISTS message_no_truncate ON message",
        "DROP TRIGGER IF EXISTS attachment_append_only ON attachment",
        "DROP TRIGGER IF EXISTS attachment_frozen ON attachment",
        "DROP TRIGGER IF EXISTS attachment_no_truncate ON attachment",
        "DROP TRIGGER IF EXISTS profile_append_only ON profile",
        "DROP TRIGGER IF EXISTS profile_frozen ON profile",
        "DROP TRIGGER IF EXISTS profile_no_truncate ON profile",
        "DROP TRIGGER IF EXISTS profile_status_follows_history ON profile",
    ),
}


def _execute(statements: dict[str, tuple[str, ...]]) -> None:
    """Run this revision's statements for the connection's dialect."""
    bind = op.get_bind()
    for statement in statements[bind.dialect.name]:
        bind.execute(sa.text(statement))


def upgrade() -> None:
    """Apply this revision."""
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('operation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('team', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('legal_authorization',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('authority', sa.String(length=200), nullable=False),
    sa.Column('issuer_name', sa.String(length=200), nullable=False),
    sa.Column('legal_basis', sa.String(length=200), nullable=False),
    sa.Column('offence', sa.Text(), nullable=False),
    sa.Column('suspect_description', sa.Text(), nullable=False),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.Column('method', sa.Text(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('review_interval_days', sa.Integer(), nullable=False),
    sa.Column('platforms', sa.JSON(), nullable=False),
    sa.Column('persona_constraints', sa.Text(), nullable=False),
    sa.Column('may_initiate_contact', sa.Boolean(), nullable=False),
    sa.Column('max_profiles', sa.Integer(), nullable=False),
    sa.Column('conditions', sa.Text(), nullable=False),
    sa.Column('written_order_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('registered_by', sa.Integer(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['registered_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['supersedes_id'], ['legal_authorization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('operation_id', 'reference', name='uq_authorization_reference')
    )
    with op.batch_alter_table('legal_authorization', schema=None) as batch_op:
        batch_op.create_index('ix_authorization_supersedes', ['supersedes_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_legal_authorization_operation_id'), ['operation_id'], unique=False)

    op.create_table('operation_member',
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_by', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('operation_id', 'user_id')
    )
    with op.batch_alter_table('operation_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operation_member_user_id'), ['user_id'], unique=False)

    op.create_table('authorization_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('authorization_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['authorization_id'], ['legal_authorization.id'], ),
    sa.ForeignKeyConstraint(['uploaded_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('authorization_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authorization_document_authorization_id'), ['authorization_id'], unique=False)

    op.create_table('authorization_officer',
    sa.Column('authorization_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['authorization_id'], ['legal_authorization.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('authorization_id', 'user_id')
    )
    op.create_table('profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('authorization_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=80), nullable=False),
    sa.Column('handle', sa.String(length=200), nullable=False),
    sa.Column('persona', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('proposed_by', sa.Integer(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approved_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['authorization_id'], ['legal_authorization.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['proposed_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('profile', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_profile_authorization_id'), ['authorization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_profile_operation_id'), ['operation_id'], unique=False)

    op.create_table('contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('counterpart', sa.Text(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['profile_id'], ['profile.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_operation_id'), ['operation_id'], unique=False)
        batch_op.create_index('ix_contact_profile', ['profile_id', 'id'], unique=False)

    op.create_table('profile_transition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=24), nullable=True),
    sa.Column('to_status', sa.String(length=24), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['profile.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('profile_transition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_profile_transition_profile_id'), ['profile_id'], unique=False)

    op.create_table('message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_offset_minutes', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['corrects_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_contact_order', ['contact_id', 'sent_at', 'id'], unique=False)
        batch_op.create_index('ix_message_contact_direction', ['contact_id', 'direction', 'sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_operation_id'), ['operation_id'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_operation_id'), ['operation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_sha256'), ['sha256'], unique=False)

    # ### end Alembic commands ###
    _execute(UPGRADE_SQL)


def downgrade() -> None:
    """Revert this revision."""
    _execute(DOWNGRADE_SQL)
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_sha256'))
        batch_op.drop_index(batch_op.f('ix_attachment_operation_id'))
        batch_op.drop_index(batch_op.f('ix_attachment_message_id'))

    op.drop_table('attachment')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_operation_id'))
        batch_op.drop_index('ix_message_contact_direction')
        batch_op.drop_index('ix_message_contact_order')

    op.drop_table('message')
    with op.batch_alter_table('profile_transition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_profile_transition_profile_id'))

    op.drop_table('profile_transition')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_profile')
        batch_op.drop_index(batch_op.f('ix_contact_operation_id'))

    op.drop_table('contact')
    with op.batch_alter_table('profile', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_profile_operation_id'))
        batch_op.drop_index(batch_op.f('ix_profile_authorization_id'))

    op.drop_table('profile')
    op.drop_table('authorization_officer')
    with op.batch_alter_table('authorization_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_authorization_document_authorization_id'))

    op.drop_table('authorization_document')
    with op.batch_alter_table('operation_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operation_member_user_id'))

    op.drop_table('operation_member')
    with op.batch_alter_table('legal_authorization', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_authorization_operation_id'))
        batch_op.drop_index('ix_authorization_supersedes')

    op.drop_table('legal_authorization')
    op.drop_table('operation')
    # ### end Alembic commands ###
