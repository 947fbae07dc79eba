"""JSON of capture sessions, built through their public model."""

from __future__ import annotations

from typing import Any

from .schemas import CaptureSessionPublic
from .services import SessionRecord


def session_json(found: SessionRecord, usernames: dict[int, str]) -> dict[str, Any]:
    """A capture session with its end (the end's fields null while it is open); people by username."""
    row, end = found.session, found.end
    return CaptureSessionPublic(
        id=row.id,
        operation_id=row.operation_id,
        profile_id=row.profile_id,
        operated_by=usernames.get(row.operated_by, ""),
        device=row.device,
        tool=row.tool,
        started_at=row.started_at,
        open=end is None,
        ended_at=None if end is None else end.ended_at,
        ended_by=None if end is None else usernames.get(end.ended_by, ""),
        completeness_statement=None if end is None else end.completeness_statement,
        known_gaps=None if end is None else end.known_gaps,
    ).model_dump(mode="json")
