"""Migration 0015 gives orders registered as ``written_order`` the kind the law names where their issuing
authority says which it is, never guessing, and the log still verifies: in the database and offline."""

from __future__ import annotations

import importlib.util
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from audit.bundle import verify_bundle
from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS, EVIDENCE_BUNDLE_NOTES, kinds
from decoy.cli import main
from decoy.cli.migrate import alembic_config
from decoy.db import get_engine
from decoy.operations import authorizations
from tests.decoy.disclosure.classes_support import tamper

MIGRATION = Path(__file__).resolve().parents[3] / "migrations" / "versions" / "0015_order_life.py"
AUTHORITIES = {
    "prosecutor": "Openbaar Ministerie, arrondissement Voorbeeld",
    "judge": "Rechter-commissaris, rechtbank Voorbeeld",
    "neither": "Regional police chief (invented)",
    "both": "Officier van justitie and rechter-commissaris (invented)",
}


def _migration() -> Any:
    spec = importlib.util.spec_from_file_location("migration_0015", MIGRATION)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_the_migration_and_the_verifiers_read_authorities_with_the_same_words() -> None:
    migration = _migration()
    assert migration.PROSECUTOR == kinds.PROSECUTOR and migration.JUDGE == kinds.JUDGE


@pytest.mark.parametrize(
    ("authority", "expected"),
    [
        (AUTHORITIES["prosecutor"], "ovj_order"),
        (AUTHORITIES["judge"], "rc_authorisation"),
        (AUTHORITIES["neither"], None),
        (AUTHORITIES["both"], None),
    ],
)
def test_the_rule_never_guesses(authority: str, expected: Any) -> None:
    assert kinds.law_kind("written_order", authority) == expected
    assert kinds.law_kind("court_ruling", authority) is None


def _legacy_orders(world: Any, monkeypatch: Any) -> dict[str, int]:
    """Orders registered as written_order (as before the law's kinds), and a court ruling."""
    monkeypatch.setattr(
        authorizations, "REGISTRABLE_KINDS", (*authorizations.REGISTRABLE_KINDS, "written_order")
    )
    made = {
        name: world.authorization(kind="written_order", authority=authority, reference=f"OLD-{name}")
        for name, authority in AUTHORITIES.items()
    }
    made["ruling"] = world.authorization(kind="court_ruling", reference="OLD-ruling")
    return made


def _kinds(app: Any) -> dict[int, str]:
    with get_engine(app).connect() as connection:
        return dict(connection.execute(text("SELECT id, kind FROM legal_authorization")).all())


def test_a_database_of_the_previous_revision_is_migrated_and_still_verifies(
    world: Any, runner: Any, monkeypatch: Any, capsys: Any, tmp_path: Any
) -> None:
    made = _legacy_orders(world, monkeypatch)
    world.contact()
    with world.app.app_context():
        command.downgrade(alembic_config(world.app), "0014")
        capsys.readouterr()
        command.upgrade(alembic_config(world.app), "head")
    listed = capsys.readouterr().out
    found = _kinds(world.app)
    assert found[made["prosecutor"]] == "ovj_order"
    assert found[made["judge"]] == "rc_authorisation"
    assert found[made["neither"]] == found[made["both"]] == "written_order"
    assert found[made["ruling"]] == "court_ruling"
    assert f"authorization {made['neither']} " in listed and f"authorization {made['both']} " in listed
    assert f"authorization {made['prosecutor']} " not in listed
    with get_engine(world.app).connect() as connection:
        changes = connection.execute(
            text("SELECT authorization_id, from_kind, to_kind FROM authorization_kind_change ORDER BY 1")
        ).all()
    assert [tuple(row) for row in changes] == [
        (made["prosecutor"], "written_order", "ovj_order"),
        (made["judge"], "written_order", "rc_authorisation"),
    ]
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    shown = world.get(f"/authorizations/{made['prosecutor']}", "lena").get_json()
    assert (shown["kind"], shown["registered_kind"]) == ("ovj_order", "written_order")
    path = tmp_path / "bundle.zip"
    exported = runner.invoke(main, ["export", str(world.operation_id), "-o", str(path)])
    assert exported.exit_code == 0, exported.output
    report = verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS, notes=EVIDENCE_BUNDLE_NOTES)
    assert report.ok, report.reason
    with zipfile.ZipFile(path) as bundle:
        records = {a["id"]: a for a in json.loads(bundle.read("authorizations.json"))}
    assert records[made["judge"]]["registered_kind"] == "written_order"
    assert records[made["neither"]]["registered_kind"] is None


def test_a_kind_no_rule_gives_is_named_as_altered(
    world: Any, runner: Any, monkeypatch: Any, tmp_path: Any
) -> None:
    made = _legacy_orders(world, monkeypatch)
    tamper(
        world.app,
        "legal_authorization",
        "UPDATE legal_authorization SET kind = 'ovj_order' WHERE id = :id",
        id=made["neither"],
    )
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"authorization {made['neither']}: its kind is 'ovj_order'" in result.output
    path = tmp_path / "bundle.zip"
    assert runner.invoke(main, ["export", str(world.operation_id), "-o", str(path)]).exit_code == 0
    report = verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS, notes=EVIDENCE_BUNDLE_NOTES)
    assert not report.ok and "kind is 'ovj_order'" in report.reason, report.reason
