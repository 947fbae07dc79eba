"""Migrations are frozen: revisions hold their own SQL, and base to head gives the schema of today's code.

A revision never calls the application's Python, so that a later change to the code cannot change what an
old revision does. In return, a change of the models or of the trigger SQL in the code needs a new
revision: the comparisons below fail until the migrated schema is what the code defines.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import decoy.models  # noqa: F401  (registers every table on the metadata)
from audit.store import install_triggers
from decoy.integrity import append_only

#: As for the other tests: SQLite, or PostgreSQL (a server whose databases the tests create and drop).
PG_URL = os.environ.get("DECOY_TEST_DATABASE_URL", "")
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
APPLICATION_PACKAGES = {"decoy", "audit"}
#: The one place under migrations/ that may import the application: env.py loads the models, inside this
#: function, only when Alembic compares them with the database (autogenerate).
MODEL_LOADER = ("env.py", "load_target_metadata", "decoy.models")

#: The tables today's code makes append-only with decoy.integrity.append_only.install, and its options.
APPEND_ONLY: dict[str, dict[str, object]] = {
    "legal_authorization": {},
    "authorization_officer": {},
    "authorization_document": {},
    "profile_transition": {},
    "contact": {},
    # A disposal may empty a message's or a note's text, and with a commitment its key and SHA-256
    # (revisions 0019, 0020): every other column stays frozen.
    "message": {
        "allow_update": True,
        "frozen_columns": (
            "id", "operation_id", "contact_id", "direction", "sent_at", "sent_offset_minutes", "recorded_at",
            "recorded_by", "body_commitment", "corrects_id", "flags", "capture_session_id", "operated_by",
            "import_id", "source", "platform_message_id", "assumed_timezone",
        ),
    },
    "attachment": {},
    "profile": {
        "allow_update": True,
        "frozen_columns": (
            "id", "operation_id", "authorization_id", "platform", "handle", "persona", "proposed_by",
            "proposed_at", "persona_age",
        ),
    },
    "review": {},
    "review_decision": {},
    "enforcement_action": {},
    "evidence_blob_release": {},
    "capture_session": {},
    "capture_session_end": {},
    "message_import": {},
    "message_import_result": {},
    "export_reconciliation": {},
    "annotation": {},
    "suggestion_dismissal": {},
    "contact_assessment": {},
    "verbalisant_assignment": {},
    "disclosure_decision": {},
    "journal_note": {
        "allow_update": True,
        "frozen_columns": ("id", "operation_id", "contact_id", "body_commitment", "written_by", "written_at"),
    },
    "redaction": {},
    "signed_report": {},
    "authorization_kind_change": {},
    "authorization_withdrawal": {},
    "operation_closure": {},
    "end_report": {},
    "end_report_delivery": {},
    "lead": {},
    "contact_category_change": {},
    "suspect_notification": {},
    "safeguarding_case": {},
    "safeguarding_action": {},
    "safeguarding_closure": {},
    "sensitive_opening": {},
    "legal_hold": {},
    "legal_hold_lift": {},
    "contact_outcome": {},
    "disposal": {},
    "disposal_approval": {},
    "disposal_tombstone": {},
    "checkpoint_cosignature": {},
    "witness_refusal": {},
    "checkpoint_timestamp": {},
}

#: Triggers and functions whose only source is a revision (no code builds them), by the revision that
#: creates them: the SHA-256 of each definition as the database reports it (first 16 hex digits). A new
#: revision adds its objects here (a new definition of an earlier object, or None for one it drops); an old
#: revision's never change (its SQL is frozen).
REVISION_ONLY: dict[str, dict[str, dict[str, str | None]]] = {
    "sqlite": {
        "0002": {"trigger profile_status_follows_history": "f25fc1d02ebdd922"},
        "0005": {
            "trigger evidence_blob_chunk_no_delete": "b1d2d69115e64a5b",
            "trigger evidence_blob_chunk_no_update": "2fc2a8e66bce7e16",
            "trigger evidence_blob_no_delete": "a405299e17d2dd53",
            "trigger evidence_blob_no_update": "bf203997cf0e53e6",
        },
        "0010": {"trigger user_account_identity_frozen": "8d1e84a0a7f754ce"},
        "0019": {
            "trigger journal_note_text_disposed_only": "19ddb7960ce20e2c",
            "trigger message_text_disposed_only": "04298ac4174a9552",
        },
        "0020": {
            "trigger journal_note_text_disposed_only": "3959f1699d7074d7",
            "trigger message_text_disposed_only": "dbaa09e0cd13845a",
        },
    },
    "postgresql": {
        "0002": {
            "function profile_status_follows_history()": "c725c6284fbc7d03",
            "trigger profile_status_follows_history": "b2c34c6c64999cfd",
        },
        "0005": {
            "function evidence_blob_chunk_delete_guard()": "45dae40a2e55daa9",
            "function evidence_blob_delete_guard()": "7b2f77b4a27bab52",
            "trigger evidence_blob_append_only": "9b43097d931b3138",
            "trigger evidence_blob_chunk_append_only": "4670eb14cd4a2a7b",
            "trigger evidence_blob_chunk_no_delete": "d406929ca48b231b",
            "trigger evidence_blob_chunk_no_truncate": "955c70a8a19ad1e2",
            "trigger evidence_blob_no_delete": "5588cbff15a3cc3d",
            "trigger evidence_blob_no_truncate": "97092116866c2d87",
        },
        "0008": {
            "function decoy_record_message(integer,integer,integer,character varying,"
            "timestamp with time zone,integer,timestamp with time zone,integer,text,character varying,"
            "integer,json,bigint,bytea,bytea)": "b3e1db60662cb51e",
        },
        "0010": {
            "function decoy_account_identity_frozen()": "895e5573e7c11cbb",
            "trigger user_account_identity_frozen": "0c04aa8ab408f004",
        },
        "0019": {
            "function journal_note_disposal_guard()": "d5875abeaa316694",
            "function message_disposal_guard()": "db671e718dcaa889",
            "trigger journal_note_disposal_guard": "869eb4931f4a1dcb",
            "trigger message_disposal_guard": "fdeb3fc1f3d07e39",
        },
        "0020": {
            "function decoy_record_message(integer,integer,integer,character varying,"
            "timestamp with time zone,integer,timestamp with time zone,integer,text,character varying,"
            "integer,json,bigint,bytea,bytea)": None,
            "function decoy_record_message(integer,integer,integer,character varying,"
            "timestamp with time zone,integer,timestamp with time zone,integer,text,character varying,"
            "character varying,character varying,integer,json,bigint,bytea,bytea)": "46ed352fbc5c26b9",
            "function journal_note_disposal_guard()": "30c919da700dfa2c",
            "function message_disposal_guard()": "9285acce07766e93",
        },
        # search_path = public, pg_temp on every PL/pgSQL function
        "0024": {
            "function decoy_account_identity_frozen()": "8c62ee5eb25d4776",
            "function decoy_record_message(integer,integer,integer,character varying,"
            "timestamp with time zone,integer,timestamp with time zone,integer,text,character varying,"
            "character varying,character varying,integer,json,bigint,bytea,bytea)": "0d5f7ed726886767",
            "function evidence_blob_chunk_delete_guard()": "133e58685257d26f",
            "function evidence_blob_delete_guard()": "3db7a040082fea1f",
            "function journal_note_disposal_guard()": "799ea97aca22c13a",
            "function message_disposal_guard()": "40b0508bca63208d",
            "function profile_status_follows_history()": "18221a27e6d322c8",
        },
    },
}


def _application_imports(tree: ast.AST) -> Iterator[tuple[str, str | None]]:
    """(module, enclosing function) of every import of an application package, in any form."""

    def visit(node: ast.AST, function: str | None) -> Iterator[tuple[str, str | None]]:
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in ("import_module", "__import__") and node.args:
                argument = node.args[0]
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    modules = [argument.value]
        for module in modules:
            if module.split(".")[0] in APPLICATION_PACKAGES:
                yield module, function
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        for child in ast.iter_child_nodes(node):
            yield from visit(child, function)

    yield from visit(tree, None)


def test_migrations_import_nothing_of_the_application() -> None:
    files = sorted(MIGRATIONS.rglob("*.py"))
    assert {path.name for path in files} >= {"env.py", "0001_accounts_and_audit_log.py"}
    found = []
    for path in files:
        for module, function in _application_imports(ast.parse(path.read_text(), str(path))):
            if (path.name, function, module) != MODEL_LOADER:
                found.append(f"{path.relative_to(MIGRATIONS)}: {module} (in {function or 'the module'})")
        if path.parent.name == "versions":
            assert "sqlmodel" not in path.read_text(), f"{path.name} names SQLModel (AutoString is sa.String)"
    assert found == []
    template = (MIGRATIONS / "script.py.mako").read_text()
    assert not [line for line in template.splitlines()
                if line.startswith(("import ", "from ")) and line.split()[1].split(".")[0]
                in (*APPLICATION_PACKAGES, "sqlmodel")]


# Databases ------------------------------------------------------------------------------------------------


def _pg_admin(statement: str) -> None:
    admin = create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


def _fresh_database(tmp_path: Path, label: str) -> Iterator[str]:
    """The URL of a new, empty database (a SQLite file, or a PostgreSQL database dropped afterwards)."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / f'{label}.db'}"
        return
    name = f"decoy_m_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    """An empty database for the migrations."""
    yield from _fresh_database(tmp_path, "migrated")


@pytest.fixture
def reference_url(tmp_path: Path) -> Iterator[str]:
    """An empty database for the schema today's code builds without migrations."""
    yield from _fresh_database(tmp_path, "reference")


