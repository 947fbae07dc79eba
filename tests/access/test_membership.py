"""A session keeps the memberships it has looked up, and forgets them when members may have changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from decoy import access
from decoy.db import get_engine, session_scope
from decoy.operations import services
from tests.factories import actor_for


def _membership_lookups(app: Any) -> list[str]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM operation_member" in statement:
            seen.append(statement)

    event.listen(get_engine(app), "before_cursor_execute", count)
    return seen


def test_a_membership_is_looked_up_once_and_again_after_a_change(app: Any, world: Any) -> None:
    with app.app_context(), session_scope(app) as session:
        sam, dirk = actor_for(session, "sam"), actor_for(session, "dirk")
        seen = _membership_lookups(app)
        assert all(access.is_member(session, dirk, world.operation_id) for _ in range(5))
        assert len(seen) == 1
        services.remove_member(
            session=session, actor=sam, operation_id=world.operation_id, username="dirk", reason="moved on"
        )
        session.flush()
        assert not access.is_member(session, dirk, world.operation_id)
        services.add_member(session=session, actor=sam, operation_id=world.operation_id, username="dirk")
        session.flush()
        assert access.is_member(session, dirk, world.operation_id)
        # Rolled back, the member added is gone again, and so is the answer kept since.
        session.rollback()
        assert access.is_member(session, dirk, world.operation_id)
        services.remove_member(
            session=session, actor=sam, operation_id=world.operation_id, username="dirk", reason="moved on"
        )
        session.flush()
        assert not access.is_member(session, dirk, world.operation_id)
        session.rollback()
        assert access.is_member(session, dirk, world.operation_id)
