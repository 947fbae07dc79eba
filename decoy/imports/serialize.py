"""An import as the API and the pages show it."""

from __future__ import annotations

from typing import Any

from ..clock import rfc3339
from ..models.capture import CONFIRMED
from .services import ImportOutcome


def import_json(outcome: ImportOutcome) -> dict[str, Any]:
    """The API's answer for an import (ImportPublic)."""
    request, tally = outcome.request, outcome.tally
    return {
        "id": outcome.id,
        "contact_id": request.contact_id,
        "sha256": outcome.sha256,
        "format": request.format,
        "filename": request.filename,
        "decoy_name": request.decoy_name,
        "chat": request.chat,
        "capture_session": request.capture_session_id,
        "assumed_timezone": outcome.assumed_timezone,
        "dry_run": outcome.dry_run,
        "exported": tally.exported,
        "added": tally.added,
        "duplicates": tally.duplicates,
        "system_lines": tally.system_lines,
        "confirmed": sum(1 for outcome_ in tally.outcomes if outcome_[1] == CONFIRMED),
        "differences": [
            {"message_id": message_id, "kind": kind, "export_message_id": export_id}
            for message_id, kind, export_id in tally.differences()
        ],
        "first_sent_at": None if tally.first_sent_at is None else rfc3339(tally.first_sent_at),
        "last_sent_at": None if tally.last_sent_at is None else rfc3339(tally.last_sent_at),
    }
