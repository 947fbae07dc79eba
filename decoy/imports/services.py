"""Importing a platform's export into one contact (spec "Import").

The file is read twice. The first reading checks it whole and plans the import without writing anything:
a file that is refused for any reason (a hostile archive, a truncated JSON, a name that is nobody in the
export) stores nothing; a dry run ends here with what would happen. The second reading writes: the
original file and the import's row, then the new messages in chunks of about a thousand, each chunk in a
transaction of its own (so that the log's append lock is never held for long), and last the
reconciliations with hand-typed messages and the result. An import whose writing was interrupted has no
result; the same file again resumes it, skipping the messages it already wrote.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlmodel import Session

from .. import access, blobstore
from ..access import Actor
from ..errors import NotFound, RuleViolation
from ..evidence.recording import Recording, read_recording
from ..evidence.validation import attachment_limit
from ..models import (
    MAX_ID,
    CaptureSession,
    CaptureSessionEnd,
    Disposal,
    DisposalApproval,
    ExportReconciliation,
    Message,
    MessageImport,
    MessageImportResult,
)
from ..models.capture import IMPORT_FORMATS
from ..operations.guards import breaks_a_line
from .exports import ExportFile, ImportRefused, Limits
from .reading import ExportReading, Tally
from .writing import ImportWriter, write_import_row

#: Called after each chunk: the stage ("checking", then "writing"), the messages in the export when known,
#: and how many messages the chunk held.
Progress = Callable[[str, int | None, int], None]
_message = Message.__table__  # type: ignore[attr-defined]
_reconciliation = ExportReconciliation.__table__  # type: ignore[attr-defined]
MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class ImportRequest:
    """What the caller asks: the contact, the file's format and name, the decoy's name in it."""

    contact_id: int
    format: str
    decoy_name: str
    filename: str = ""
    timezone: str | None = None
    chat: str | None = None
    capture_session_id: int | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class ImportOutcome:
    """An import as the API answers it: ``created`` is false when the file was imported before."""

    id: int | None
    created: bool
    dry_run: bool
    sha256: str
    request: ImportRequest
    assumed_timezone: str | None
    tally: Tally


def _check_request(request: ImportRequest) -> ZoneInfo:
    if request.format not in IMPORT_FORMATS:
        raise ImportRefused(
            "format", _("format must be one of: %(formats)s", formats=", ".join(IMPORT_FORMATS))
        )
    name = request.decoy_name.strip()
    if not name or len(name) > MAX_NAME_CHARS or any(breaks_a_line(character) for character in name):
        raise ImportRefused("decoy_name", _("decoy_name must be the decoy's name in the export, on one line"))
    try:
        return ZoneInfo(request.timezone or current_app.config["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ImportRefused("timezone", _("timezone is not a known time zone name")) from error


def _check_capture_session(session: Session, facts: Recording, capture_session_id: int | None) -> int | None:
    """The operator of an open capture session of the contact's profile (None without a session)."""
    if capture_session_id is None:
        return None
    row = session.execute(
        select(CaptureSession.profile_id, CaptureSession.operated_by, CaptureSessionEnd.ended_at)  # type: ignore[call-overload]
        .outerjoin(CaptureSessionEnd, CaptureSessionEnd.capture_session_id == CaptureSession.id)
        .where(CaptureSession.id == capture_session_id)
    ).first()
    if row is None or row[0] != facts.profile_id:
        raise ImportRefused(
            "capture_session", _("capture_session is not a session of this contact's profile")
        )
    if row[2] is not None:
        raise ImportRefused("capture_session", _("capture_session has ended"))
    return int(row[1])


def file_sha256(stream: BinaryIO) -> str:
    """The SHA-256 of the uploaded file, read from its start (the stream is left at its start)."""
    stream.seek(0)
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
    stream.seek(0)
    return digest.hexdigest()


def import_export(
    session: Session,
    actor: Actor,
    request: ImportRequest,
    stream: BinaryIO,
    *,
    limits: Limits | None = None,
    progress: Progress | None = None,
    channel: str | None = None,
) -> ImportOutcome:
    """Import ``stream`` (a seekable file) into the contact; see the module's docstring."""
    zone = _check_request(request)
    facts = read_recording(session.connection(), actor, request.contact_id, take_id=False)
    _check_not_disposed(session, request.contact_id)
    operated_by = _check_capture_session(session, facts, request.capture_session_id)
    sha256 = file_sha256(stream)
    earlier = _earlier_import(session, request.contact_id, sha256)
    if earlier is not None and earlier[1] is not None:
        return imported(session, earlier[0].id)  # type: ignore[arg-type]
    session.rollback()
    export = ExportFile(stream, filename=request.filename, limits=limits)
    try:
        checking = None if progress is None else partial(progress, "checking", None)
        checker = ExportReading(session, actor, facts, request, zone, operated_by, checking)
        plan = checker.run(export, None, judge=request.dry_run)
        _check_decoy_seen(request, plan)
        zone_name = zone.key if plan.zone_assumed else None
        if request.dry_run:
            return ImportOutcome(None, True, True, sha256, request, zone_name, plan)
        if earlier is None:
            import_id = _start(session, actor, facts, request, stream, zone_name, channel)
        else:
            import_id = earlier[0].id  # type: ignore[assignment]
        writer = ImportWriter(
            session,
            actor,
            facts,
            export,
            import_id,
            operated_by,
            request.capture_session_id,
            zone_name,
            attachment_limit(),
        )
        writing = None if progress is None else partial(progress, "writing", plan.exported)
        reading = ExportReading(session, actor, facts, request, zone, operated_by, progress=writing)
        tally = reading.run(export, writer, resuming=earlier is not None)
        writer.finish(tally.outcomes, tally.result())
    finally:
        export.close()
    return replace(imported(session, import_id), created=True)