@pytest.fixture
def engine(empty_url: str) -> Iterator[Engine]:
    """An engine on the empty database."""
    made = create_engine(empty_url)
    yield made
    made.dispose()


def _config(engine: Engine, script_location: Path = MIGRATIONS, **options: object) -> Config:
    config = Config(cmd_opts=argparse.Namespace(**options) if options else None)
    config.set_main_option("script_location", str(script_location))
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


# The schema ------------------------------------------------------------------------------------------------


def _catalog(connection: Connection) -> dict[str, str]:
    """Every trigger and function the database holds: "trigger name" or "function(signature)" → definition."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
        return {f"trigger {name}": sql for name, sql in rows}
    triggers = connection.execute(text(
        "SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
    ))
    functions = connection.execute(text(
        "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p "
        "WHERE p.pronamespace = current_schema()::regnamespace"
    ))
    return {**{f"trigger {name}": sql for name, sql in triggers},
            **{f"function {name}": sql for name, sql in functions}}


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _digest(definition: str) -> str:
    return hashlib.sha256(definition.encode()).hexdigest()[:16]


def _code_catalog(url: str) -> dict[str, str]:
    """The triggers and functions today's code installs on the models' tables (no migration involved)."""
    reference = create_engine(url)
    try:
        with reference.begin() as connection:
            SQLModel.metadata.create_all(connection)
            install_triggers(connection)
            for table, options in APPEND_ONLY.items():
                append_only.install(connection, table, **options)  # type: ignore[arg-type]
        with reference.connect() as connection:
            return _catalog(connection)
    finally:
        reference.dispose()


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, SQLModel.metadata)


def test_upgrade_from_empty_gives_the_schema_of_the_code(engine: Engine, reference_url: str) -> None:
    command.upgrade(_config(engine), "head")
    with engine.connect() as connection:
        assert _schema_differences(connection) == []
        migrated = _catalog(connection)
        dialect = connection.dialect.name
    from_code = _code_catalog(reference_url)
    # What today's code installs, the migrations installed, to the byte (as the database reports it).
    assert {name: migrated.get(name) for name in from_code} == from_code
    # The rest comes from revisions alone, and is what they have always installed.
    rest = {name: _digest(definition) for name, definition in migrated.items() if name not in from_code}
    revisions = {script.revision for script in ScriptDirectory.from_config(_config(engine)).walk_revisions()}
    # A later revision's definition replaces an earlier one's; None: the revision dropped the object.
    expected = {name: digest for revision, objects in REVISION_ONLY[dialect].items() if revision in revisions
                for name, digest in objects.items()}
    expected = {name: digest for name, digest in expected.items() if digest is not None}
    assert rest == expected


def test_downgrade_to_base_and_upgrade_again(engine: Engine) -> None:
    config = _config(engine)
    command.upgrade(config, "head")
    with engine.connect() as connection:
        first = _catalog(connection), _tables(connection)
    command.downgrade(config, "base")
    with engine.connect() as connection:
        assert _tables(connection) == set()
        # Revision 0002's downgrade drops its triggers but leaves their two functions (no trigger calls them).
        assert set(_catalog(connection)) <= {
            "function decoy_reject_change()", "function profile_status_follows_history()",
        }
    command.upgrade(config, "head")
    with engine.connect() as connection:
        assert (_catalog(connection), _tables(connection)) == first
        assert _schema_differences(connection) == []


def test_running_the_migrations_imports_nothing_of_the_application(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    program = f"""
import sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("decoy", "audit", "sqlmodel"):
            raise ImportError("migrations imported " + name)

