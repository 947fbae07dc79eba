"""Legal records and attribution: an authorization's terms, a decision's rationale and who did what are
covered by their entries' row hashes, in `decoy audit verify` and in the bundle verifier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from audit.bundle import verify_bundle
from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS, EVIDENCE_BUNDLE_NOTES
from decoy.cli import main
from decoy.db import get_engine
from tests.decoy.evidence.support import audit_entries
from tests.support import code_for, without_triggers

from .support import record_everything, user_id


@pytest.fixture
def recorded(world: Any) -> dict[str, Any]:
    """Evidence and every kind of legal record, each written through the services."""
    return record_everything(world)


def _index(app: Any, action: str, object_id: int) -> int:
    entries = audit_entries(app)
    return next(e["index"] for e in entries if e["action"] == action and e["object"]["id"] == object_id)


def _valid_until(connection: Connection, world: Any, ids: dict[str, Any]) -> None:
    without_triggers(connection, "legal_authorization")
    connection.execute(
        text("UPDATE legal_authorization SET valid_until = :until WHERE id = :id"),
        {"until": "2027-12-31 00:00:00" if connection.dialect.name == "sqlite" else "2027-12-31T00:00:00Z",
         "id": world.authorization_id},
    )


def _max_profiles(connection: Connection, world: Any, ids: dict[str, Any]) -> None:
    without_triggers(connection, "legal_authorization")
    connection.execute(text("UPDATE legal_authorization SET max_profiles = max_profiles + 10 WHERE id = :id"),
                       {"id": world.authorization_id})


def _rationale(connection: Connection, world: Any, ids: dict[str, Any]) -> None:
    without_triggers(connection, "review_decision")
    statement = text("UPDATE review_decision SET rationale = 'outside the order' WHERE review_id = :id")
    connection.execute(statement, {"id": ids["review"]})


def _swap_codes(connection: Connection, world: Any, ids: dict[str, Any]) -> None:
    """The verbalisant codes of dana and sam swapped in their history, behind the triggers' back."""
    without_triggers(connection, "verbalisant_assignment")
    dana, sam = user_id(connection, "dana"), user_id(connection, "sam")
    swap = text("UPDATE verbalisant_assignment SET code = :code WHERE user_id = :id")
    connection.execute(swap, {"code": code_for("sam"), "id": dana})
    connection.execute(swap, {"code": code_for("dana"), "id": sam})


TAMPERING = {
    "valid_until": (_valid_until, "authorization.register", "authorizations.json"),
    "max_profiles": (_max_profiles, "authorization.register", "authorizations.json"),
    "rationale": (_rationale, "review.decide", "reviews.json"),
    "swapped_codes": (_swap_codes, "account.verbalisant_code", f"recorded by {code_for('sam')!r}"),
}


def _first_bad(world: Any, ids: dict[str, Any], action: str) -> int:
    if action == "authorization.register":
        return _index(world.app, action, world.authorization_id)
    if action == "review.decide":
        return _index(world.app, action, ids["review"])
    users = {e["object"]["id"]: e["details"]["username"] for e in audit_entries(world.app)
             if e["action"] == "account.create"}
    creations = [e for e in audit_entries(world.app) if e["action"] == action]
    return min(e["index"] for e in creations if users[e["details"]["user"]] in {"dana", "sam"})


@pytest.mark.parametrize("change", sorted(TAMPERING))
def test_an_altered_legal_record_is_named_by_verify(world: Any, recorded: dict[str, Any], runner: Any,
                                                    change: str) -> None:
    tamper, action, _file = TAMPERING[change]
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    with world.app.app_context(), get_engine().begin() as connection:
        tamper(connection, world, recorded)
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert f"first bad entry: {_first_bad(world, recorded, action)};" in result.output, result.output


@pytest.mark.parametrize("change", sorted(TAMPERING))
def test_an_altered_legal_record_fails_the_bundle_verifier(world: Any, recorded: dict[str, Any], runner: Any,
                                                           change: str, tmp_path: Path) -> None:
    tamper, _action, named = TAMPERING[change]
    with world.app.app_context(), get_engine().begin() as connection:
        tamper(connection, world, recorded)
    path = tmp_path / "bundle.zip"
    exported = runner.invoke(main, ["export", str(world.operation_id), "-o", str(path)])
    assert exported.exit_code == 0, exported.output
    report = verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS, notes=EVIDENCE_BUNDLE_NOTES)
    assert not report.ok and named in report.reason, report.reason
    assert runner.invoke(main, ["audit", "verify", str(path)]).exit_code == 1


def test_the_untouched_records_verify_in_the_bundle(world: Any, recorded: dict[str, Any], runner: Any,
                                                    tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    assert runner.invoke(main, ["export", str(world.operation_id), "-o", str(path)]).exit_code == 0
    report = verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS, notes=EVIDENCE_BUNDLE_NOTES)
    assert report.ok and report.notes == (), report.reason
    entries = audit_entries(world.app)
    for action in ("authorization.register", "review.decide", "profile.propose", "profile.approve",
                   "account.create"):
        assert all("row_sha256" in e["evidence"] for e in entries if e["action"] == action), action


def test_the_database_refuses_to_change_a_username(world: Any) -> None:
    with world.app.app_context():
        with pytest.raises(Exception, match="never change"):  # noqa: B017 - driver-specific error types
            with get_engine().begin() as connection:
                connection.execute(text("UPDATE user_account SET username = 'someone.else' WHERE id = 1"))
        with get_engine().begin() as connection:
            # Writing a username unchanged, or any other column, goes on as before.
            connection.execute(text("UPDATE user_account SET username = username, failed_attempts = 0"))
