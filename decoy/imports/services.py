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
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, select
from sqlmodel import Session

from .. import access, blobstore
from ..access import Actor
from ..errors import NotFound, RuleViolation
from ..evidence.flags import StreamFlags
from ..evidence.recording import Recording, read_recording
from ..evidence.validation import attachment_limit
from ..models import (
    MAX_ID,
    CaptureSession,
    CaptureSessionEnd,
    ExportReconciliation,
    Message,
    MessageImport,
    MessageImportResult,
)
from ..models.capture import CONFIRMED, IMPORT_FORMATS
from ..operations.guards import breaks_a_line
from . import formats
from .exports import SYSTEM, ExportedMessage, ExportFile, ImportRefused, Limits
from .matching import Reconciliation, TypedMessage, chunks
from .writing import ImportWriter, NewMessage, write_import_row

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


@dataclass
class Tally:
    """What a reading of the export found."""

    exported: int = 0
    added: int = 0
    duplicates: int = 0
    system_lines: int = 0
    first_sent_at: datetime | None = None
    last_sent_at: datetime | None = None
    zone_assumed: bool = False
    decoy_seen: bool = False
    senders: set[str] = field(default_factory=set)
    outcomes: list[tuple[int, str, int | None]] = field(default_factory=list)

    def differences(self) -> list[tuple[int, str, int | None]]:
        return [outcome for outcome in self.outcomes if outcome[1] != CONFIRMED]

    def result(self) -> dict[str, Any]:
        return {
            "exported": self.exported,
            "added": self.added,
            "duplicates": self.duplicates,
            "differences": len(self.differences()),
            "system_lines": self.system_lines,
            "first_sent_at": self.first_sent_at,
            "last_sent_at": self.last_sent_at,
        }


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


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


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
    operated_by = _check_capture_session(session, facts, request.capture_session_id)
    sha256 = file_sha256(stream)
    earlier = _earlier_import(session, request.contact_id, sha256)
    if earlier is not None and earlier[1] is not None:
        return imported(session, earlier[0].id)  # type: ignore[arg-type]
    session.rollback()
    export = ExportFile(stream, filename=request.filename, limits=limits)
    try:
        checking = None if progress is None else partial(progress, "checking", None)
        plan = _Reading(session, actor, facts, request, zone, operated_by, checking).run(export, None)
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
        reading = _Reading(session, actor, facts, request, zone, operated_by, progress=writing)
        tally = reading.run(export, writer, resuming=earlier is not None)
        writer.finish(tally.outcomes, tally.result())
    finally:
        export.close()
    return replace(imported(session, import_id), created=True)


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


