"""Rule 5: every change of state writes exactly one audit entry in its transaction; a failure leaves none."""

from __future__ import annotations

import io

import pytest
from sqlmodel import select

from audit.entry import decode_entry
from decoy.audit_bridge import get_store
from decoy.db import get_engine, session_scope
from decoy.errors import RuleViolation
from decoy.models import Operation
from tests.factories import actor_for, make_profile
from tests.support import code_for

PDF = b"%PDF-1.4\n%%EOF\n"


def _entries(team, start):
    with get_engine(team.app).connect() as connection:
        rows = get_store(team.app).entries(connection, start, 1_000_000)
    return [decode_entry(data) for _index, data, _leaf in rows]


def _once(team, call, action):
    before = team.audit_size()
    response = call()
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    entries = _entries(team, before)
    assert [entry["action"] for entry in entries] == [action]
    return entries[0], response


def test_every_change_of_state_writes_exactly_one_entry(team):
    entry, response = _once(
        team,
        lambda: team.api("POST", "/operations", "sam", json={"name": "Operation Quay"}),
        "operation.create",
    )
    operation_id = response.get_json()["id"]
    assert entry["actor"] == code_for("sam") and entry["operation"] == operation_id
    _once(
        team,
        lambda: team.api("POST", f"/operations/{operation_id}/members", "sam", json={"username": "sol"}),
        "operation.member_add",
    )
    _once(
        team,
        lambda: team.api("POST", f"/operations/{operation_id}/status", "sam", json={"status": "active"}),
        "operation.status",
    )
    body = {
        "reference": "OvJ-1",
        "kind": "court_ruling",
        "authority": "Court",
        "legal_basis": "art. 126j Sv",
        "valid_from": "2026-03-01T00:00:00+01:00",
        "valid_until": "2026-06-01T00:00:00+02:00",
        "review_interval_days": 30,
        "platforms": ["chatapp"],
        "max_profiles": 2,
        "officers": ["sol"],
    }
    entry, response = _once(
        team,
        lambda: team.api("POST", f"/operations/{operation_id}/authorizations", "lena", json=body),
        "authorization.register",
    )
    authorization_id = response.get_json()["id"]
    assert entry["details"]["officers"] == [code_for("sol")] and entry["details"]["reference"] == "OvJ-1"
    entry, response = _once(
        team,
        lambda: team.api(
            "POST",
            f"/authorizations/{authorization_id}/documents",
            "lena",
            data={"file": (io.BytesIO(PDF), "order.pdf")},
            content_type="multipart/form-data",
        ),
        "authorization.document_attach",
    )
    assert entry["evidence"] == {"order.pdf": response.get_json()["sha256"]}
    entry, response = _once(
        team,
        lambda: team.api(
            "POST",
            f"/operations/{operation_id}/profiles",
            "sam",
            json={"authorization_id": authorization_id, "platform": "chatapp", "handle": "sunny_day"},
        ),
        "profile.propose",
    )
    profile_id = response.get_json()["id"]
    assert response.get_json()["status"] == "pending_approval"
    _once(team, lambda: team.api("POST", f"/profiles/{profile_id}/approve", "sol"), "profile.approve")
    entry, _r = _once(
        team,
        lambda: team.api("POST", f"/profiles/{profile_id}/suspend", "lena", json={"reason": "review"}),
        "profile.suspend",
    )
    assert entry["details"]["reason"] == "review" and entry["actor"] == code_for("lena")
    _once(team, lambda: team.api("POST", f"/profiles/{profile_id}/approve", "sol"), "profile.approve")
    _once(team, lambda: team.api("POST", f"/profiles/{profile_id}/retire", "sam"), "profile.retire")


def test_reads_change_nothing_and_write_no_entry(team):
    profile_id = make_profile(team.app, team.operation_id, team.authorization_id, "sam")
    before = team.audit_size()
    for path in (
        f"/operations/{team.operation_id}",
        f"/profiles/{profile_id}",
        "/operations",
        f"/authorizations/{team.authorization_id}",
    ):
        assert team.api("GET", path, "sam").status_code == 200
    assert team.audit_size() == before


@pytest.mark.parametrize("path", ["/profiles/{p}/approve", "/profiles/{p}/retire"])
def test_a_refused_change_writes_no_entry(team, path):
    profile_id = make_profile(team.app, team.operation_id, team.authorization_id, "sam")
    before = team.audit_size()
    response = team.api("POST", path.format(p=profile_id), "dana", json={})
    assert response.status_code in (403, 409)
    assert team.audit_size() == before


def test_a_failing_transaction_leaves_neither_change_nor_entry(team):
    from decoy.operations import services

    before = team.audit_size()
    with pytest.raises(RuleViolation), team.app.app_context(), session_scope(team.app) as session:
        services.create_operation(session=session, actor=actor_for(session, "sam"), name="Operation Ghost")
        raise RuleViolation("something later in the same transaction failed")
    assert team.audit_size() == before
    with team.app.app_context(), session_scope(team.app) as session:
        assert session.exec(select(Operation).where(Operation.name == "Operation Ghost")).first() is None


def test_a_document_refused_as_not_pdf_stores_no_file(team):
    from decoy import blobstore

    before = team.audit_size()
    team.api(
        "POST",
        f"/authorizations/{team.authorization_id}/documents",
        "lena",
        data={"file": (io.BytesIO(b"hello, how are you"), "order.pdf")},
        content_type="multipart/form-data",
    )
    assert team.audit_size() == before
    with team.app.app_context():
        stored = [path for path in blobstore.root().rglob("*") if path.is_file()]
    assert stored == []
