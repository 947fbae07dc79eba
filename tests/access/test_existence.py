"""An outsider cannot tell a hidden object from a missing one: the same answer after the same work.

The work is compared by the SQL statements each request runs (a deterministic stand-in for its time):
a hidden id and an id that does not exist must cost the same statements, in the same number.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from decoy.db import get_engine

MISSING = 987_654


def _statements(app: Any, client: Any, path: str, headers: dict[str, str]) -> tuple[int, list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split(" WHERE ")[0][:120])

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", count)
    try:
        status = client.get(path, headers=headers).status_code
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return status, seen


@pytest.mark.parametrize("kind", ["operations", "profiles", "contacts", "messages", "authorizations"])
def test_a_hidden_id_costs_what_a_missing_one_costs(app, client, world, kind):
    contact = world.contact()
    message = world.message(contact)["id"]
    ids = {
        "operations": world.operation_id,
        "profiles": world.profile_id,
        "contacts": contact,
        "messages": message,
        "authorizations": world.authorization_id,
    }
    outsider = world.headers("nina")
    for _ in range(2):  # the first requests warm the caches of both paths alike
        hidden = _statements(app, client, f"/api/v1/{kind}/{ids[kind]}", outsider)
        missing = _statements(app, client, f"/api/v1/{kind}/{MISSING}", outsider)
    assert hidden[0] == missing[0] == 404
    assert hidden[1] == missing[1], f"{kind}: hidden and missing ids run different statements"
