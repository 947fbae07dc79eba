"""The checks `decoy audit verify` makes of the initiative record: every annotation, dismissed suggestion
and assessment is the row its entry recorded (by its row hash), made by the entry's actor."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session

from audit.evidence_bundle.initiative import (
    annotation_row_sha256,
    assessment_row_sha256,
    dismissal_row_sha256,
)

from ..evidence.checks import is_actor
from ..models.initiative import Annotation, ContactAssessment, SuggestionDismissal

_annotation: Table = Annotation.__table__  # type: ignore[attr-defined]
_dismissal: Table = SuggestionDismissal.__table__  # type: ignore[attr-defined]
_assessment: Table = ContactAssessment.__table__  # type: ignore[attr-defined]


def _check(
    session: Session,
    entry: dict[str, Any],
    table: Table,
    what: str,
    row_sha256: Callable[[Mapping[str, Any]], str],
    by: str | None,
) -> str | None:
    """The row the entry names exists, hashes to the entry's ``row_sha256``, and (``by``) names the
    entry's actor in that column."""
    object_id = (entry.get("object") or {}).get("id")
    where = f"{what} {object_id}"
    row = None
    if type(object_id) is int:
        row = session.connection().execute(select(table).where(table.c.id == object_id)).mappings().first()
    if row is None:
        return f"{where} is missing"
    if row_sha256(row) != (entry.get("evidence") or {}).get("row_sha256"):
        return f"{where}: the stored row differs from the recorded one"
    if by is not None and not is_actor(session, row[by], entry):
        return f"{where}: {by} is not the entry's actor {entry.get('actor')!r}"
    return None


def check_annotation(session: Session, entry: dict[str, Any]) -> str | None:
    """The annotation is the one its entry recorded, made by the entry's actor."""
    return _check(session, entry, _annotation, "annotation", annotation_row_sha256, "annotated_by")


def check_dismissal(session: Session, entry: dict[str, Any]) -> str | None:
    """The dismissed suggestion is the one its entry recorded, dismissed by the entry's actor."""
    return _check(session, entry, _dismissal, "dismissed suggestion", dismissal_row_sha256, "dismissed_by")


def check_assessment(session: Session, entry: dict[str, Any]) -> str | None:
    """The contact's assessment is the one its entry recorded."""
    return _check(session, entry, _assessment, "contact assessment", assessment_row_sha256, None)
