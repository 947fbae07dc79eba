"""order life: the law's kinds of orders, oral orders, advice and consent references, withdrawals,
closing and reopening operations, end reports and their deliveries, leads

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-14 09:00:00

An authorization gains the moment an urgent oral order was given and the references of the advice and
the consent its legal basis may need (columns added in place, so that SQLite's table keeps its
triggers). The new tables are append-only like the rest of the evidence.

Orders registered as ``written_order`` get the kind the law names where their issuing authority says
which it is: the public prosecutor's (``ovj_order``) or the examining judge's (``rc_authorisation``).
Nothing is guessed: an authority that names neither, or both, keeps ``written_order`` and is listed in
the migration's output. Each change is kept in ``authorization_kind_change`` with the kind the order was
registered with and the rule that mapped it, so that the row hash its registration recorded still
verifies; `decoy init` then records each change in the audit log. The triggers that keep
``legal_authorization`` append-only are lifted for this one statement only.

The SQL below (column types, triggers and statements) is frozen as written: no later code changes it.
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TABLES = (
    "authorization_kind_change", "authorization_withdrawal", "operation_closure", "end_report",
    "end_report_delivery", "lead",
)
#: What in an issuing authority names the public prosecutor, and what names the examining judge.
PROSECUTOR = (
    "officier van justitie", "openbaar ministerie", "public prosecutor", "prosecution service",
    "arrondissementsparket", "landelijk parket", "functioneel parket",
)
JUDGE = (
    "rechter-commissaris", "rechter commissaris", "examining judge", "examining magistrate",
    "investigating judge",
)
RULES = {
    "ovj_order": "its issuing authority names the public prosecutor ({words})",
    "rc_authorisation": "its issuing authority names the examining judge ({words})",
}


def _names(words: tuple[str, ...]) -> str:
    return "(" + " OR ".join(f"lower(authority) LIKE '%{word}%'" for word in words) + ")"


def _lift_then(statements: list[str], dialect: str) -> list[str]:
    """``statements`` run with legal_authorization's UPDATE trigger lifted, then put back as it was."""
    if dialect == "sqlite":
        return [
            "DROP TRIGGER IF EXISTS legal_authorization_no_update",
            *statements,
            "CREATE TRIGGER IF NOT EXISTS legal_authorization_no_update BEFORE UPDATE ON legal_authorization "
            "BEGIN SELECT RAISE(ABORT, 'legal_authorization is append-only'); END",
        ]
    return [
        "ALTER TABLE legal_authorization DISABLE TRIGGER legal_authorization_append_only",
        *statements,
        "ALTER TABLE legal_authorization ENABLE TRIGGER legal_authorization_append_only",
    ]


def _append_only(table: str, dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        ]
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE DELETE OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()",
    ]


