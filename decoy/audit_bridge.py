"""The only place where the application meets the audit library."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Flask, current_app, g, has_request_context
from sqlmodel import Session

from audit.entry import EntryInput
from audit.store import Appended, AuditStore
from audit.tree import TreeCache

from . import clock
from .models import AUDIT_TABLES

SYSTEM_ACTOR = "system"


def init_app(app: Flask) -> None:
    """Attach the audit store to the application."""
    app.extensions["audit.store"] = AuditStore(AUDIT_TABLES)
    # The tree's levels, kept between proof requests of this process (checked against the head each time).
    app.extensions["audit.tree_cache"] = TreeCache()


def get_store(app: Flask | None = None) -> AuditStore:
    """The application's audit store."""
    return (app or current_app).extensions["audit.store"]  # type: ignore[no-any-return]


def tree_cache(app: Flask | None = None) -> TreeCache:
    """The process's cache of the log's tree, for proofs."""
    return (app or current_app).extensions["audit.tree_cache"]  # type: ignore[no-any-return]


def entry(
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    operation_id: int | None = None,
    evidence: Mapping[str, str | list[str]] | None = None,
    details: Mapping[str, Any] | None = None,
    time: datetime | None = None,
) -> EntryInput:
    """The audit entry of an action now (or at ``time``, the clock's time the caller already took for
    the rows the entry records), naming the current request (if any)."""
    return EntryInput(
        time=clock.now() if time is None else time,
        actor=actor,
        action=action,
        object={"type": object_type, "id": object_id},
        operation=operation_id,
        request=g.get("request_id") if has_request_context() else None,
        evidence=dict(evidence or {}),
        details=dict(details or {}),
    )


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    operation_id: int | None = None,
    evidence: Mapping[str, str | list[str]] | None = None,
    details: Mapping[str, Any] | None = None,
) -> Appended:
    """Append an audit entry inside the session's open transaction (rule 5).

    The entry commits or rolls back with the change it records.
    """
    session.flush()
    made = entry(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        operation_id=operation_id,
        evidence=evidence,
        details=details,
    )
    return get_store().append(session.connection(), made)
