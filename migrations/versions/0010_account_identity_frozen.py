"""an account's id, username and creation time never change

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09 09:00:00

Rows record who did something by the account's id, and bundles and screens show its username: a
username that could be changed would move a recorded act to someone else. The database refuses to change
an account's id, username or creation time (the columns its account.create entry hashes); updates of its
other columns (the password, the lockout, the second factor) go on as before.

The SQL below (triggers and functions) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IDENTITY_FROZEN_FUNCTION = """CREATE OR REPLACE FUNCTION decoy_account_identity_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.username IS DISTINCT FROM OLD.username
            OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'user_account: id, username and created_at never change'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$"""

UPGRADE_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE TRIGGER IF NOT EXISTS user_account_identity_frozen BEFORE UPDATE OF id, username, created_at ON user_account WHEN NEW.id IS NOT OLD.id OR NEW.username IS NOT OLD.username OR NEW.created_at IS NOT OLD.created_at BEGIN SELECT RAISE(ABORT, 'user_account: id, username and created_at never change'); END",
    ),
    "postgresql": (
        IDENTITY_FROZEN_FUNCTION,
        "DROP TRIGGER IF EXISTS user_account_identity_frozen ON user_account",
        "CREATE TRIGGER user_account_identity_frozen BEFORE UPDATE OF id, username, created_at ON user_account FOR EACH ROW EXECUTE FUNCTION decoy_account_identity_frozen()",
    ),
}
DOWNGRADE_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": ("DROP TRIGGER IF EXISTS user_account_identity_frozen",),
    "postgresql": (
        "DROP TRIGGER IF EXISTS user_account_identity_frozen ON user_account",
        "DROP FUNCTION IF EXISTS decoy_account_identity_frozen()",
    ),
}


def _execute(statements: dict[str, tuple[str, ...]]) -> None:
    for statement in statements[op.get_bind().dialect.name]:
        op.execute(sa.text(statement))


def upgrade() -> None:
    """Apply this revision."""
    _execute(UPGRADE_SQL)


def downgrade() -> None:
    """Revert this revision."""
    _execute(DOWNGRADE_SQL)
