"""audit batch append: PostgreSQL's head moves once past a batch of entries

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 23:20:00

PostgreSQL only (SQLite's triggers are unchanged). An entry is accepted at the next index (the head's, or
one past the entries already written beyond it); the head moves forward to exactly one past those
entries; a deferred constraint trigger refuses, at commit, an entry left beyond the head. One append at a time passes as
before; a batch writes its entries and moves the head once.

The SQL below (triggers and functions) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIT_ENTRY_AT_HEAD_FUNCTION = """CREATE OR REPLACE FUNCTION audit_entry_at_head() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_size bigint;
BEGIN
    SELECT size INTO v_size FROM audit_head WHERE id = 1;
    IF NEW.idx IS DISTINCT FROM
        COALESCE((SELECT max(idx) + 1 FROM audit_entry WHERE idx >= v_size), v_size) THEN
        RAISE EXCEPTION 'audit_entry must be appended at the head'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$"""
AUDIT_ENTRY_UNDER_HEAD_FUNCTION = """CREATE OR REPLACE FUNCTION audit_entry_under_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.idx >= (SELECT size FROM audit_head WHERE id = 1) THEN
        RAISE EXCEPTION 'audit_entry lies beyond the head at commit'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$"""
AUDIT_HEAD_ONE_STEP_FUNCTION = """CREATE OR REPLACE FUNCTION audit_head_one_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_head cannot be deleted' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.size <= OLD.size
        OR NEW.size IS DISTINCT FROM (SELECT max(idx) + 1 FROM audit_entry WHERE idx >= OLD.size) THEN
        RAISE EXCEPTION 'audit_head moves forward to one past the last entry'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$"""
UPGRADE_SQL = (
    AUDIT_ENTRY_AT_HEAD_FUNCTION,
    AUDIT_ENTRY_UNDER_HEAD_FUNCTION,
    AUDIT_HEAD_ONE_STEP_FUNCTION,
    "DROP TRIGGER IF EXISTS audit_entry_under_head ON audit_entry",
    "CREATE CONSTRAINT TRIGGER audit_entry_under_head AFTER INSERT ON audit_entry DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_entry_under_head()",
)

#: The definitions of revision 0007, which the downgrade restores.
PREVIOUS_AT_HEAD_FUNCTION = """CREATE OR REPLACE FUNCTION audit_entry_at_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.idx IS DISTINCT FROM (SELECT size FROM audit_head WHERE id = 1) THEN
        RAISE EXCEPTION 'audit_entry must be appended at the head'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$"""
PREVIOUS_ONE_STEP_FUNCTION = """CREATE OR REPLACE FUNCTION audit_head_one_step() RETURNS trigger LANGUAGE plpgsql AS $$
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
DOWNGRADE_SQL = (
    "DROP TRIGGER IF EXISTS audit_entry_under_head ON audit_entry",
    "DROP FUNCTION IF EXISTS audit_entry_under_head()",
    PREVIOUS_AT_HEAD_FUNCTION,
    PREVIOUS_ONE_STEP_FUNCTION,
)


def upgrade() -> None:
    """Apply this revision (PostgreSQL; nothing changes on SQLite).

    Processes of the previous version append one entry per move of the head, which these triggers also
    admit: they may run on while this revision is applied.
    """
    if op.get_bind().dialect.name == "postgresql":
        for statement in UPGRADE_SQL:
            op.execute(sa.text(statement))


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWNGRADE_SQL:
            op.execute(sa.text(statement))