def _map_kinds(dialect: str) -> None:
    """Give the law's kind to the written orders whose authority names exactly one issuer; list the rest."""
    bind = op.get_bind()
    now = sa.bindparam("now", datetime.now(UTC), type_=sa.DateTime(timezone=True))
    prosecutor, judge = _names(PROSECUTOR), _names(JUDGE)
    for kind, (named, other) in {"ovj_order": (prosecutor, judge), "rc_authorisation": (judge, prosecutor)}.items():
        words = ", ".join(PROSECUTOR if kind == "ovj_order" else JUDGE)
        rule = RULES[kind].format(words=words)
        bind.execute(
            sa.text(
                # The words matched are this revision's constants, never input.
                "INSERT INTO authorization_kind_change (authorization_id, from_kind, to_kind, rule, changed_at) "  # noqa: S608
                f"SELECT id, kind, :kind, :rule, :now FROM legal_authorization WHERE kind = 'written_order' "
                f"AND {named} AND NOT {other}"
            ).bindparams(now, kind=kind, rule=rule)
        )
    update = (
        "UPDATE legal_authorization SET kind = (SELECT to_kind FROM authorization_kind_change AS c "
        "WHERE c.authorization_id = legal_authorization.id) "
        "WHERE id IN (SELECT authorization_id FROM authorization_kind_change)"
    )
    for statement in _lift_then([update], dialect):
        bind.execute(sa.text(statement))
    left = bind.execute(
        sa.text("SELECT id, operation_id, reference, authority FROM legal_authorization "
                "WHERE kind = 'written_order' ORDER BY id")
    ).all()
    for row in left:
        print(  # noqa: T201 - the upgrade's output lists what it left as it was
            f"0015: authorization {row.id} (operation {row.operation_id}, {row.reference!r}, authority "
            f"{row.authority!r}) keeps the kind written_order: its authority names neither the public "
            "prosecutor nor the examining judge, or both"
        )


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('lead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('legal_basis', sa.String(length=200), nullable=False),
    sa.Column('tlp', sa.String(length=20), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('passed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('passed_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['passed_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.create_index('ix_lead_operation', ['operation_id', 'id'], unique=False)

    op.create_table('operation_closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('operation_closure', schema=None) as batch_op:
        batch_op.create_index('ix_operation_closure_operation', ['operation_id', 'id'], unique=False)

    op.create_table('authorization_kind_change',
    sa.Column('authorization_id', sa.Integer(), nullable=False),
    sa.Column('from_kind', sa.String(length=24), nullable=False),
    sa.Column('to_kind', sa.String(length=24), nullable=False),
    sa.Column('rule', sa.Text(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['authorization_id'], ['legal_authorization.id'], ),
    sa.PrimaryKeyConstraint('authorization_id')
    )
    op.create_table('authorization_withdrawal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('authorization_id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('effective_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('withdrawn_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['authorization_id'], ['legal_authorization.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['withdrawn_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('authorization_withdrawal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authorization_withdrawal_operation_id'), ['operation_id'], unique=False)
        batch_op.create_index('ux_authorization_withdrawal', ['authorization_id'], unique=True)

    op.create_table('end_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('closure_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['closure_id'], ['operation_closure.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('end_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_end_report_operation_id'), ['operation_id'], unique=False)
        batch_op.create_index('ux_end_report_closure', ['closure_id'], unique=True)

    op.create_table('end_report_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('end_report_id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['end_report_id'], ['end_report.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('end_report_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_end_report_delivery_end_report_id'), ['end_report_id'], unique=False)

    # In place (ALTER TABLE … ADD COLUMN), never a batch copy: SQLite's table keeps its triggers.
    op.add_column('legal_authorization', sa.Column('oral_order_given_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('legal_authorization', sa.Column('advice_reference', sa.String(length=200), nullable=True))
    op.add_column('legal_authorization', sa.Column('consent_reference', sa.String(length=200), nullable=True))
    dialect = op.get_bind().dialect.name
    for table in NEW_TABLES:
        for statement in _append_only(table, dialect):
            op.execute(statement)
    _map_kinds(dialect)



def downgrade() -> None:
    """Revert this revision."""
    dialect = op.get_bind().dialect.name
    restore = (
        "UPDATE legal_authorization SET kind = (SELECT from_kind FROM authorization_kind_change AS c "
        "WHERE c.authorization_id = legal_authorization.id) "
        "WHERE id IN (SELECT authorization_id FROM authorization_kind_change)"
    )
    for statement in _lift_then([restore], dialect):
        op.execute(statement)
    for table in NEW_TABLES:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    # In place (ALTER TABLE … DROP COLUMN, SQLite 3.35 and later): the table keeps its triggers.
    op.drop_column('legal_authorization', 'consent_reference')
    op.drop_column('legal_authorization', 'advice_reference')
    op.drop_column('legal_authorization', 'oral_order_given_at')

    with op.batch_alter_table('end_report_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_end_report_delivery_end_report_id'))

    op.drop_table('end_report_delivery')
    with op.batch_alter_table('end_report', schema=None) as batch_op:
        batch_op.drop_index('ux_end_report_closure')
        batch_op.drop_index(batch_op.f('ix_end_report_operation_id'))

    op.drop_table('end_report')
    with op.batch_alter_table('authorization_withdrawal', schema=None) as batch_op:
        batch_op.drop_index('ux_authorization_withdrawal')
        batch_op.drop_index(batch_op.f('ix_authorization_withdrawal_operation_id'))

    op.drop_table('authorization_withdrawal')
    op.drop_table('authorization_kind_change')
    with op.batch_alter_table('operation_closure', schema=None) as batch_op:
        batch_op.drop_index('ix_operation_closure_operation')

    op.drop_table('operation_closure')
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_operation')

    op.drop_table('lead')
