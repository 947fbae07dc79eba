"""audit_append_entry: PostgreSQL's whole append (locks, head, entry, tree) in one call

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 07:00:00

The SQL below (triggers and functions) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
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

#: The audit tables' triggers (idempotent): append-only entries and checkpoints, a head that moves one entry
#: at a time; on PostgreSQL also the one-call append, audit_append_entry.
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

#: The audit head's first row: the empty tree (its root is the SHA-256 of nothing, its frontier empty).
EMPTY_HEAD_SQL = "INSERT INTO audit_head (id, size, root, frontier) VALUES (1, 0, :root, :frontier) ON CONFLICT (id) DO NOTHING"
EMPTY_ROOT = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

#: The function of revision 0006, which this revision drops and its downgrade restores (PostgreSQL).
AUDIT_APPEND_FUNCTION = """CREATE OR REPLACE FUNCTION audit_append(p_idx bigint, p_entry bytea, p_leaf bytea,
    p_root bytea, p_frontier bytea) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    moved integer;
BEGIN
    INSERT INTO audit_entry (idx, entry, leaf_hash) VALUES (p_idx, p_entry, p_leaf);
    UPDATE audit_head SET size = p_idx + 1, root = p_root, frontier = p_frontier
        WHERE id = 1 AND size = p_idx;
    GET DIAGNOSTICS moved = ROW_COUNT;
    RETURN moved;
END
$$"""
DROP_AUDIT_APPEND_SQL = "DROP FUNCTION IF EXISTS audit_append(bigint, bytea, bytea, bytea, bytea)"
#: What the downgrade removes besides (PostgreSQL): the functions of the one-call append.
DROP_FUNCTIONS_SQL = (
    "DROP FUNCTION IF EXISTS audit_append_entry(bigint, bytea, bytea)",
    "DROP FUNCTION IF EXISTS audit_frontier_root(bytea)",
)


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
    """Apply this revision (the trigger set is idempotent and now includes the new functions).

    Processes of the previous version call audit_append, dropped here: stop them before migrating.
    """
    _execute(AUDIT_TRIGGERS_SQL)
    _insert_empty_head()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(DROP_AUDIT_APPEND_SQL))


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(AUDIT_APPEND_FUNCTION))
        for statement in DROP_FUNCTIONS_SQL:
            op.execute(sa.text(statement))
