"""functions resolve table names in their own schema, then pg_temp

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 23:40:00

PostgreSQL only. Unless pg_temp is named in a function's search_path, a session's temporary tables are
searched before every schema: a temporary audit_head, disposal_tombstone or profile_transition created
by whoever holds the application's role would stand in for the real table a trigger reads, and the
trigger would judge against it. Every PL/pgSQL function of the schema gets search_path = its schema,
pg_temp.

The SQL below is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PIN_SQL = """DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
        WHERE p.pronamespace = current_schema()::regnamespace AND l.lanname = 'plpgsql'
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f, current_schema());
    END LOOP;
END
$$"""
#: The downgrade: no search_path, save for the functions created with SET search_path FROM CURRENT, which
#: take the session's again as they did then.
UNPIN_SQL = """DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
        WHERE p.pronamespace = current_schema()::regnamespace AND l.lanname = 'plpgsql'
    LOOP
        IF f::text LIKE 'audit_append_entry(%' OR f::text LIKE 'audit_frontier_root(%'
            OR f::text LIKE 'decoy_record_message(%' THEN
            EXECUTE format('ALTER FUNCTION %s SET search_path FROM CURRENT', f);
        ELSE
            EXECUTE format('ALTER FUNCTION %s RESET search_path', f);
        END IF;
    END LOOP;
END
$$"""


def upgrade() -> None:
    """Apply this revision (PostgreSQL; nothing changes on SQLite)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(PIN_SQL))


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(UNPIN_SQL))
