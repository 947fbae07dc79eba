"""accounts and audit log

Revision ID: 0001
Revises:
Create Date: 2026-11-28 12:17:29.491770

The SQL below (column types, triggers and functions) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The PostgreSQL functions that the statements below create.
AUDIT_REJECT_CHANGE_FUNCTION = """CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END
$$"""
AUDIT_ENTRY_AT_HEAD_FUNCTION = """CREATE OR REPLACE FUNCTION audit_entry_at_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.idx IS DISTINCT FROM (SELECT size FROM audit_head WHERE id = 1) THEN
        RAISE EXCEPTION 'audit_entry must be appended at the head'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$"""
AUDIT_FRONTIER_ROOT_FUNCTION = """CREATE OR REPLACE FUNCTION audit_frontier_root(p_frontier bytea) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT SET search_path FROM CURRENT AS $$
DECLARE
    n integer := length(p_frontier) / 32;
    result bytea;
BEGIN
    IF n = 0 THEN
        RETURN sha256(''::bytea);
    END IF;
    result := substring(p_frontier FROM (n - 1) * 32 + 1 FOR 32);
    FOR i IN REVERSE n - 2..0 LOOP
        result := sha256(decode('01', 'hex') || substring(p_frontier FROM i * 32 + 1 FOR 32) || result);
    END LOOP;
    RETURN result;
END
$$"""
AUDIT_APPEND_ENTRY_FUNCTION = """CREATE OR REPLACE FUNCTION audit_append_entry(p_key bigint, p_prefix bytea, p_suffix bytea)
    RETURNS bigint LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    v_size bigint;
    v_root bytea;
    v_frontier bytea;
    v_entry bytea;
    v_leaf bytea;
    v_node bytea;
    v_carry bigint;
    v_bits integer := 0;
    v_moved integer;
BEGIN
    PERFORM pg_advisory_xact_lock(p_key);
    SELECT size, root, frontier INTO v_size, v_root, v_frontier FROM audit_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit_head row is missing; run install_triggers' USING ERRCODE = 'DA001';
    END IF;
    v_carry := v_size;
    WHILE v_carry > 0 LOOP
        v_bits := v_bits + (v_carry & 1)::integer;
        v_carry := v_carry >> 1;
    END LOOP;
    IF length(v_frontier) <> 32 * v_bits OR audit_frontier_root(v_frontier) <> v_root THEN
        RAISE EXCEPTION 'audit_head frontier does not match its root' USING ERRCODE = 'DA001';
    END IF;
    v_entry := p_prefix || convert_to(v_size::text, 'UTF8') || p_suffix;
    v_leaf := sha256(decode('00', 'hex') || v_entry);
    v_node := v_leaf;
    v_carry := v_size;
    -- Every trailing one bit of the old size is a perfect subtree the new leaf completes.
    WHILE (v_carry & 1) = 1 LOOP
        v_node := sha256(
            decode('01', 'hex') || substring(v_frontier FROM length(v_frontier) - 31 FOR 32) || v_node
        );
        v_frontier := substring(v_frontier FROM 1 FOR length(v_frontier) - 32);
        v_carry := v_carry >> 1;
    END LOOP;
    v_frontier := v_frontier || v_node;
    INSERT INTO audit_entry (idx, entry, leaf_hash) VALUES (v_size, v_entry, v_leaf);
    UPDATE audit_head SET size = v_size + 1, root = audit_frontier_root(v_frontier), frontier = v_frontier
        WHERE id = 1 AND size = v_size;
    GET DIAGNOSTICS v_moved = ROW_COUNT;
    IF v_moved <> 1 THEN
        RAISE EXCEPTION 'audit_head moved during an append: appends are not serialised'
            USING ERRCODE = 'DA001';
    END IF;
    RETURN v_size;
