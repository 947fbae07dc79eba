"""A caller whose role cannot perform an action is refused as such (403), before any input is judged."""

from __future__ import annotations

import pytest

from tests.factories import make_authorization, make_operation


@pytest.mark.parametrize("role", ["detective", "legal", "admin"])
def test_creating_an_operation_needs_a_supervisor_whatever_the_body(client, factory, role):
    factory.user("person", role)
    headers = {"Authorization": f"Bearer {factory.token('person')}"}
    for body in ({}, {"name": 42}, {"name": "Operation Beacon"}):
        response = client.post("/api/v1/operations", json=body, headers=headers)
        assert response.status_code == 403, (role, body, response.get_json())


def test_member_detective_gets_403_for_supervisor_and_legal_actions(app, client, factory):
    factory.user("sam", "supervisor")
    factory.user("lena", "legal")
    factory.user("dora", "detective")
    operation = make_operation(app, "sam", name="Operation Beacon", members=("dora",))
    make_authorization(app, "lena", operation)
    headers = {"Authorization": f"Bearer {factory.token('dora')}"}
    for path in ("members", "status", "authorizations", "profiles"):
        response = client.post(f"/api/v1/operations/{operation}/{path}", json={}, headers=headers)
        assert response.status_code == 403, (path, response.get_json())
