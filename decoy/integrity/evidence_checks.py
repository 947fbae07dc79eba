"""Compare stored evidence with the content hashes recorded in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

#: Checkers by audit action; each returns a failure reason or None.
CHECKERS: dict[str, Callable[[Session, dict[str, Any]], str | None]] = {}


def evidence_checker(session: Session) -> Callable[[int, dict[str, Any]], str | None]:
    """A callback for the verifier that re-hashes the evidence an entry names."""

    def check(_index: int, entry: dict[str, Any]) -> str | None:
        checker = CHECKERS.get(entry.get("action", ""))
        return checker(session, entry) if checker else None

    return check