END
$$"""
AUDIT_HEAD_ONE_STEP_FUNCTION = """CREATE OR REPLACE FUNCTION audit_head_one_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_head cannot be deleted' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.size IS DISTINCT FROM OLD.size + 1 THEN
        RAISE EXCEPTION 'audit_head moves forward by one entry'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$"""

#: The audit tables' triggers: append-only entries and checkpoints, a head that moves one entry at a time.
AUDIT_TRIGGERS_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON audit_entry BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON audit_entry BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_entry_at_head BEFORE INSERT ON audit_entry WHEN NEW.idx IS NOT (SELECT size FROM audit_head WHERE id = 1) BEGIN SELECT RAISE(ABORT, 'audit_entry must be appended at the head'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON audit_head BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_head_one_step BEFORE UPDATE ON audit_head WHEN NEW.id IS NOT OLD.id OR NEW.size IS NOT OLD.size + 1 BEGIN SELECT RAISE(ABORT, 'audit_head moves forward by one entry'); END",
    ),
    "postgresql": (
        AUDIT_REJECT_CHANGE_FUNCTION,
        AUDIT_ENTRY_AT_HEAD_FUNCTION,
        AUDIT_FRONTIER_ROOT_FUNCTION,
        AUDIT_APPEND_ENTRY_FUNCTION,
        AUDIT_HEAD_ONE_STEP_FUNCTION,
        "DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry",
        "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry FOR EACH ROW EXECUTE FUNCTION audit_reject_change()",
        "DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry",
        "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()",
        "DROP TRIGGER IF EXISTS audit_entry_at_head ON audit_entry",
        "CREATE TRIGGER audit_entry_at_head BEFORE INSERT ON audit_entry FOR EACH ROW EXECUTE FUNCTION audit_entry_at_head()",
        "DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_checkpoint",
        "CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint FOR EACH ROW EXECUTE FUNCTION audit_reject_change()",
        "DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_checkpoint",
        "CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()",
        "DROP TRIGGER IF EXISTS audit_head_one_step ON audit_head",
        "CREATE TRIGGER audit_head_one_step BEFORE UPDATE OR DELETE ON audit_head FOR EACH ROW EXECUTE FUNCTION audit_head_one_step()",
        "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head",
        "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()",
    ),
}

#: What the downgrade removes.
DROP_AUDIT_TRIGGERS_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "DROP TRIGGER IF EXISTS audit_entry_no_update",
        "DROP TRIGGER IF EXISTS audit_entry_no_delete",
        "DROP TRIGGER IF EXISTS audit_checkpoint_no_update",
        "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete",
        "DROP TRIGGER IF EXISTS audit_entry_at_head",
        "DROP TRIGGER IF EXISTS audit_head_no_delete",
        "DROP TRIGGER IF EXISTS audit_head_one_step",
    ),
    "postgresql": (
        "DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry",
        "DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry",
        "DROP TRIGGER IF EXISTS audit_entry_at_head ON audit_entry",
        "DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_checkpoint",
        "DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_checkpoint",
        "DROP TRIGGER IF EXISTS audit_head_one_step ON audit_head",
        "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head",
        "DROP FUNCTION IF EXISTS audit_reject_change()",
        "DROP FUNCTION IF EXISTS audit_entry_at_head()",
        "DROP FUNCTION IF EXISTS audit_head_one_step()",
        "DROP FUNCTION IF EXISTS audit_append_entry(bigint, bytea, bytea)",
        "DROP FUNCTION IF EXISTS audit_frontier_root(bytea)",
        "DROP FUNCTION IF EXISTS audit_append(bigint, bytea, bytea, bytea, bytea)",
    ),
}

#: The audit head's first row: the empty tree (its root is the SHA-256 of nothing, its frontier empty).
EMPTY_HEAD_SQL = "INSERT INTO audit_head (id, size, root, frontier) VALUES (1, 0, :root, :frontier) ON CONFLICT (id) DO NOTHING"
EMPTY_ROOT = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def _execute(statements: dict[str, tuple[str, ...]]) -> None:
    """Run this revision's statements for the connection's dialect."""
    bind = op.get_bind()
    for statement in statements[bind.dialect.name]:
        bind.execute(sa.text(statement))


def _insert_empty_head() -> None:
    """Create the audit head row unless it exists."""
    op.get_bind().execute(
        sa.text(EMPTY_HEAD_SQL).bindparams(
            sa.bindparam("root", type_=sa.LargeBinary), sa.bindparam("frontier", type_=sa.LargeBinary)
        ),
        {"root": EMPTY_ROOT, "frontier": b""},
    )


def upgrade() -> None:
    """Apply this revision."""
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('root', sa.LargeBinary(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_checkpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_checkpoint_size'), ['size'], unique=False)

    op.create_table('audit_entry',
    sa.Column('idx', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('entry', sa.LargeBinary(), nullable=False),
    sa.Column('leaf_hash', sa.LargeBinary(length=32), nullable=False),
    sa.CheckConstraint('idx >= 0', name='ck_audit_entry_idx_nonnegative'),
    sa.PrimaryKeyConstraint('idx')
    )
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('root', sa.LargeBinary(length=32), nullable=False),
    sa.Column('frontier', sa.LargeBinary(), nullable=False),
    sa.CheckConstraint('id = 1', name='ck_audit_head_single_row'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('login_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempt_address_at', ['address', 'at'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('totp_secret', sa.LargeBinary(), nullable=False),
    sa.Column('totp_confirmed', sa.Boolean(), nullable=False),
    sa.Column('totp_last_step', sa.Integer(), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('session_epoch', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=200), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)

    op.create_table('user_role',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'role')
    )
    # ### end Alembic commands ###
    _execute(AUDIT_TRIGGERS_SQL)
    _insert_empty_head()


def downgrade() -> None:
    """Revert this revision."""
    _execute(DROP_AUDIT_TRIGGERS_SQL)
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_table('user_role')
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))

    op.drop_table('recovery_code')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    op.drop_table('user_account')
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_address_at')

    op.drop_table('login_attempt')
    op.drop_table('audit_head')
    op.drop_table('audit_entry')
    with op.batch_alter_table('audit_checkpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_checkpoint_size'))

    op.drop_table('audit_checkpoint')
    # ### end Alembic commands ###
