"""text commitments: a salted commitment of each new message's and journal note's text, so that what a
disposal leaves behind reveals nothing of a short text

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 18:00:00

message and journal_note get body_salt (a random key, hex) and body_commitment (HMAC-SHA256 of the text
under that key, hex); both are NULL for a row recorded before this revision. The commitment is frozen
like every other column. A disposal empties the text, the key and, for a row with a commitment, the
plain SHA-256 too (a row without one keeps its SHA-256, which its audit entry already carries); nothing
else of the row may change, and only when a tombstone of an approved disposal names the row. In SQLite,
the trigger on the other columns is rebuilt without body_sha256 and with body_commitment, and the text's
trigger now watches the text, its SHA-256 and its key; in PostgreSQL, the frozen columns' trigger and the
disposal guard function are rebuilt likewise.

The SQL below (column types, triggers and statements) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The tables a disposal empties, the kind of their rows in a tombstone, and their frozen columns before
#: (revision 0019) and after this revision.
EMPTIED = {
    "message": ("message", (
        "id", "operation_id", "contact_id", "direction", "sent_at", "sent_offset_minutes", "recorded_at",
        "recorded_by", "body_sha256", "corrects_id", "flags", "capture_session_id", "operated_by",
        "import_id", "source", "platform_message_id", "assumed_timezone",
    ), (
        "id", "operation_id", "contact_id", "direction", "sent_at", "sent_offset_minutes", "recorded_at",
        "recorded_by", "body_commitment", "corrects_id", "flags", "capture_session_id", "operated_by",
        "import_id", "source", "platform_message_id", "assumed_timezone",
    )),
    "journal_note": ("note", (
        "id", "operation_id", "contact_id", "body_sha256", "written_by", "written_at",
    ), (
        "id", "operation_id", "contact_id", "body_commitment", "written_by", "written_at",
    )),
}
RECORD_MESSAGE_0008 = (
    "decoy_record_message(integer, integer, integer, varchar, timestamptz, integer, timestamptz, integer, "
    "text, varchar, integer, json, bigint, bytea, bytea)"
)
RECORD_MESSAGE_0020 = (
    "decoy_record_message(integer, integer, integer, varchar, timestamptz, integer, timestamptz, integer, "
    "text, varchar, varchar, varchar, integer, json, bigint, bytea, bytea)"
)
RECORD_MESSAGE_FUNCTION_0008 = """CREATE OR REPLACE FUNCTION decoy_record_message(
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
#: The function with the text's key and commitment.
RECORD_MESSAGE_FUNCTION = """CREATE OR REPLACE FUNCTION decoy_record_message(
    p_id integer, p_operation_id integer, p_contact_id integer, p_direction varchar,
    p_sent_at timestamptz, p_sent_offset_minutes integer, p_recorded_at timestamptz, p_recorded_by integer,
    p_body text, p_body_sha256 varchar, p_body_salt varchar, p_body_commitment varchar,
    p_corrects_id integer, p_flags json,
    p_audit_key bigint, p_audit_prefix bytea, p_audit_suffix bytea
) RETURNS bigint LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    written integer;
BEGIN
    INSERT INTO message (id, operation_id, contact_id, direction, sent_at, sent_offset_minutes,
                         recorded_at, recorded_by, body, body_sha256, body_salt, body_commitment,
                         corrects_id, flags)
        VALUES (p_id, p_operation_id, p_contact_id, p_direction, p_sent_at, p_sent_offset_minutes,
                p_recorded_at, p_recorded_by, p_body, p_body_sha256, p_body_salt, p_body_commitment,
                p_corrects_id, p_flags);
    GET DIAGNOSTICS written = ROW_COUNT;
    IF written <> 1 THEN
        RAISE EXCEPTION 'message % was not written; no audit entry is appended', p_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN audit_append_entry(p_audit_key, p_audit_prefix, p_audit_suffix);
END
$$"""


def _covered(kind: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM disposal_tombstone t JOIN disposal_approval a ON a.disposal_id = t.disposal_id "  # noqa: S608 - a fixed kind of this revision
        f"WHERE t.item_kind = '{kind}' AND t.item_id = OLD.id)"
    )


#: What a disposal may do to the text's columns: empty the text; empty the key; empty the SHA-256 only of
#: a row with a commitment.
_EMPTIED_ONLY = (
    "NEW.body = '' "
    "AND (NEW.body_sha256 = OLD.body_sha256 OR (OLD.body_commitment IS NOT NULL AND NEW.body_sha256 = '')) "
    "AND (NEW.body_salt IS OLD.body_salt OR NEW.body_salt = '')"
)
_EMPTIED_ONLY_PG = _EMPTIED_ONLY.replace("IS OLD.body_salt", "IS NOT DISTINCT FROM OLD.body_salt")


def _sqlite(table: str, kind: str, frozen: tuple[str, ...], watched: str, condition: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_text_disposed_only",
        f"DROP TRIGGER IF EXISTS {table}_no_update",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE OF {', '.join(frozen)} ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        f"CREATE TRIGGER {table}_text_disposed_only BEFORE UPDATE OF {watched} ON {table} WHEN NOT ({condition} AND {_covered(kind)}) BEGIN SELECT RAISE(ABORT, '{table} is append-only (its text is removed only under an approved disposal)'); END",
    ]


def _postgresql(table: str, kind: str, frozen: tuple[str, ...], unchanged: str, condition: str) -> list[str]:
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_disposal_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND {condition} AND {unchanged} AND {_covered(kind)} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only (its text is removed only under an approved disposal)', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END
$$""",
        f"DROP TRIGGER IF EXISTS {table}_frozen ON {table}",
        f"CREATE TRIGGER {table}_frozen BEFORE UPDATE OF {', '.join(frozen)} ON {table} FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
    ]


def upgrade() -> None:
    """Apply this revision."""
    for table in EMPTIED:
        op.add_column(table, sa.Column('body_salt', sa.String(length=64), nullable=True))
        op.add_column(table, sa.Column('body_commitment', sa.String(length=64), nullable=True))
    dialect = op.get_bind().dialect.name
    for table, (kind, _before, frozen) in EMPTIED.items():
        if dialect == "sqlite":
            statements = _sqlite(table, kind, frozen, "body, body_sha256, body_salt", _EMPTIED_ONLY)
        else:
            unchanged = ("(to_jsonb(NEW) - 'body' - 'body_sha256' - 'body_salt') = "
                         "(to_jsonb(OLD) - 'body' - 'body_sha256' - 'body_salt')")
            statements = _postgresql(table, kind, frozen, unchanged, _EMPTIED_ONLY_PG)
        for statement in statements:
            op.execute(statement)
    if dialect == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {RECORD_MESSAGE_0008}")
        op.execute(sa.text(RECORD_MESSAGE_FUNCTION))


def downgrade() -> None:
    """Revert this revision (the triggers and the function of revision 0019 and 0008)."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {RECORD_MESSAGE_0020}")
        op.execute(sa.text(RECORD_MESSAGE_FUNCTION_0008))
    for table, (kind, before, _frozen) in EMPTIED.items():
        if dialect == "sqlite":
            statements = _sqlite(table, kind, before, "body", "NEW.body = ''")
        else:
            unchanged = "(to_jsonb(NEW) - 'body') = (to_jsonb(OLD) - 'body')"
            statements = _postgresql(table, kind, before, unchanged, "NEW.body = ''")
        for statement in statements:
            op.execute(statement)
    for table in EMPTIED:
        # Plain ALTER TABLE on both databases: the tables are append-only and referenced, never rebuilt.
        op.execute(f"ALTER TABLE {table} DROP COLUMN body_commitment")
        op.execute(f"ALTER TABLE {table} DROP COLUMN body_salt")
