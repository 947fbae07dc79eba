"""Helpers of the capture session tests: start and end sessions through the API, read the audit log."""

from __future__ import annotations

from typing import Any

from tests.decoy.evidence.support import World, audit_entries

STATEMENT = "Every message of this session is recorded."


def start(
    world: World, username: str = "dana", profile_id: int | None = None, expect: int = 201, **body: Any
) -> dict[str, Any]:
    """Start a capture session through the API (a laptop, manual capture, unless ``body`` says otherwise)."""
    sent = {"device": "laptop VICE-07", "tool": "manual", **body}
    answer = world.post(f"/profiles/{profile_id or world.profile_id}/capture-sessions", username, json=sent)
    assert answer.status_code == expect, answer.get_json()
    return answer.get_json()  # type: ignore[no-any-return]


def end(
    world: World, session_id: int, username: str = "dana", expect: int = 200, **body: Any
) -> dict[str, Any]:
    """End a capture session through the API with the standard statement unless ``body`` says otherwise."""
    sent = {"completeness_statement": STATEMENT, **body}
    answer = world.post(f"/capture-sessions/{session_id}/end", username, json=sent)
    assert answer.status_code == expect, answer.get_json()
    return answer.get_json()  # type: ignore[no-any-return]


def index_of(app: Any, action: str, object_id: int) -> int:
    """The index of the audit entry of ``action`` on ``object_id``."""
    return next(
        int(e["index"])
        for e in audit_entries(app)
        if e["action"] == action and e["object"]["id"] == object_id
    )


def refused_field(answer: Any, status: int = 400) -> str | None:
    """The field an error answer names, after checking its status."""
    assert answer.status_code == status, answer.get_json()
    return answer.get_json()["error"].get("field")  # type: ignore[no-any-return]
