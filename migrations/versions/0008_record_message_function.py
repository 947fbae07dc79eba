"""decoy_record_message: a message row and its audit entry in one call (PostgreSQL)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00

The SQL below is frozen as written: no later code changes it. The function inserts the message row with
the id the application took from the message sequence, then appends the entry that names it with
audit_append_entry(key, prefix, suffix) (revision 0007), and answers the entry's index. Both happen in
the caller's statement, so they commit or roll back together; a row that was not written (a trigger
that dropped it) makes the call fail, appending nothing.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD_MESSAGE_SIGNATURE = (
    "decoy_record_message(integer, integer, integer, varchar, timestamptz, integer, timestamptz, integer, "
    "text, varchar, integer, json, bigint, bytea, bytea)"
)
RECORD_MESSAGE_FUNCTION = """CREATE OR REPLACE FUNCTION decoy_record_message(
    p_id integer, p_operation_id integer, p_contact_id integer, p_direction varchar,
    p_sent_at timestamptz, p_sent_offset_minutes integer, p_recorded_at timestamptz, p_recorded_by integer,
    p_body text, p_body_sha256 varchar, p_corrects_id integer, p_flags json,
    p_audit_key bigint, p_audit_prefix bytea, p_audit_suffix bytea
) RETURNS bigint LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    written integer;
BEGIN
    INSERT INTO message (id, operation_id, contact_id, direction, sent_at, sent_offset_minutes,
                         recorded_at, recorded_by, body, body_sha256, corrects_id, flags)
        VALUES (p_id, p_operation_id, p_contact_id, p_direction, p_sent_at, p_sent_offset_minutes,
                p_recorded_at, p_recorded_by, p_body, p_body_sha256, p_corrects_id, p_flags);
    GET DIAGNOSTICS written = ROW_COUNT;
    IF written <> 1 THEN
        RAISE EXCEPTION 'message % was not written; no audit entry is appended', p_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN audit_append_entry(p_audit_key, p_audit_prefix, p_audit_suffix);
END
$$"""


def upgrade() -> None:
    """Apply this revision (PostgreSQL only: SQLite writes the row and the entry as plain statements)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(RECORD_MESSAGE_FUNCTION))


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(f"DROP FUNCTION IF EXISTS {RECORD_MESSAGE_SIGNATURE}"))
