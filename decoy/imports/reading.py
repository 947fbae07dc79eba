"""One reading of an export: each message judged new, a duplicate of an earlier import, or a confirmation
of a typed message, counted, and (when writing) handed to the writer chunk by chunk."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Connection, and_, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session

from ..access import Actor
from ..evidence.fingerprint import text_sha256
from ..evidence.flags import StreamFlags
from ..evidence.recording import Recording
from ..models import ExportReconciliation, Message
from ..models.capture import CONFIRMED
from . import formats
from .exports import SYSTEM, ExportedMessage, ExportFile, ImportRefused
from .matching import Reconciliation, TypedMessage, chunks
from .writing import ImportWriter, NewMessage

_message = Message.__table__  # type: ignore[attr-defined]
_reconciliation = ExportReconciliation.__table__  # type: ignore[attr-defined]


class ReadingRequest(Protocol):
    """What a reading needs of the import's request."""

    format: str
    decoy_name: str
    chat: str | None


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


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


class ExportReading:
    """One reading of the export: each message is judged new, a duplicate of an earlier import, or a
    confirmation of a hand-typed message; with a writer, the new ones are written chunk by chunk."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        facts: Recording,
        request: ReadingRequest,
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

    def run(
        self, export: ExportFile, writer: ImportWriter | None, *, resuming: bool = False, judge: bool = True
    ) -> Tally:
        """Read the export once. With a writer, the new messages are written; without one and with
        ``judge``, they are only counted (a dry run); without ``judge`` the file is only read and checked
        (what every message is, the writing reading judges)."""
        tally = Tally()
        current = writer.import_id if writer is not None else None
        messages = formats.read(self.request.format, export, zone=self.zone, chat=self.request.chat)
        with closing(messages):  # a reader stopped early releases the file before the export closes
            if judge or writer is not None:
                self._read(messages, writer, current, resuming, tally)
            else:
                self._check(messages, tally)
        tally.outcomes = self.reconciliation.finish(tally.first_sent_at, tally.last_sent_at)
        return tally

    def _check(self, messages: Iterator[ExportedMessage], tally: Tally) -> None:
        for chunk in chunks(_counted(messages, tally, self)):
            if self.progress is not None:
                self.progress(len(chunk))

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
        if known.written(message):  # this import wrote it before it was interrupted
            tally.added += 1
            return None
        if known.duplicate(message, direction):
            tally.duplicates += 1
            return None
        if direction != SYSTEM and self.reconciliation.confirm(direction, message.sent_at, message.text):
            tally.duplicates += 1
            return None
        # The flags are judged when the message is written (a check or a dry run reports counts only).
        flags = self.flags.flags(direction, message.sent_at) if known.writing else []
        return NewMessage(message, direction, flags)


def _counted(
    messages: Iterator[ExportedMessage], tally: Tally, reading: ExportReading
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
                other, _among(connection, _message.c.platform_message_id, ids)
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
        key = (direction, message.sent_at.astimezone(UTC), text_sha256(message.text))
        if self.keys[key] > 0:
            self.keys[key] -= 1
            return True
        return False


def _among(connection: Connection, column: ColumnElement[Any], values: list[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``column = ANY(array)``, one parameter instead of one per value
    (an IN list of a chunk's thousand values makes a new statement for the driver and the planner)."""
    if connection.dialect.name == "postgresql":
        return column == any_(bindparam("values", values, type_=ARRAY(column.type)))
    return column.in_(values)


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
