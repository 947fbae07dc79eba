"""Database triggers that make the audit tables append-only, for SQLite and PostgreSQL.

They are the database's own refusal, independent of the application: audit_entry and
audit_checkpoint reject UPDATE, DELETE (and TRUNCATE on PostgreSQL); the head row cannot be deleted.

SQLite: audit_entry accepts only the index the head names, and the head moves forward by exactly one
entry. PostgreSQL: audit_entry accepts only the next index (the head's, or one past the entries already
written beyond it), the head moves forward to exactly one past those entries, and at commit no entry
may lie beyond the head (a deferred constraint trigger). The same rules admit one append at a time and
a batch whose entries are written first and the head moved once: on PostgreSQL every row version of
the head that a transaction writes stays until it ends, and each lookup of the head walks them, so the
cost of single steps grows with the square of the batch (a thousand entries: about 105 µs an entry
written step by step, 35 µs in one move).
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

__all__ = [
    "APPEND_FUNCTION",
    "FRONTIER_ROOT_FUNCTION",
    "HEAD_CORRUPT",
    "LEGACY_APPEND_FUNCTION",
    "LEGACY_APPEND_SQL",
    "drop_triggers",
    "install_trigger_sql",
    "pin_search_path_sql",
]

_APPEND_ONLY_TABLES = ("audit_entry", "audit_checkpoint")
#: PostgreSQL's one-call append (lock, head, entry, tree, head move) and its helper; see _PG_FUNCTIONS.
APPEND_FUNCTION = "audit_append_entry(bigint, bytea, bytea)"
FRONTIER_ROOT_FUNCTION = "audit_frontier_root(bytea)"
#: The earlier append function (entry row and head move, the tree computed by the caller).
LEGACY_APPEND_FUNCTION = "audit_append(bigint, bytea, bytea, bytea, bytea)"
#: SQLSTATE of a head row that does not match its frontier, or that moved during an append (a class of
#: its own: PostgreSQL's XX001 "data corrupted" would also name a damaged page).
HEAD_CORRUPT = "DA001"
#: The function of revision 0006 (migrations only).
LEGACY_APPEND_SQL = """CREATE OR REPLACE FUNCTION audit_append(p_idx bigint, p_entry bytea, p_leaf bytea,
    p_root bytea, p_frontier bytea) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    moved integer;
BEGIN
    INSERT INTO audit_entry (idx, entry, leaf_hash) VALUES (p_idx, p_entry, p_leaf);
    UPDATE audit_head SET size = p_idx + 1, root = p_root, frontier = p_frontier
        WHERE id = 1 AND size = p_idx;
    GET DIAGNOSTICS moved = ROW_COUNT;
    RETURN moved;
END
$$"""


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
    # The next index: the head's, or one past the entries already written beyond it in this transaction.
    """CREATE OR REPLACE FUNCTION audit_entry_at_head() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_size bigint;
BEGIN
    SELECT size INTO v_size FROM audit_head WHERE id = 1;
    IF NEW.idx IS DISTINCT FROM
        COALESCE((SELECT max(idx) + 1 FROM audit_entry WHERE idx >= v_size), v_size) THEN
        RAISE EXCEPTION 'audit_entry must be appended at the head'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$""",
    # At commit (deferred): every entry lies below the head, so none is written without moving it.
    """CREATE OR REPLACE FUNCTION audit_entry_under_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.idx >= (SELECT size FROM audit_head WHERE id = 1) THEN
        RAISE EXCEPTION 'audit_entry lies beyond the head at commit'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$""",
    # RFC 9162 root of a frontier (its perfect subtrees' roots, largest first, 32 bytes each), as
    # audit.merkle.Frontier.root computes it.
    """CREATE OR REPLACE FUNCTION audit_frontier_root(p_frontier bytea) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT SET search_path FROM CURRENT AS $$
DECLARE
    n integer := length(p_frontier) / 32;
    result bytea;
BEGIN
    IF n = 0 THEN
        RETURN sha256(''::bytea);
    END IF;
    result := substring(p_frontier FROM (n - 1) * 32 + 1 FOR 32);
    FOR i IN REVERSE n - 2..0 LOOP
        result := sha256(decode('01', 'hex') || substring(p_frontier FROM i * 32 + 1 FOR 32) || result);
    END LOOP;
    RETURN result;
END
$$""",
    # A whole append in one call, so that the append lock is held for one round trip: the advisory
    # lock, then the head row FOR UPDATE (READ COMMITTED: the committed head of the previous holder);
    # the entry is the caller's canonical bytes around its index (audit.entry.encode_entry_parts),
    # its leaf hash and the new frontier and root computed as audit.merkle.Frontier.append does. The
    # triggers above still judge both writes. Returns the entry's index.
    """CREATE OR REPLACE FUNCTION audit_append_entry(p_key bigint, p_prefix bytea, p_suffix bytea)
    RETURNS bigint LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    v_size bigint;
    v_root bytea;
    v_frontier bytea;
    v_entry bytea;
    v_leaf bytea;
    v_node bytea;
    v_carry bigint;
    v_bits integer := 0;
    v_moved integer;
