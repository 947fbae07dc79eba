"""Facts a grep can check: SQL runs through SQLAlchemy's public API only, and the audit library stays a
library (it imports neither Flask nor Decoy and names none of the application's tables)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sqlmodel import SQLModel

import decoy.models  # noqa: F401  (the application's tables)
from decoy.models import AUDIT_TABLES

ROOT = Path(__file__).resolve().parents[2]
#: Private attributes of SQLAlchemy, psycopg and Flask-Login, and the driver layer that used them.
FORBIDDEN = ("DriverStatement", "bind_names", "positiontup", "_login_user", ".autocommit =")


def _sources(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def test_no_private_attributes_of_the_libraries():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {name}"
        for path in _sources("decoy", "audit", "migrations")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for name in FORBIDDEN
        if name in line
    ]
    assert not found, found


def test_the_audit_library_imports_neither_flask_nor_decoy():
    found = []
    for path in _sources("audit"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            found += [
                f"{path.relative_to(ROOT)}:{node.lineno}: {name}"
                for name in names
                if name.split(".")[0] in {"flask", "flask_login", "sqlmodel", "decoy"}
            ]
    assert not found, found


def test_the_audit_library_names_no_application_table():
    """No SQL of audit/ reads or writes an application table (its own are audit_entry, audit_head and
    audit_checkpoint), and no table of the application is defined or looked up there."""
    own = {AUDIT_TABLES.entry.name, AUDIT_TABLES.head.name, AUDIT_TABLES.checkpoint.name}
    application = sorted(set(SQLModel.metadata.tables) - own)
    assert {"message", "contact", "attachment", "profile", "user_account"} <= set(application)
    names = "|".join(re.escape(name) for name in application)
    sql = re.compile(rf"\b(?:FROM|INTO|UPDATE|JOIN|TABLE|ON|REFERENCES)\s+\"?({names})\b")
    defined = re.compile(rf"""(?:Table|table|tables\[)\(?\s*["']({names})["']""")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {match.group(1)}"
        for path in _sources("audit")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for pattern in (sql, defined)
        for match in pattern.finditer(line)
    ]
    assert not found, found
