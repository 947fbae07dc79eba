"""attachments in the database

Revision ID: 0005
Revises: 0004
Create Date: 2026-03-09 09:00:00

Tables for the database attachment store (ATTACHMENT_STORE=database): a header row per file and its
content in chunks. Both are append-only like the other evidence tables, with one exception the move
to the file store needs: a blob and its chunks may be deleted once an (append-only) release row names
that stored copy, which `decoy attachments move --to files` writes only after it has verified the copy.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import decoy.db
from decoy.integrity import append_only

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BLOB_TABLES = ("evidence_blob", "evidence_blob_chunk")
REFUSAL = "%s is append-only (a stored file is removed only after a recorded release)"
#: The condition under which a row of each blob table may be deleted: a release names its stored copy.
RELEASED = {
    "evidence_blob": "EXISTS (SELECT 1 FROM evidence_blob_release r WHERE r.blob_id = OLD.id)",
    "evidence_blob_chunk": (
        "EXISTS (SELECT 1 FROM evidence_blob_release r JOIN evidence_blob b ON b.id = r.blob_id "
        "WHERE b.sha256 = OLD.sha256)"
    ),
}


def _install_guards(bind: sa.Connection) -> None:
    """No UPDATE ever; no DELETE unless released; no TRUNCATE."""
    append_only.install(bind, "evidence_blob_release")
    for table in BLOB_TABLES:
        message = REFUSAL % table
        if bind.dialect.name == "sqlite":
            bind.execute(sa.text(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            ))
            bind.execute(sa.text(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
                f"WHEN NOT {RELEASED[table]} BEGIN SELECT RAISE(ABORT, '{message}'); END"
            ))
            continue
        bind.execute(sa.text(f"""CREATE OR REPLACE FUNCTION {table}_delete_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF {RELEASED[table]} THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';
END
$$"""))
        bind.execute(sa.text(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()"
        ))
        bind.execute(sa.text(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_delete_guard()"
        ))
        bind.execute(sa.text(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()"
        ))


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('evidence_blob',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('chunk_size', sa.Integer(), nullable=False),
    sa.Column('chunk_count', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('stored_at', decoy.db.UTCDateTime(), nullable=False),
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
    sa.Column('released_at', decoy.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('evidence_blob_release', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_blob_release_blob_id'), ['blob_id'], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Chunks are mostly compressed media: store them out of line without trying to compress them again.
        bind.execute(sa.text("ALTER TABLE evidence_blob_chunk ALTER COLUMN data SET STORAGE EXTERNAL"))
    _install_guards(bind)


def downgrade() -> None:
    """Revert this revision."""
    bind = op.get_bind()
    for table in (*BLOB_TABLES, "evidence_blob_release"):
        append_only.remove(bind, table)
        if bind.dialect.name == "sqlite":
            continue
        bind.execute(sa.text(f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}"))
        bind.execute(sa.text(f"DROP FUNCTION IF EXISTS {table}_delete_guard()"))
    op.drop_table('evidence_blob_chunk')
    with op.batch_alter_table('evidence_blob_release', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_blob_release_blob_id'))
    op.drop_table('evidence_blob_release')
    op.drop_table('evidence_blob')
