"""Capture sessions as the evidence bundle holds them (``capture_sessions.json``), read in the export's
snapshot: every session of the operation's profiles with its end, the names shown beside the account
ids the audit entries' row hashes cover (docs/evidence-format.md, "Row hashes")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from ..models import CaptureSession, CaptureSessionEnd

#: The bundle's file of capture sessions.
CAPTURE_SESSIONS_PATH = "capture_sessions.json"


def _utc(moment: datetime) -> str:
    return moment.isoformat()


def capture_session_records(
    session: Session,
    operation_id: int,
    names: Callable[[int | None, datetime | None], str | None],
    zone: ZoneInfo,
) -> list[dict[str, Any]]:
    """Every capture session of the operation, by id, each with its end (null while open)."""
    rows = session.exec(
        select(CaptureSession)
        .where(CaptureSession.operation_id == operation_id)
        .order_by(col(CaptureSession.id))
    ).all()
    ids = [row.id for row in rows]
    ends = {}
    if ids:
        found = session.exec(
            select(CaptureSessionEnd).where(col(CaptureSessionEnd.capture_session_id).in_(ids))
        )
        ends = {end.capture_session_id: end for end in found.all()}
    records = []
    for row in rows:
        end = ends.get(row.id or 0)
        records.append(
            {
                "id": row.id,
                "operation_id": row.operation_id,
                "profile_id": row.profile_id,
                "operated_by": names(row.operated_by, row.started_at),
                "operated_by_id": row.operated_by,
                "device": row.device,
                "tool": row.tool,
                "started_at": _utc(row.started_at),
                "started_at_local": row.started_at.astimezone(zone).isoformat(),
                "end": None
                if end is None
                else {
                    "ended_by": names(end.ended_by, end.ended_at),
                    "ended_by_id": end.ended_by,
                    "ended_at": _utc(end.ended_at),
                    "ended_at_local": end.ended_at.astimezone(zone).isoformat(),
                    "completeness_statement": end.completeness_statement,
                    "known_gaps": end.known_gaps,
                },
            }
        )
    return records