BEGIN
    PERFORM pg_advisory_xact_lock(p_key);
    SELECT size, root, frontier INTO v_size, v_root, v_frontier FROM audit_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit_head row is missing; run install_triggers' USING ERRCODE = 'DA001';
    END IF;
    v_carry := v_size;
    WHILE v_carry > 0 LOOP
        v_bits := v_bits + (v_carry & 1)::integer;
        v_carry := v_carry >> 1;
    END LOOP;
    IF length(v_frontier) <> 32 * v_bits OR audit_frontier_root(v_frontier) <> v_root THEN
        RAISE EXCEPTION 'audit_head frontier does not match its root' USING ERRCODE = 'DA001';
    END IF;
    v_entry := p_prefix || convert_to(v_size::text, 'UTF8') || p_suffix;
    v_leaf := sha256(decode('00', 'hex') || v_entry);
    v_node := v_leaf;
    v_carry := v_size;
    -- Every trailing one bit of the old size is a perfect subtree the new leaf completes.
    WHILE (v_carry & 1) = 1 LOOP
        v_node := sha256(
            decode('01', 'hex') || substring(v_frontier FROM length(v_frontier) - 31 FOR 32) || v_node
        );
        v_frontier := substring(v_frontier FROM 1 FOR length(v_frontier) - 32);
        v_carry := v_carry >> 1;
    END LOOP;
    v_frontier := v_frontier || v_node;
    INSERT INTO audit_entry (idx, entry, leaf_hash) VALUES (v_size, v_entry, v_leaf);
    UPDATE audit_head SET size = v_size + 1, root = audit_frontier_root(v_frontier), frontier = v_frontier
        WHERE id = 1 AND size = v_size;
    GET DIAGNOSTICS v_moved = ROW_COUNT;
    IF v_moved <> 1 THEN
        RAISE EXCEPTION 'audit_head moved during an append: appends are not serialised'
            USING ERRCODE = 'DA001';
    END IF;
    RETURN v_size;
END
$$""",
    """CREATE OR REPLACE FUNCTION audit_head_one_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_head cannot be deleted' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.size <= OLD.size
        OR NEW.size IS DISTINCT FROM (SELECT max(idx) + 1 FROM audit_entry WHERE idx >= OLD.size) THEN
        RAISE EXCEPTION 'audit_head moves forward to one past the last entry'
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
# (constraint trigger name, table, function): checked at commit, after every statement of the transaction.
_PG_DEFERRED_TRIGGERS = [("audit_entry_under_head", "audit_entry", "audit_entry_under_head")]

_SQLITE_TRIGGERS = [
    "audit_entry_no_update",
    "audit_entry_no_delete",
    "audit_checkpoint_no_update",
    "audit_checkpoint_no_delete",
    "audit_entry_at_head",
    "audit_head_no_delete",
    "audit_head_one_step",
]


#: The PostgreSQL functions above, each made to resolve table names in its own schema (pin_search_path_sql).
_PG_FUNCTION_NAMES = (
    "audit_reject_change",
    "audit_entry_at_head",
    "audit_entry_under_head",
    "audit_frontier_root",
    "audit_append_entry",
    "audit_head_one_step",
)


def pin_search_path_sql(names: tuple[str, ...]) -> str:
    """A PostgreSQL statement that makes each named function of the current schema resolve names in that
    schema and then in pg_temp. Without it a session's temporary tables are searched first, and a
    temporary audit_head (or any table a trigger reads) would stand in for the real one."""
    if not all(re.fullmatch(r"[a-z_]+", name) for name in names):
        raise ValueError("function names are lowercase identifiers")
    listed = ", ".join(f"'{name}'" for name in names)
    return f"""DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.pronamespace = current_schema()::regnamespace AND p.proname IN ({listed})
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f, current_schema());
    END LOOP;
END
$$"""  # noqa: S608 - checked identifiers of the code's own functions


def install_trigger_sql(dialect: str) -> list[str]:
    """Return the idempotent statements that create the triggers for ``dialect``."""
    if dialect == "sqlite":
        return _sqlite_sql()
    if dialect == "postgresql":
        # The functions resolve names in the schema they were created for (SET search_path FROM CURRENT).
        # EXECUTE stays granted: migrations may run as an owner role other than the application's.
        statements = list(_PG_FUNCTIONS)
        for name, table, events, level, function in _PG_TRIGGERS:
            # DROP then CREATE: CREATE OR REPLACE TRIGGER needs PostgreSQL 14.
            statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            statements.append(
                f"CREATE TRIGGER {name} {events} ON {table} FOR EACH {level} EXECUTE FUNCTION {function}()"
            )
        for name, table, function in _PG_DEFERRED_TRIGGERS:
            statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            statements.append(
                f"CREATE CONSTRAINT TRIGGER {name} AFTER INSERT ON {table} DEFERRABLE INITIALLY DEFERRED "
                f"FOR EACH ROW EXECUTE FUNCTION {function}()"
            )
        statements.append(pin_search_path_sql(_PG_FUNCTION_NAMES))
        return statements
    raise ValueError(f"unsupported database dialect {dialect!r}")


def drop_triggers(connection: Connection) -> None:
    """Remove the audit triggers (for a migration's downgrade, or a test that simulates tampering)."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        for name in _SQLITE_TRIGGERS:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
    elif dialect == "postgresql":
        for name, table, *_ in [*_PG_TRIGGERS, *_PG_DEFERRED_TRIGGERS]:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
        for function in (
            "audit_reject_change",
            "audit_entry_at_head",
            "audit_entry_under_head",
            "audit_head_one_step",
        ):
            connection.execute(text(f"DROP FUNCTION IF EXISTS {function}()"))
        for signature in (APPEND_FUNCTION, FRONTIER_ROOT_FUNCTION, LEGACY_APPEND_FUNCTION):
            connection.execute(text(f"DROP FUNCTION IF EXISTS {signature}"))
    else:
        raise ValueError(f"unsupported database dialect {dialect!r}")