sys.meta_path.insert(0, Refuse())
from alembic import command
from alembic.config import Config

config = Config()
config.set_main_option("script_location", {str(MIGRATIONS)!r})
config.set_main_option("sqlalchemy.url", {url.replace("%", "%%")!r})
command.upgrade(config, "head")
command.downgrade(config, "base")
"""
    subprocess.run([sys.executable, "-c", program], check=True, timeout=120)


def test_autogenerate_writes_stored_types_only(engine: Engine, tmp_path: Path) -> None:
    """A revision written by autogenerate names SQLAlchemy's types only, and builds the models."""
    scripts = tmp_path / "scripts"
    (scripts / "versions").mkdir(parents=True)
    for name in ("env.py", "script.py.mako"):
        shutil.copy(MIGRATIONS / name, scripts / name)
    command.revision(_config(engine, scripts, autogenerate=True), message="everything", autogenerate=True)
    (written,) = (scripts / "versions").glob("*.py")
    source = written.read_text()
    assert "sa.DateTime(timezone=True)" in source
    assert not [module for module, _ in _application_imports(ast.parse(source))]
    assert "sqlmodel" not in source
    assert "decoy." not in source
    command.upgrade(_config(engine, scripts), "head")
    with engine.connect() as connection:
        assert _schema_differences(connection) == []


def test_every_postgresql_function_resolves_tables_in_its_own_schema_first(engine: Engine) -> None:
    """Temporary tables never stand in for the tables a trigger reads: every PL/pgSQL function of the
    schema searches the schema, then pg_temp (unnamed, pg_temp is searched before every schema)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's triggers read the main schema")
    command.upgrade(_config(engine), "head")
    with engine.connect() as connection:
        found = connection.execute(text(
            "SELECT p.proname, p.proconfig FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
            "WHERE p.pronamespace = current_schema()::regnamespace AND l.lanname = 'plpgsql'"
        )).all()
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    assert len(found) >= 10
    assert {name: config for name, config in found} == {
        name: [f"search_path={schema}, pg_temp"] for name, _config in found
    }
