"""Need to know over every endpoint and page of operations: each role, member and non-member.

A non-member sees nothing (404, never 403, so that existence is not revealed); admins see no operation;
legal officers read every operation but do not run profiles; only supervisor members act on profiles.
"""

from __future__ import annotations

import io

import pytest

from tests.factories import make_operation, make_profile

PDF = b"%PDF-1.4\n%%EOF\n"

# Who calls: member of Operation Lantern or not, by role. lena (legal) is a member of none and reads all.
CALLERS = {
    "supervisor member": "sol",
    "supervisor non-member": "otto",
    "detective member": "dana",
    "detective non-member": "nina",
    "legal": "lena",
    "admin": "adam",
}


def _authorization_body(reference):
    return {
        "reference": reference,
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


# (method, path template, body, expected status per caller)
API_CASES = [
    (
        "GET",
        "/operations/{op}",
        None,
        {"sol": 200, "otto": 404, "dana": 200, "nina": 404, "lena": 200, "adam": 404},
    ),
    (
        "GET",
        "/operations/{op}/authorizations",
        None,
        {"sol": 200, "otto": 404, "dana": 200, "nina": 404, "lena": 200, "adam": 404},
    ),
    (
        "GET",
        "/operations/{op}/profiles",
        None,
        {"sol": 200, "otto": 404, "dana": 200, "nina": 404, "lena": 200, "adam": 404},
    ),
    (
        "GET",
        "/authorizations/{auth}",
        None,
        {"sol": 200, "otto": 404, "dana": 200, "nina": 404, "lena": 200, "adam": 404},
    ),
    (
        "GET",
        "/profiles/{profile}",
        None,
        {"sol": 200, "otto": 404, "dana": 200, "nina": 404, "lena": 200, "adam": 404},
    ),
    (
        "GET",
        "/authorizations",
        None,
        {"sol": 403, "otto": 403, "dana": 403, "nina": 403, "lena": 200, "adam": 403},
    ),
    (
        "POST",
        "/operations/{op}/members",
        {"username": "nina"},
        {"sol": 201, "otto": 404, "dana": 403, "nina": 404, "lena": 403, "adam": 404},
    ),
    (
        "POST",
        "/operations/{op}/status",
        {"status": "active"},
        {"sol": 200, "otto": 404, "dana": 403, "nina": 404, "lena": 403, "adam": 404},
    ),
    (
        "POST",
        "/operations/{op}/authorizations",
        "authorization",
        {"sol": 403, "otto": 404, "dana": 403, "nina": 404, "lena": 201, "adam": 404},
    ),
    (
        "POST",
        "/authorizations/{auth}/documents",
        "pdf",
        {"sol": 403, "otto": 404, "dana": 403, "nina": 404, "lena": 201, "adam": 404},
    ),
    (
        "POST",
        "/operations/{op}/profiles",
        "profile",
        {"sol": 201, "otto": 404, "dana": 403, "nina": 404, "lena": 403, "adam": 404},
    ),
    (
        "POST",
        "/profiles/{profile}/approve",
        None,
        {"sol": 200, "otto": 404, "dana": 409, "nina": 404, "lena": 409, "adam": 404},
    ),
    (
        "POST",
        "/profiles/{active}/suspend",
        {"reason": "checking the cover"},
        {"sol": 200, "otto": 404, "dana": 403, "nina": 404, "lena": 200, "adam": 404},
    ),
    (
        "POST",
        "/profiles/{active}/retire",
        {"reason": "done"},
        {"sol": 200, "otto": 404, "dana": 403, "nina": 404, "lena": 403, "adam": 404},
    ),
]


def _world(team):
    profile = make_profile(team.app, team.operation_id, team.authorization_id, "sam", handle="pending_one")
    active = make_profile(
        team.app, team.operation_id, team.authorization_id, "sam", approver="sol", handle="active_one"
    )
    return {"op": team.operation_id, "auth": team.authorization_id, "profile": profile, "active": active}


def _call(team, method, path, body, username, ids):
    kwargs = {}
    if body == "authorization":
        kwargs["json"] = _authorization_body(f"REF-{username}")
    elif body == "pdf":
        kwargs["data"] = {"file": (io.BytesIO(PDF), "order.pdf")}
        kwargs["content_type"] = "multipart/form-data"
    elif body == "profile":
        kwargs["json"] = {"authorization_id": ids["auth"], "platform": "chatapp", "handle": f"new_{username}"}
    elif body is not None:
        kwargs["json"] = body
    return team.api(method, path.format(**ids), username, **kwargs)


@pytest.mark.parametrize("caller", list(CALLERS))
def test_every_api_endpoint_answers_each_role_as_need_to_know_requires(team, caller):
    username = CALLERS[caller]
    ids = _world(team)
    failures = []
    for method, path, body, expected in API_CASES:
        response = _call(team, method, path, body, username, ids)
        if response.status_code != expected[username]:
            failures.append(
                f"{method} {path}: {response.status_code} != {expected[username]} "
                f"{response.get_data(as_text=True)[:200]}"
            )
    assert not failures, "\n".join(failures)


def test_the_operations_list_shows_only_the_callers_operations(team):
    make_operation(team.app, "otto", name="Operation Harbour", members=("nina",))
    names = {}
    for username in CALLERS.values():
        body = team.api("GET", "/operations", username).get_json()
        names[username] = sorted(item["name"] for item in body["items"])
    assert names == {
        "sol": ["Operation Lantern"],
        "otto": ["Operation Harbour"],
        "dana": ["Operation Lantern"],
        "nina": ["Operation Harbour"],
        "lena": ["Operation Harbour", "Operation Lantern"],
        "adam": [],
    }


def test_the_operations_list_is_keyset_paginated(team):
    for number in range(3):
        make_operation(team.app, "sam", name=f"Operation {number}")
    first = team.api("GET", "/operations?limit=2", "sam").get_json()
    assert len(first["items"]) == 2 and first["next"]
    second = team.client.get(first["next"], headers=team.headers("sam")).get_json()
    ids = [item["id"] for page in (first, second) for item in page["items"]]
    assert len(ids) == 4 == len(set(ids)) and second["next"] is None


PAGE_CASES = [
    ("/operations", {"sol": 200, "otto": 200, "dana": 200, "nina": 200, "lena": 200, "adam": 403}),
    ("/operations/{op}", {"sol": 200, "otto": 404, "dana": 200, "nina": 404, "lena": 200, "adam": 403}),
    (
        "/operations/{op}/authorizations/new",
        {"sol": 403, "otto": 404, "dana": 403, "nina": 404, "lena": 200, "adam": 403},
    ),
    ("/authorizations", {"sol": 403, "otto": 403, "dana": 403, "nina": 403, "lena": 200, "adam": 403}),
    ("/authorizations.csv", {"sol": 403, "otto": 403, "dana": 403, "nina": 403, "lena": 200, "adam": 403}),
    (
        "/authorization-documents/{doc}",
        {"sol": 200, "otto": 404, "dana": 200, "nina": 404, "lena": 200, "adam": 403},
    ),
]


@pytest.mark.parametrize("caller", list(CALLERS))
def test_every_page_answers_each_role_as_need_to_know_requires(team, auth, caller):
    username = CALLERS[caller]
    ids = _world(team)
    upload = team.api(
        "POST",
        f"/authorizations/{ids['auth']}/documents",
        "lena",
        data={"file": (io.BytesIO(PDF), "order.pdf")},
        content_type="multipart/form-data",
    )
    ids["doc"] = upload.get_json()["id"]
    auth.login(username)
    failures = []
    for path, expected in PAGE_CASES:
        response = team.client.get(path.format(**ids))
        if response.status_code != expected[username]:
            failures.append(f"GET {path}: {response.status_code} != {expected[username]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("caller", ["otto", "nina", "adam"])
def test_outsiders_cannot_act_through_the_page_forms(team, auth, caller):
    ids = _world(team)
    auth.login(caller)
    token = auth.csrf("/account/tokens")
    expected = 403 if caller == "adam" else 404
    for path, data in (
        (f"/operations/{ids['op']}/members", {"username": "nina"}),
        (
            f"/operations/{ids['op']}/profiles",
            {"authorization_id": ids["auth"], "platform": "x", "handle": "y"},
        ),
        (f"/profiles/{ids['profile']}/approve", {}),
        (f"/profiles/{ids['active']}/suspend", {"reason": "r"}),
        (f"/profiles/{ids['active']}/retire", {}),
        (f"/authorizations/{ids['auth']}/documents", {}),
    ):
        response = team.client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == expected, path
