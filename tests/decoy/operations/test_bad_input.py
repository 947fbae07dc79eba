"""Malformed input to every operations endpoint: 400 (or 404 for unknown ids) naming the field, no 500."""

from __future__ import annotations

import io

import pytest

from tests.factories import make_profile

VALID = {
    "reference": "OvJ-2026-0500",
    "kind": "ovj_order",
    "authority": "Court",
    "legal_basis": "art. 126j Sv",
    "valid_from": "2026-03-01T00:00:00+01:00",
    "valid_until": "2026-06-01T00:00:00+02:00",
    "review_interval_days": 30,
    "platforms": ["chatapp"],
    "may_initiate_contact": False,
    "max_profiles": 3,
    "officers": ["dana"],
}
HUGE = "x" * 300_000


def _without(name):
    return {key: value for key, value in VALID.items() if key != name}


AUTHORIZATION_CASES = [
    (_without("reference"), "reference"),
    ({**VALID, "reference": 12}, "reference"),
    ({**VALID, "reference": "   "}, "reference"),
    ({**VALID, "reference": "r" * 121}, "reference"),
    ({**VALID, "kind": "telepathic"}, "kind"),
    (_without("authority"), "authority"),
    (_without("legal_basis"), "legal_basis"),
    ({**VALID, "valid_from": "2026-03-01T00:00:00"}, "valid_from"),
    ({**VALID, "valid_from": "2026-03-01"}, "valid_from"),
    ({**VALID, "valid_until": 1772319600}, "valid_until"),
    ({**VALID, "valid_until": "2026-02-01T00:00:00+01:00"}, "valid_until"),
    ({**VALID, "review_interval_days": 0}, "review_interval_days"),
    ({**VALID, "review_interval_days": "30"}, "review_interval_days"),
    ({**VALID, "review_interval_days": True}, "review_interval_days"),
    ({**VALID, "review_interval_days": 10**30}, "review_interval_days"),
    ({**VALID, "platforms": []}, "platforms"),
    ({**VALID, "platforms": "chatapp"}, "platforms"),
    ({**VALID, "platforms": [1]}, "platforms"),
    ({**VALID, "max_profiles": -1}, "max_profiles"),
    ({**VALID, "max_profiles": 2.5}, "max_profiles"),
    ({**VALID, "may_initiate_contact": "yes"}, "may_initiate_contact"),
    ({**VALID, "officers": ["nobody_here"]}, "officers"),
    ({**VALID, "officers": ["adam"]}, "officers"),
    ({**VALID, "officers": "dana"}, "officers"),
    (_without("officers"), "officers"),
    ({**VALID, "issued_on": "01-03-2026"}, "issued_on"),
    ({**VALID, "issued_on": 20260301}, "issued_on"),
    ({**VALID, "supersedes_id": 999999}, "supersedes_id"),
    ({**VALID, "supersedes_id": "1"}, "supersedes_id"),
    ({**VALID, "written_order_days": 0}, "written_order_days"),
    ({**VALID, "conditions": HUGE}, "conditions"),
    ({**VALID, "offence": ["a list"]}, "offence"),
]


