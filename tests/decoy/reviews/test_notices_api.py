"""GET /api/v1/notifications: the caller's own notices, newest first, a page at a time, with their subject
in words; marking one as read; nobody reads another's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from decoy import clock
from decoy.db import session_scope
from decoy.models import Notification
from tests.factories import actor_for


def _notices(world: Any, username: str, count: int) -> list[int]:
    made = []
    with world.app.app_context(), session_scope(world.app) as session:
        user_id = actor_for(session, username).id
        for number in range(count):
            due_at = clock.now() + timedelta(days=2)
            params = {"operation": "Operation Lantern", "due_at": due_at.isoformat(),
                      "due_local": "2026-03-04 10:00 CET"}
            row = Notification(
                key=f"test:{username}:{number}", user_id=user_id, kind="reminder_7d",
                operation_id=world.operation_id, params=params,
                link=f"/operations/{world.operation_id}",
                created_at=clock.now() + timedelta(minutes=number),
            )
            session.add(row)
            session.flush()
            made.append(int(row.id))  # type: ignore[arg-type]
    return made


def test_the_caller_reads_their_notices_newest_first_by_pages(world: Any) -> None:
    mine = _notices(world, "lena", 3)
    _notices(world, "sam", 2)
    first = world.get("/notifications?limit=2", "lena").get_json()
    assert [item["id"] for item in first["items"]] == [mine[2], mine[1]]
    # The time left when the notice was made (two days less two minutes), with the due time.
    assert first["items"][0]["subject"] == "Review due in 2 days (2026-03-04 10:00 CET): Operation Lantern"
    assert first["items"][0]["read"] is False and first["next"] is not None
    rest = world.get(first["next"], "lena").get_json()
    assert [item["id"] for item in rest["items"]] == [mine[0]] and rest["next"] is None


def test_a_notice_is_marked_read_by_its_owner_only(world: Any) -> None:
    [notice] = _notices(world, "lena", 1)
    assert world.post(f"/notifications/{notice}/read", "sam").status_code == 404
    answer = world.post(f"/notifications/{notice}/read", "lena")
    assert answer.status_code == 200 and answer.get_json()["read"] is True
    assert world.get("/notifications", "lena").get_json()["items"][0]["read"] is True


def test_a_malformed_page_is_a_400_naming_the_argument(world: Any) -> None:
    answer = world.get("/notifications?limit=0", "lena")
    assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "limit"
