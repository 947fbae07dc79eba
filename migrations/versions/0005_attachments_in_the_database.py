"""attachments in the database

Revision ID: 0005
Revises: 0004
Create Date: 2026-03-09 09:00:00

Tables for the database attachment store (ATTACHMENT_STORE=database): a header row per file and its
content in chunks. Both are append-only like the other evidence tables, with one exception the move
to the file store needs: a blob and its chunks may be deleted once an (append-only) release row names
that stored copy, which `decoy attachments move --to files` writes only after it has verified the copy.

The SQL below (column types, triggers and functions) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The PostgreSQL functions that the statements below create.
DECOY_REJECT_CHANGE_FUNCTION = """CREATE OR REPLACE FUNCTION decoy_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END
$$"""
EVIDENCE_BLOB_DELETE_GUARD_FUNCTION = """CREATE OR REPLACE FUNCTION evidence_blob_delete_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM evidence_blob_release r WHERE r.blob_id = OLD.id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'evidence_blob is append-only (a stored file is removed only after a recorded release)' USING ERRCODE = 'integrity_constraint_violation';
END
$$"""
EVIDENCE_BLOB_CHUNK_DELETE_GUARD_FUNCTION = """CREATE OR REPLACE FUNCTION evidence_blob_chunk_delete_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM evidence_blob_release r JOIN evidence_blob b ON b.id = r.blob_id WHERE b.sha256 = OLD.sha256) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'evidence_blob_chunk is append-only (a stored file is removed only after a recorded release)' USING ERRCODE = 'integrity_constraint_violation';
END
$$"""

#: No UPDATE ever; no DELETE of a blob or chunk unless a release names its stored copy (of a release, never);
#: no TRUNCATE.
UPGRADE_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE TRIGGER IF NOT EXISTS evidence_blob_release_no_delete BEFORE DELETE ON evidence_blob_release BEGIN SELECT RAISE(ABORT, 'evidence_blob_release is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS evidence_blob_release_no_update BEFORE UPDATE ON evidence_blob_release BEGIN SELECT RAISE(ABORT, 'evidence_blob_release is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS evidence_blob_no_update BEFORE UPDATE ON evidence_blob BEGIN SELECT RAISE(ABORT, 'evidence_blob is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS evidence_blob_no_delete BEFORE DELETE ON evidence_blob WHEN NOT EXISTS (SELECT 1 FROM evidence_blob_release r WHERE r.blob_id = OLD.id) BEGIN SELECT RAISE(ABORT, 'evidence_blob is append-only (a stored file is removed only after a recorded release)'); END",
        "CREATE TRIGGER IF NOT EXISTS evidence_blob_chunk_no_update BEFORE UPDATE ON evidence_blob_chunk BEGIN SELECT RAISE(ABORT, 'evidence_blob_chunk is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS evidence_blob_chunk_no_delete BEFORE DELETE ON evidence_blob_chunk WHEN NOT EXISTS (SELECT 1 FROM evidence_blob_release r JOIN evidence_blob b ON b.id = r.blob_id WHERE b.sha256 = OLD.sha256) BEGIN SELECT RAISE(ABORT, 'evidence_blob_chunk is append-only (a stored file is removed only after a recorded release)'); END",
    ),
    "postgresql": (
        DECOY_REJECT_CHANGE_FUNCTION,
        "DROP TRIGGER IF EXISTS evidence_blob_release_append_only ON evidence_blob_release",
        "CREATE TRIGGER evidence_blob_release_append_only BEFORE DELETE OR UPDATE ON evidence_blob_release FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        "DROP TRIGGER IF EXISTS evidence_blob_release_no_truncate ON evidence_blob_release",
        "CREATE TRIGGER evidence_blob_release_no_truncate BEFORE TRUNCATE ON evidence_blob_release FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()",
        EVIDENCE_BLOB_DELETE_GUARD_FUNCTION,
        "CREATE TRIGGER evidence_blob_append_only BEFORE UPDATE ON evidence_blob FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        "CREATE TRIGGER evidence_blob_no_delete BEFORE DELETE ON evidence_blob FOR EACH ROW EXECUTE FUNCTION evidence_blob_delete_guard()",
        "CREATE TRIGGER evidence_blob_no_truncate BEFORE TRUNCATE ON evidence_blob FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()",
        EVIDENCE_BLOB_CHUNK_DELETE_GUARD_FUNCTION,
        "CREATE TRIGGER evidence_blob_chunk_append_only BEFORE UPDATE ON evidence_blob_chunk FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        "CREATE TRIGGER evidence_blob_chunk_no_delete BEFORE DELETE ON evidence_blob_chunk FOR EACH ROW EXECUTE FUNCTION evidence_blob_chunk_delete_guard()",
        "CREATE TRIGGER evidence_blob_chunk_no_truncate BEFORE TRUNCATE ON evidence_blob_chunk FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()",
    ),
}

#: What the downgrade removes.
DOWNGRADE_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "DROP TRIGGER IF EXISTS evidence_blob_no_delete",
        "DROP TRIGGER IF EXISTS evidence_blob_no_update",
        "DROP TRIGGER IF EXISTS evidence_blob_chunk_no_delete",
        "DROP TRIGGER IF EXISTS evidence_blob_chunk_no_update",
        "DROP TRIGGER IF EXISTS evidence_blob_release_no_delete",
        "DROP TRIGGER IF EXISTS evidence_blob_release_no_update",
    ),
    "postgresql": (
        "DROP TRIGGER IF EXISTS evidence_blob_append_only ON evidence_blob",
        "DROP TRIGGER IF EXISTS evidence_blob_frozen ON evidence_blob",
        "DROP TRIGGER IF EXISTS evidence_blob_no_truncate ON evidence_blob",
        "DROP TRIGGER IF EXISTS evidence_blob_no_delete ON evidence_blob",
        "DROP FUNCTION IF EXISTS evidence_blob_delete_guard()",
        "DROP TRIGGER IF EXISTS evidence_blob_chunk_append_only ON evidence_blob_chunk",
        "DROP TRIGGER IF EXISTS evidence_blob_chunk_frozen ON evidence_blob_chunk",
        "DROP TRIGGER IF EXISTS evidence_blob_chunk_no_truncate ON evidence_blob_chunk",
        "DROP TRIGGER IF EXISTS evidence_blob_chunk_no_delete ON evidence_blob_chunk",
        "DROP FUNCTION IF EXISTS evidence_blob_chunk_delete_guard()",
        "DROP TRIGGER IF EXISTS evidence_blob_release_append_only ON evidence_blob_release",
        "DROP TRIGGER IF EXISTS evidence_blob_release_frozen ON evidence_blob_release",
        "DROP TRIGGER IF EXISTS evidence_blob_release_no_truncate ON evidence_blob_release",
        "DROP TRIGGER IF EXISTS evidence_blob_release_no_delete ON evidence_blob_release",
        "DROP FUNCTION IF EXISTS evidence_blob_release_delete_guard()",
    ),
}


def _execute(statements: dict[str, tuple[str, ...]]) -> None:
    """Run this revision's statements for the connection's dialect."""
    bind = op.get_bind()
    for statement in statements[bind.dialect.name]:
        bind.execute(sa.text(statement))


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('evidence_blob',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('chunk_size', sa.Integer(), nullable=False),
    sa.Column('chunk_count', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sha256'),
    sqlite_autoincrement=True,
    )
    op.create_table('evidence_blob_chunk',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['evidence_blob.sha256'], ),
    sa.PrimaryKeyConstraint('sha256', 'seq'),
    )
    op.create_table('evidence_blob_release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('blob_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('destination', sa.String(length=16), nullable=False),
    sa.Column('released_by', sa.String(length=64), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('evidence_blob_release', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_blob_release_blob_id'), ['blob_id'], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Chunks are mostly compressed media: store them out of line without trying to compress them again.
        bind.execute(sa.text("ALTER TABLE evidence_blob_chunk ALTER COLUMN data SET STORAGE EXTERNAL"))
    _execute(UPGRADE_SQL)


def downgrade() -> None:
    """Revert this revision."""
    _execute(DOWNGRADE_SQL)
    op.drop_table('evidence_blob_chunk')
    with op.batch_alter_table('evidence_blob_release', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_blob_release_blob_id'))
    op.drop_table('evidence_blob_release')
    op.drop_table('evidence_blob')
