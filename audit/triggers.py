"""Database triggers that make the audit tables append-only, for SQLite and PostgreSQL.

They are the database's own refusal, independent of the application: audit_entry and
audit_checkpoint reject UPDATE, DELETE (and TRUNCATE on PostgreSQL); audit_entry accepts only the
index the head names; the head row cannot be deleted and moves forward by exactly one entry.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

__all__ = ["APPEND_FUNCTION", "drop_triggers", "install_trigger_sql"]

_APPEND_ONLY_TABLES = ("audit_entry", "audit_checkpoint")
#: PostgreSQL's one-round-trip append (entry row and head move); see _PG_FUNCTIONS.
APPEND_FUNCTION = "audit_append(bigint, bytea, bytea, bytea, bytea)"


def _sqlite_abort(name: str, when: str, table: str, message: str, condition: str = "") -> str:
    guard = f" WHEN {condition}" if condition else ""
    return (
        f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {when} ON {table}{guard} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


def _sqlite_sql() -> list[str]:
    statements = []
    for table in _APPEND_ONLY_TABLES:
        statements.append(_sqlite_abort(f"{table}_no_update", "UPDATE", table, f"{table} is append-only"))
        statements.append(_sqlite_abort(f"{table}_no_delete", "DELETE", table, f"{table} is append-only"))
    statements += [
        _sqlite_abort(
            "audit_entry_at_head",
            "INSERT",
            "audit_entry",
            "audit_entry must be appended at the head",
            "NEW.idx IS NOT (SELECT size FROM audit_head WHERE id = 1)",
        ),
        _sqlite_abort("audit_head_no_delete", "DELETE", "audit_head", "audit_head cannot be deleted"),
        _sqlite_abort(
            "audit_head_one_step",
            "UPDATE",
            "audit_head",
            "audit_head moves forward by one entry",
            "NEW.id IS NOT OLD.id OR NEW.size IS NOT OLD.size + 1",
        ),
    ]
    return statements


_PG_FUNCTIONS = [
    """CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END
$$""",
    """CREATE OR REPLACE FUNCTION audit_entry_at_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.idx IS DISTINCT FROM (SELECT size FROM audit_head WHERE id = 1) THEN
        RAISE EXCEPTION 'audit_entry must be appended at the head'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$""",
    # The append's two writes in one round trip, so that the append lock is held for less time. The
    # triggers above still judge both writes; the caller checks that the head moved (1 row).
    """CREATE OR REPLACE FUNCTION audit_append(p_idx bigint, p_entry bytea, p_leaf bytea, p_root bytea,
    p_frontier bytea) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    moved integer;
BEGIN
    INSERT INTO audit_entry (idx, entry, leaf_hash) VALUES (p_idx, p_entry, p_leaf);
    UPDATE audit_head SET size = p_idx + 1, root = p_root, frontier = p_frontier
        WHERE id = 1 AND size = p_idx;
    GET DIAGNOSTICS moved = ROW_COUNT;
    RETURN moved;
END
$$""",
    """CREATE OR REPLACE FUNCTION audit_head_one_step() RETURNS trigger LANGUAGE plpgsql AS $$
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
$$""",
]

# (trigger name, table, timing and events, level, function)
_PG_TRIGGERS = [
    ("audit_entry_append_only", "audit_entry", "BEFORE UPDATE OR DELETE", "ROW", "audit_reject_change"),
    ("audit_entry_no_truncate", "audit_entry", "BEFORE TRUNCATE", "STATEMENT", "audit_reject_change"),
    ("audit_entry_at_head", "audit_entry", "BEFORE INSERT", "ROW", "audit_entry_at_head"),
    (
        "audit_checkpoint_append_only",
        "audit_checkpoint",
        "BEFORE UPDATE OR DELETE",
        "ROW",
        "audit_reject_change",
    ),
    (
        "audit_checkpoint_no_truncate",
        "audit_checkpoint",
        "BEFORE TRUNCATE",
        "STATEMENT",
        "audit_reject_change",
    ),
    ("audit_head_one_step", "audit_head", "BEFORE UPDATE OR DELETE", "ROW", "audit_head_one_step"),
    ("audit_head_no_truncate", "audit_head", "BEFORE TRUNCATE", "STATEMENT", "audit_reject_change"),
]

_SQLITE_TRIGGERS = [
    "audit_entry_no_update",
    "audit_entry_no_delete",
    "audit_checkpoint_no_update",
    "audit_checkpoint_no_delete",
    "audit_entry_at_head",
    "audit_head_no_delete",
    "audit_head_one_step",
]


def install_trigger_sql(dialect: str) -> list[str]:
    """Return the idempotent statements that create the triggers for ``dialect``."""
    if dialect == "sqlite":
        return _sqlite_sql()
    if dialect == "postgresql":
        statements = list(_PG_FUNCTIONS)
        for name, table, events, level, function in _PG_TRIGGERS:
            # DROP then CREATE: CREATE OR REPLACE TRIGGER needs PostgreSQL 14.
            statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            statements.append(
                f"CREATE TRIGGER {name} {events} ON {table} FOR EACH {level} EXECUTE FUNCTION {function}()"
            )
        return statements
    raise ValueError(f"unsupported database dialect {dialect!r}")


def drop_triggers(connection: Connection) -> None:
    """Remove the audit triggers (for a migration's downgrade, or a test that simulates tampering)."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        for name in _SQLITE_TRIGGERS:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
    elif dialect == "postgresql":
        for name, table, *_ in _PG_TRIGGERS:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
        for function in ("audit_reject_change", "audit_entry_at_head", "audit_head_one_step"):
            connection.execute(text(f"DROP FUNCTION IF EXISTS {function}()"))
        connection.execute(text(f"DROP FUNCTION IF EXISTS {APPEND_FUNCTION}"))
    else:
        raise ValueError(f"unsupported database dialect {dialect!r}")
