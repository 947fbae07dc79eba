"""Helpers of the initiative tests: annotate through the API, read the sheet and the assessments."""

from __future__ import annotations

from typing import Any


def annotate(
    world: Any, message_id: int, topic: str, username: str = "dana", expect: int = 201, **extra: Any
) -> Any:
    """Annotate a message through the API and return the answer's JSON."""
    response = world.post(f"/messages/{message_id}/annotations", username, json={"topic": topic, **extra})
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def sheet(world: Any, contact_id: int, username: str = "dana") -> Any:
    """The contact's initiative sheet."""
    response = world.get(f"/contacts/{contact_id}/initiative", username)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def assessments(world: Any, contact_id: int, username: str = "dana") -> Any:
    """The contact's recorded assessments, oldest first."""
    response = world.get(f"/contacts/{contact_id}/assessments", username)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def flags_of(world: Any, message_id: int) -> list[str]:
    """A message's flags now, as the API shows them."""
    return world.get(f"/messages/{message_id}").get_json()["flags"]  # type: ignore[no-any-return]


def conversation(world: Any, contact_id: int, lines: list[tuple[str, str]]) -> list[int]:
    """Record (direction, "HH:MM") messages on 2 March 2026 (+01:00) and return their ids."""
    return [
        world.message(contact_id, direction=direction, sent_at=f"2026-03-02T{time}:00+01:00")["id"]
        for direction, time in lines
    ]
