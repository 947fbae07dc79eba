"""`decoy audit verify` hands the verifier a check for every action that records evidence, and runs it."""

from __future__ import annotations

import ast
import io
from pathlib import Path
from typing import Any

import pytest

from audit.entry import decode_entry
from decoy import audit_bridge
from decoy.db import session_scope
from decoy.integrity import evidence_checks
from decoy.integrity.checkpoints import verify_log
from decoy.operations.authorizations import attach_order_document
from tests.decoy.evidence.support import World
from tests.factories import actor_for

DECOY = Path(__file__).resolve().parents[3] / "decoy"


def _actions_recorded_with_evidence() -> dict[str, str]:
    """Every literal ``action=`` of a call that also passes ``evidence=`` (an audit entry, or a helper
    that writes one), anywhere in decoy/, with where it is."""
    found: dict[str, str] = {}
    for path in sorted(DECOY.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            keywords = {keyword.arg: keyword.value for keyword in node.keywords if keyword.arg}
            evidence, action = keywords.get("evidence"), keywords.get("action")
            if evidence is None or (isinstance(evidence, ast.Constant) and evidence.value is None):
                continue
            if isinstance(evidence, ast.Dict) and not evidence.keys:
                continue
            if isinstance(action, ast.Constant) and isinstance(action.value, str):
                found.setdefault(action.value, f"{path.relative_to(DECOY.parent)}:{node.lineno}")
    return found


def test_every_action_recorded_with_evidence_has_a_check():
    """A new action whose entries carry evidence hashes fails here until it has a check (or the reason
    why its hashes name nothing stored)."""
    recorded = _actions_recorded_with_evidence()
    assert {"contact.create", "message.create", "authorization.document_attach"} <= set(recorded)
    known = set(evidence_checks.EVIDENCE_CHECKS) | set(evidence_checks.EVIDENCE_NOT_STORED)
    unchecked = {action: where for action, where in recorded.items() if action not in known}
    assert not unchecked, f"evidence actions without a check (integrity/evidence_checks.py): {unchecked}"
    assert not set(evidence_checks.EVIDENCE_CHECKS) & set(evidence_checks.EVIDENCE_NOT_STORED)


def _workflow(world: World, auth: Any) -> None:
    """A contact, messages with and without files, an order document attached and read."""
    contact_id = world.contact()
    world.message(contact_id, body="hello, how are you")
    answer = world.post(
        f"/contacts/{contact_id}/messages",
        data={
            "direction": "out",
            "sent_at": "2026-03-02T10:05:00+01:00",
            "body": "see this",
            "attachments": [(io.BytesIO(b"plain words"), "note.txt")],
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.get_json()
    with world.app.app_context(), session_scope(world.app) as session:
        document = attach_order_document(
            session=session,
            actor=actor_for(session, "lena"),
            authorization_id=world.authorization_id,
            stream=io.BytesIO(b"%PDF-1.4 an order"),
            filename="order.pdf",
        )
        document_id = document.id
    auth.login("lena")
    assert world.client.get(f"/authorization-documents/{document_id}").status_code == 200


def test_the_verifier_runs_the_check_of_every_evidence_entry(
    world: World, auth: Any, monkeypatch: pytest.MonkeyPatch
):
    _workflow(world, auth)
    calls: list[tuple[str, Any]] = []

    def spy(action: str, check: evidence_checks.SessionCheck) -> evidence_checks.SessionCheck:
        def checked(session: Any, entry: dict[str, Any]) -> str | None:
            calls.append((action, entry["index"]))
            return check(session, entry)

        return checked

    spies = {action: spy(action, check) for action, check in evidence_checks.EVIDENCE_CHECKS.items()}
    monkeypatch.setattr(evidence_checks, "EVIDENCE_CHECKS", spies)
    with world.app.app_context():
        report = verify_log()
        with session_scope(world.app) as session:
            rows = audit_bridge.get_store().entries(session.connection(), 0, 1_000_000)
    assert report.ok, report.reason
    entries = [decode_entry(data) for _index, data, _leaf in rows]
    with_evidence = [entry for entry in entries if entry["evidence"]]
    actions = {entry["action"] for entry in with_evidence}
    assert {"contact.create", "message.create", "authorization.document_attach"} <= actions
    assert actions <= set(spies)
    assert calls == [(entry["action"], entry["index"]) for entry in with_evidence]
