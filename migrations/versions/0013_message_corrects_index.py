"""an index on the message a correction corrects

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-12 09:00:00

A transcript page shows, for each of its messages, the corrections that replace it; without an index on
``message.corrects_id`` that lookup reads every message of the contact.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index('ix_message_corrects', 'message', ['corrects_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_message_corrects', table_name='message')
