"""login sessions, own passwords and reset codes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 09:00:00

Sessions are kept on the server: login_session holds the SHA-256 of the random key in each session
cookie, so that signing out, deactivation, a second-factor reset and a password change end sessions for
good (user_account.session_epoch, the cookie's old counter, goes). user_account gains must_set_password
(the person has yet to choose their own password) and reset_code_hash (the one-time code a second-factor
reset issues). Every account that exists at this revision has a password an administrator set and nobody
changed, so all of them choose their own at their next sign-in (the column's default for existing rows).

The SQL below (column types and statements) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain ALTER TABLE on both databases (SQLite 3.35 or later drops a column in place): rebuilding
# user_account, which other tables reference, is neither needed nor safe with foreign keys enforced.
UPGRADE_ACCOUNT_SQL = (
    "ALTER TABLE user_account ADD COLUMN must_set_password BOOLEAN NOT NULL DEFAULT true",
    "ALTER TABLE user_account ADD COLUMN reset_code_hash VARCHAR(200)",
    "ALTER TABLE user_account DROP COLUMN session_epoch",
)
DOWNGRADE_ACCOUNT_SQL = (
    "ALTER TABLE user_account ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE user_account DROP COLUMN reset_code_hash",
    "ALTER TABLE user_account DROP COLUMN must_set_password",
)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('login_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_session_user_id'), ['user_id'], unique=False)
    for statement in UPGRADE_ACCOUNT_SQL:
        op.execute(sa.text(statement))


def downgrade() -> None:
    """Revert this revision."""
    for statement in DOWNGRADE_ACCOUNT_SQL:
        op.execute(sa.text(statement))
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_session_user_id'))
    op.drop_table('login_session')
