"""What the contact page shows of its imports: a short list, newest first, each with its counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from ..models import MessageImport, MessageImportResult

#: The imports a contact page lists (the newest); each import's own page has the rest of its details.
LISTED = 20


@dataclass(frozen=True)
class ListedImport:
    """One import of the contact: None counts while it is unfinished (its writing was interrupted)."""

    id: int
    imported_at: datetime
    imported_by: int
    format: str
    filename: str
    added: int | None
    duplicates: int | None
    differences: int | None

    @property
    def finished(self) -> bool:
        return self.added is not None


def contact_imports(
    session: Session, contact_id: int, limit: int = LISTED
) -> tuple[list[ListedImport], bool]:
    """The contact's newest ``limit`` imports and whether there are more; the caller has checked that the
    contact is visible."""
    query = (
        select(MessageImport, MessageImportResult)
        .outerjoin(MessageImportResult, col(MessageImportResult.import_id) == col(MessageImport.id))
        .where(MessageImport.contact_id == contact_id)
        .order_by(col(MessageImport.id).desc())
        .limit(limit + 1)
    )
    rows = list(session.exec(query).all())
    listed = [
        ListedImport(
            id=found.id or 0,
            imported_at=found.imported_at,
            imported_by=found.imported_by,
            format=found.format,
            filename=found.filename,
            added=None if result is None else result.added,
            duplicates=None if result is None else result.duplicates,
            differences=None if result is None else result.differences,
        )
        for found, result in rows[:limit]
    ]
    return listed, len(rows) > limit