@pytest.mark.parametrize(("body", "field"), AUTHORIZATION_CASES)
def test_a_malformed_authorization_is_refused_naming_its_field(team, body, field):
    response = team.api("POST", f"/operations/{team.operation_id}/authorizations", "lena", json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["field"] == field


def _profile_ids(team):
    pending = make_profile(team.app, team.operation_id, team.authorization_id, "sam", handle="pending_one")
    return {"op": team.operation_id, "auth": team.authorization_id, "profile": pending}


# (username, method, path, json body, expected status, expected field)
CASES = [
    ("sam", "POST", "/operations", None, 400, "body"),
    ("sam", "POST", "/operations", [], 400, "body"),
    ("sam", "POST", "/operations", {}, 400, "name"),
    ("sam", "POST", "/operations", {"name": 7}, 400, "name"),
    ("sam", "POST", "/operations", {"name": HUGE}, 400, "name"),
    ("sam", "POST", "/operations", {"name": "Operation Lantern"}, 400, "name"),
    ("sam", "POST", "/operations", {"name": "Operation Quay", "timezone": "Mars/Olympus"}, 400, "timezone"),
    (
        "sam",
        "POST",
        "/operations",
        {"name": "Operation Quay", "timezone": "../../etc/passwd"},
        400,
        "timezone",
    ),
    ("sam", "POST", "/operations", {"name": "Operation Quay", "team": ["a"]}, 400, "team"),
    ("sam", "POST", "/operations/{op}/members", {}, 400, "username"),
    ("sam", "POST", "/operations/{op}/members", {"username": None}, 400, "username"),
    ("sam", "POST", "/operations/{op}/members", {"username": "ghost"}, 400, "username"),
    ("sam", "POST", "/operations/{op}/members", {"username": "adam"}, 400, "username"),
    ("sam", "POST", "/operations/{op}/members", {"username": "dana"}, 409, None),
    ("sam", "POST", "/operations/{op}/status", {"status": "sleeping"}, 400, "status"),
    ("sam", "POST", "/operations/{op}/profiles", {}, 400, "authorization_id"),
    (
        "sam",
        "POST",
        "/operations/{op}/profiles",
        {"authorization_id": "1", "platform": "chatapp", "handle": "h"},
        400,
        "authorization_id",
    ),
    (
        "sam",
        "POST",
        "/operations/{op}/profiles",
        {"authorization_id": 999999, "platform": "chatapp", "handle": "h"},
        400,
        "authorization_id",
    ),
    (
        "sam",
        "POST",
        "/operations/{op}/profiles",
        {"authorization_id": "{auth}", "handle": "h"},
        400,
        "platform",
    ),
    (
        "sam",
        "POST",
        "/operations/{op}/profiles",
        {"authorization_id": "{auth}", "platform": "chatapp", "handle": ""},
        400,
        "handle",
    ),
    (
        "sam",
        "POST",
        "/operations/{op}/profiles",
        {"authorization_id": "{auth}", "platform": "chatapp", "handle": "h", "persona": HUGE},
        400,
        "persona",
    ),
    (
        "sam",
        "POST",
        "/operations/{op}/profiles",
        {"authorization_id": "{auth}", "platform": "chatapp", "handle": "pending_one"},
        400,
        "handle",
    ),
    ("sol", "POST", "/profiles/{profile}/suspend", {}, 400, "reason"),
    ("sol", "POST", "/profiles/{profile}/suspend", {"reason": 5}, 400, "reason"),
    ("sol", "POST", "/profiles/{profile}/suspend", "not json", 400, "body"),
    ("sol", "POST", "/profiles/{profile}/retire", {"reason": HUGE}, 400, "reason"),
    ("sam", "GET", "/operations?limit=0", None, 400, "limit"),
    ("sam", "GET", "/operations?after=x", None, 400, "after"),
    ("sam", "GET", "/operations/{op}/profiles?limit=99999", None, 400, "limit"),
    ("sam", "GET", "/operations/{op}/authorizations?after=-1", None, 400, "after"),
    ("lena", "GET", "/authorizations?status=sleeping", None, 400, "status"),
    ("lena", "GET", "/authorizations?q=" + "q" * 300, None, 400, "q"),
]


@pytest.mark.parametrize(("username", "method", "path", "body", "status", "field"), CASES)
def test_malformed_requests_are_refused_naming_the_field(team, username, method, path, body, status, field):
    ids = _profile_ids(team)
    if isinstance(body, dict):
        body = {key: int(ids["auth"]) if value == "{auth}" else value for key, value in body.items()}
    kwargs = {"data": body, "content_type": "text/plain"} if isinstance(body, str) else {}
    if body is not None and not isinstance(body, str):
        kwargs["json"] = body
    response = team.api(method, path.format(**ids), username, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    if field is not None:
        assert response.get_json()["error"]["field"] == field


UNKNOWN = [
    ("GET", "/operations/999999"),
    ("GET", "/operations/99999999999999999999"),
    ("GET", "/operations/999999/authorizations"),
    ("GET", "/operations/999999/profiles"),
    ("POST", "/operations/999999/members"),
    ("POST", "/operations/999999/authorizations"),
    ("POST", "/operations/999999/profiles"),
    ("POST", "/operations/999999/status"),
    ("GET", "/authorizations/999999"),
    ("GET", "/authorizations/99999999999999999999"),
    ("POST", "/authorizations/999999/documents"),
    ("GET", "/profiles/999999"),
    ("GET", "/profiles/99999999999999999999"),
    ("POST", "/profiles/999999/approve"),
    ("POST", "/profiles/99999999999999999999/approve"),
    ("POST", "/profiles/999999/suspend"),
    ("POST", "/profiles/999999/retire"),
]


@pytest.mark.parametrize(("method", "path"), UNKNOWN)
@pytest.mark.parametrize("username", ["sam", "lena"])
def test_unknown_ids_answer_404(team, method, path, username):
    response = team.api(method, path, username, json={"reason": "x", "username": "dana"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_document_upload_must_be_a_multipart_pdf(team):
    path = f"/authorizations/{team.authorization_id}/documents"
    as_json = team.api("POST", path, "lena", json={"file": "x"})
    assert as_json.status_code == 400 and as_json.get_json()["error"]["field"] == "file"
    missing = team.api("POST", path, "lena", data={"kind": "order"}, content_type="multipart/form-data")
    assert missing.status_code == 400 and missing.get_json()["error"]["field"] == "file"
    not_pdf = team.api(
        "POST",
        path,
        "lena",
        data={"file": (io.BytesIO(b"hello, how are you"), "order.pdf")},
        content_type="multipart/form-data",
    )
    assert not_pdf.status_code == 400 and not_pdf.get_json()["error"]["field"] == "file"
    bad_kind = team.api(
        "POST",
        path,
        "lena",
        data={"file": (io.BytesIO(b"%PDF-1.4"), "o.pdf"), "kind": "memo"},
        content_type="multipart/form-data",
    )
    assert bad_kind.status_code == 400 and bad_kind.get_json()["error"]["field"] == "kind"
    empty = team.api(
        "POST", path, "lena", data={"file": (io.BytesIO(b""), "o.pdf")}, content_type="multipart/form-data"
    )
    assert empty.status_code == 400


def test_a_document_over_the_limit_is_413(app_factory, team):
    team.app.config["MAX_ATTACHMENT_BYTES"] = 1000
    response = team.api(
        "POST",
        f"/authorizations/{team.authorization_id}/documents",
        "lena",
        data={"file": (io.BytesIO(b"%PDF-1.4" + b"0" * 5000), "big.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413


def test_a_valid_authorization_is_created_with_every_field(team):
    body = {
        **VALID,
        "issuer_name": "Prosecutor C",
        "offence": "art. 248e Sr",
        "suspect_description": "unknown",
        "justification": "reports of approaches",
        "method": "profile in a public chat",
        "issued_on": "2026-02-28",
        "persona_constraints": "stated age 13",
        "conditions": "weekly report",
        "kind": "urgent_oral_order",
        "oral_order_given_at": "2026-03-02T10:00:00+01:00",
        "written_order_days": 2,
    }
    response = team.api("POST", f"/operations/{team.operation_id}/authorizations", "lena", json=body)
    assert response.status_code == 201
    created = response.get_json()
    for key in (
        "reference",
        "kind",
        "issuer_name",
        "offence",
        "justification",
        "method",
        "issued_on",
        "persona_constraints",
        "conditions",
        "platforms",
        "officers",
        "max_profiles",
    ):
        assert created[key] == body[key], key
    assert created["valid_from"] == "2026-02-28T23:00:00+00:00"
    assert created["oral_order_given_at"] == "2026-03-02T09:00:00+00:00"
    assert created["written_order_due"] == "2026-03-04T09:00:00+00:00"  # counted from the oral order
    assert created["status"] == "valid" and created["documents"] == []
    assert response.headers["Location"].endswith(f"/authorizations/{created['id']}")
