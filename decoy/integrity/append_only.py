"""Database triggers that make evidence tables append-only, in SQLite and PostgreSQL (rule 4).

The database itself refuses UPDATE and DELETE, so that neither the application nor a careless
administrator's SQL can alter a stored record without bypassing (and thereby revealing) the trigger.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

from audit.triggers import pin_search_path_sql

_PG_FUNCTION = """CREATE OR REPLACE FUNCTION decoy_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END
$$"""


def _guard(columns: Iterable[str] | None) -> str:
    return "" if not columns else " OF " + ", ".join(columns)


def install(connection: Connection, table: str, *, frozen_columns: Iterable[str] | None = None,
            allow_update: bool = False) -> None:
    """Reject DELETE on ``table``, and UPDATE too (or UPDATE of ``frozen_columns`` when ``allow_update``)."""
    columns = list(frozen_columns or [])
    if connection.dialect.name == "sqlite":
        connection.execute(text(
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        ))
        if not allow_update or columns:
            of = _guard(columns if allow_update else None)
            connection.execute(text(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE{of} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            ))
        return
    connection.execute(text(_PG_FUNCTION))
    connection.execute(text(pin_search_path_sql(("decoy_reject_change",))))
    events = ["DELETE"]
    if not allow_update:
        events.append("UPDATE")
    connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"))
    connection.execute(text(
        f"CREATE TRIGGER {table}_append_only BEFORE {' OR '.join(events)} ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()"
    ))
    if allow_update and columns:
        connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_frozen ON {table}"))
        connection.execute(text(
            f"CREATE TRIGGER {table}_frozen BEFORE UPDATE{_guard(columns)} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION decoy_reject_change()"
        ))
    connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}"))
    connection.execute(text(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION decoy_reject_change()"
    ))


def remove(connection: Connection, table: str) -> None:
    """Drop the triggers :func:`install` created (for migration downgrades)."""
    if connection.dialect.name == "sqlite":
        for suffix in ("no_delete", "no_update"):
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_{suffix}"))
        return
    for suffix in ("append_only", "frozen", "no_truncate"):
        connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_{suffix} ON {table}"))