class _Reading:
    """One reading of the export: each message is judged new, a duplicate of an earlier import, or a
    confirmation of a hand-typed message; with a writer, the new ones are written chunk by chunk."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        facts: Recording,
        request: ImportRequest,
        zone: ZoneInfo,
        operated_by: int | None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.session = session
        self.facts = facts
        self.request = request
        self.zone = zone
        self.decoy = _name_key(request.decoy_name)
        self.progress = progress
        self.flags = StreamFlags(
            session,
            profile=facts,
            contact_id=facts.contact_id,
            officer_id=operated_by or actor.id,
            operation_rows=facts.authorizations,
        )
        self.reconciliation = Reconciliation(_typed_messages(session, facts.contact_id))
        session.rollback()

    def run(self, export: ExportFile, writer: ImportWriter | None, resuming: bool = False) -> Tally:
        tally = Tally()
        current = writer.import_id if writer is not None else None
        messages = formats.read(self.request.format, export, zone=self.zone, chat=self.request.chat)
        with closing(messages):  # a reader stopped early releases the file before the export closes
            self._read(messages, writer, current, resuming, tally)
        tally.outcomes = self.reconciliation.finish(tally.first_sent_at, tally.last_sent_at)
        return tally

    def _read(
        self,
        messages: Iterator[ExportedMessage],
        writer: ImportWriter | None,
        current: int | None,
        resuming: bool,
        tally: Tally,
    ) -> None:
        for chunk in chunks(_counted(messages, tally, self)):
            known = _Known(self.session, self.facts.contact_id, chunk, current, resuming)
            new = [item for item in (self._judge(message, known, tally) for message in chunk) if item]
            ids = writer.messages(new) if writer is not None else [None] * len(new)
            if writer is None:
                self.session.rollback()
            for item, message_id in zip(new, ids, strict=True):
                if item.direction != SYSTEM:
                    self.reconciliation.added(item.direction, item.message.sent_at, message_id)
            tally.added += len(new)
            if self.progress is not None:
                self.progress(len(chunk))

    def direction(self, message: ExportedMessage) -> str:
        if message.kind == SYSTEM:
            return SYSTEM
        if message.sender is not None and _name_key(message.sender) == self.decoy:
            return "out"
        return "in"

    def _judge(self, message: ExportedMessage, known: _Known, tally: Tally) -> NewMessage | None:
        direction = self.direction(message)
        if known.written(message) or known.duplicate(message, direction):
            tally.duplicates += 0 if known.written(message) else 1
            return None
        if direction != SYSTEM and self.reconciliation.confirm(direction, message.sent_at, message.text):
            tally.duplicates += 1
            return None
        # The flags are judged when the message is written (a check or a dry run reports counts only).
        flags = self.flags.flags(direction, message.sent_at) if known.writing else []
        return NewMessage(message, direction, flags)


def _counted(
    messages: Iterator[ExportedMessage], tally: Tally, reading: _Reading
) -> Iterator[ExportedMessage]:
    """The messages, counted on the way: how many, the time span, senders, whether the decoy spoke."""
    for message in messages:
        _check_storable(message)
        tally.exported += 1
        moment = message.sent_at.astimezone(UTC)
        if tally.first_sent_at is None or moment < tally.first_sent_at:
            tally.first_sent_at = moment
        if tally.last_sent_at is None or moment > tally.last_sent_at:
            tally.last_sent_at = moment
        tally.zone_assumed = tally.zone_assumed or message.zone_assumed
        if message.kind == SYSTEM:
            tally.system_lines += 1
        elif message.sender is not None:
            if len(tally.senders) < 100:
                tally.senders.add(message.sender)
            tally.decoy_seen = tally.decoy_seen or reading.direction(message) == "out"
        yield message


def _check_storable(message: ExportedMessage) -> None:
    """Refuse a text the database cannot store as it is: a NUL character, or a lone surrogate (no UTF-8)."""
    for value in (message.text, message.sender or ""):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ImportRefused(
                "file", _("%(where)s holds text that is not valid Unicode", where=message.source)
            ) from error
        if "\x00" in value:
            raise ImportRefused(
                "file", _("%(where)s holds a NUL character, which cannot be stored", where=message.source)
            )


class _Known:
    """What the contact already holds of one chunk's messages: platform ids and counted content keys of
    other imports' messages, and (resuming) the places in the file this import already wrote."""

    def __init__(
        self,
        session: Session,
        contact_id: int,
        chunk: list[ExportedMessage],
        current: int | None,
        resuming: bool,
    ) -> None:
        self.writing = current is not None
        connection = session.connection()
        other = and_(_message.c.contact_id == contact_id, _message.c.import_id.is_not(None))
        if current is not None:
            other = and_(other, _message.c.import_id != current)
        ids = [message.platform_id for message in chunk if message.platform_id is not None]
        self.ids: set[str] = set()
        if ids:
            query = select(_message.c.platform_message_id).where(
                other, _message.c.platform_message_id.in_(ids)
            )
            self.ids = set(connection.execute(query).scalars())
        self.keys: Counter[tuple[str, datetime, str]] = Counter()
        if len(ids) < len(chunk):
            low = min(message.sent_at for message in chunk)
            high = max(message.sent_at for message in chunk)
            query = select(_message.c.direction, _message.c.sent_at, _message.c.body_sha256).where(
                other, _message.c.sent_at.between(low, high), _message.c.platform_message_id.is_(None)
            )
            self.keys = Counter((d, t.astimezone(UTC), h) for d, t, h in connection.execute(query))
        self.sources: set[str] = set()
        if resuming and current is not None:
            query = select(_message.c.source).where(
                _message.c.import_id == current, _message.c.source.in_([message.source for message in chunk])
            )
            self.sources = set(connection.execute(query).scalars())

    def written(self, message: ExportedMessage) -> bool:
        return message.source in self.sources

    def duplicate(self, message: ExportedMessage, direction: str) -> bool:
        if message.platform_id is not None:
            return message.platform_id in self.ids
        key = (direction, message.sent_at.astimezone(UTC), _text_sha256(message.text))
        if self.keys[key] > 0:
            self.keys[key] -= 1
            return True
        return False


def _text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _typed_messages(session: Session, contact_id: int) -> list[TypedMessage]:
    """The contact's hand-typed messages that no import has reconciled yet, and that no later message
    corrects."""
    corrected = select(_message.c.corrects_id).where(
        _message.c.contact_id == contact_id, _message.c.corrects_id.is_not(None)
    )
    reconciled = select(_reconciliation.c.message_id)
    query = select(_message.c.id, _message.c.direction, _message.c.sent_at, _message.c.body).where(
        _message.c.contact_id == contact_id,
        _message.c.import_id.is_(None),
        _message.c.direction.in_(("in", "out")),
        _message.c.id.not_in(corrected),
        _message.c.id.not_in(reconciled),
    )
    return [TypedMessage(*row) for row in session.connection().execute(query)]


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
