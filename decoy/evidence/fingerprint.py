"""Content hashes of evidence rows, recorded in the audit log and recomputed by `decoy audit verify`.

A row's fingerprint is the SHA-256 of the canonical JSON (the audit log's own encoding) of every
column that carries meaning, so that any change to a stored row, made by someone who bypassed the
database's triggers, no longer matches the hash in its signed audit entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from audit.entry import canonical_json, format_time


def text_sha256(text: str) -> str:
    """The SHA-256 of a text's UTF-8 bytes, exactly as stored."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


def contact_fingerprint(row: Mapping[str, Any]) -> str:
    """The fingerprint of a contact row (an ORM object's ``__dict__`` or a Core row mapping)."""
    return hashlib.sha256(
        canonical_json(
            {
                "id": row["id"],
                "operation_id": row["operation_id"],
                "profile_id": row["profile_id"],
                "counterpart_sha256": text_sha256(row["counterpart"]),
                "first_seen_at": _time(row["first_seen_at"]),
                "flags": list(row["flags"]),
                "recorded_by": row["recorded_by"],
                "recorded_at": _time(row["recorded_at"]),
            }
        )
    ).hexdigest()


def message_fingerprint(row: Mapping[str, Any], attachments: Sequence[Mapping[str, Any]]) -> str:
    """The fingerprint of a message row together with its attachment rows (in id order)."""
    return hashlib.sha256(
        canonical_json(
            {
                "id": row["id"],
                "operation_id": row["operation_id"],
                "contact_id": row["contact_id"],
                "direction": row["direction"],
                "sent_at": _time(row["sent_at"]),
                "sent_offset_minutes": row["sent_offset_minutes"],
                "recorded_at": _time(row["recorded_at"]),
                "recorded_by": row["recorded_by"],
                "body_sha256": text_sha256(row["body"]),
                "corrects_id": row["corrects_id"],
                "flags": list(row["flags"]),
                "attachments": [
                    {
                        "id": a["id"],
                        "sha256": a["sha256"],
                        "size": a["size"],
                        "media_type": a["media_type"],
                        "filename": a["filename"],
                        "operation_id": a["operation_id"],
                    }
                    for a in attachments
                ],
            }
        )
    ).hexdigest()


def columns(obj: Any) -> dict[str, Any]:
    """An ORM object's column values as a mapping."""
    return {column.key: getattr(obj, column.key) for column in obj.__table__.columns}