def _check_not_disposed(session: Session, contact_id: int) -> None:
    """An export would bring back what a disposal removed from the contact: refused (409)."""
    query = (
        select(Disposal.decision_reference)
        .join(DisposalApproval, DisposalApproval.disposal_id == Disposal.id)  # type: ignore[arg-type]
        .where(Disposal.contact_id == contact_id)
        .limit(1)
    )
    reference = session.connection().execute(query).scalar()
    if reference is not None:
        raise RuleViolation(
            _("the contact's content was disposed of under decision %(reference)s: an import would bring it "
              "back", reference=reference),
            field="contact_id",
        )


def _start(
    session: Session,
    actor: Actor,
    facts: Recording,
    request: ImportRequest,
    stream: BinaryIO,
    zone_name: str | None,
    channel: str | None,
) -> int:
    stream.seek(0)
    original = blobstore.prepare(stream, max_bytes=int(current_app.config["MAX_IMPORT_BYTES"]))
    try:
        values = {
            "format": request.format,
            "filename": request.filename[:255],
            "decoy_name": request.decoy_name.strip(),
            "chat": request.chat,
            "assumed_timezone": zone_name,
            "capture_session_id": request.capture_session_id,
        }
        return write_import_row(session, actor, facts, original, values, channel=channel)
    finally:
        original.close()


def _check_decoy_seen(request: ImportRequest, plan: Tally) -> None:
    if plan.decoy_seen:
        return
    names = ", ".join(sorted(plan.senders)[:20]) or _("nobody")
    raise ImportRefused(
        "decoy_name",
        _(
            "%(name)s sent no message in this export; its senders are: %(names)s",
            name=request.decoy_name,
            names=names,
        ),
    )


def _earlier_import(session: Session, contact_id: int, sha256: str) -> tuple[MessageImport, Any] | None:
    row = session.execute(
        select(MessageImport, MessageImportResult.import_id)  # type: ignore[call-overload]
        .outerjoin(MessageImportResult, MessageImportResult.import_id == MessageImport.id)
        .where(MessageImport.contact_id == contact_id, MessageImport.sha256 == sha256)
    ).first()
    return None if row is None else (row[0], row[1])


def visible_import(session: Session, actor: Actor, import_id: int) -> ImportOutcome:
    """An import of an operation the actor may see (NotFound otherwise, as for a missing one)."""
    found = session.get(MessageImport, import_id) if 0 < import_id <= MAX_ID else None
    access.require_visible(session, actor, found, "import")
    return imported(session, import_id)


def imported(session: Session, import_id: int) -> ImportOutcome:
    """A stored import as the API answers it (NotFound when there is none)."""
    found = session.get(MessageImport, import_id)
    if found is None:
        raise NotFound(_("no such import"))
    result = session.get(MessageImportResult, import_id)
    rows = session.connection().execute(
        select(_reconciliation.c.message_id, _reconciliation.c.outcome, _reconciliation.c.export_message_id)
        .where(_reconciliation.c.import_id == import_id)
        .order_by(_reconciliation.c.id)
    )
    tally = Tally(outcomes=[tuple(row) for row in rows])  # type: ignore[misc]
    if result is None:
        raise RuleViolation(
            _("import %(id)s was interrupted; import the same file again to finish it", id=import_id)
        )
    for name in ("exported", "added", "duplicates", "system_lines", "first_sent_at", "last_sent_at"):
        setattr(tally, name, getattr(result, name))
    request = ImportRequest(
        contact_id=found.contact_id,
        format=found.format,
        decoy_name=found.decoy_name,
        filename=found.filename,
        timezone=found.assumed_timezone,
        chat=found.chat,
        capture_session_id=found.capture_session_id,
    )
    return ImportOutcome(found.id, False, False, found.sha256, request, found.assumed_timezone, tally)


__all__ = ["ImportOutcome", "ImportRefused", "ImportRequest", "import_export", "imported", "visible_import"]
