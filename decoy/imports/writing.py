"""Writing an import: its row and original file, its new messages chunk by chunk (rows, files, one audit
entry each), and at the end the reconciliations and the result, each part in its own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlmodel import Session

from audit.entry import EntryInput

from .. import audit_bridge, blobstore, clock
from ..access import Actor
from ..disclosure import codes
from ..evidence.fingerprint import committed_text, message_fingerprint, text_evidence
from ..evidence.recording import Recording
from ..evidence.validation import storable_filename
from ..initiative.assessment import reassess
from ..models import Attachment, Contact, ExportReconciliation, Message, MessageImport, MessageImportResult
from ..reviews.generation import reviews_of_contact
from .exports import ExportedMessage, ExportFile
from .records import import_fingerprint, reconciliation_fingerprint, result_fingerprint

_message = Message.__table__  # type: ignore[attr-defined]
_attachment = Attachment.__table__  # type: ignore[attr-defined]
_import = MessageImport.__table__  # type: ignore[attr-defined]
_result = MessageImportResult.__table__  # type: ignore[attr-defined]
_reconciliation = ExportReconciliation.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class NewMessage:
    """An exported message that is added: its direction and flags as judged."""

    message: ExportedMessage
    direction: str
    flags: list[str]


@dataclass
class ImportWriter:
    """Writes one import's rows; every method runs and commits a transaction of its own."""

    session: Session
    actor: Actor
    facts: Recording
    export: ExportFile
    import_id: int
    operated_by: int | None
    capture_session_id: int | None
    zone_name: str | None
    attachment_limit: int

    def messages(self, items: list[NewMessage]) -> list[int]:
        """Write the messages of one chunk with their files and audit entries; their ids, in order."""
        if not items:
            self.session.commit()
            return []
        connection = self.session.connection()
        ids = _take_ids(connection, len(items))
        now = clock.now()
        rows = [self._row(message_id, item, now) for message_id, item in zip(ids, items, strict=True)]
        _insert_rows(connection, rows)
        entries = []
        for row, item in zip(rows, items, strict=True):
            attachments = self._attachments(connection, row, item.message.media)
            entries.append(self._entry(row, attachments))
        audit_bridge.get_store().append_many(connection, entries)
        self.session.commit()
        return ids

    def _row(self, message_id: int, item: NewMessage, now: datetime) -> dict[str, Any]:
        exported = item.message
        offset = exported.sent_at.utcoffset()
        return {
            "id": message_id,
            "operation_id": self.facts.operation_id,
            "contact_id": self.facts.contact_id,
            "direction": item.direction,
            "sent_at": exported.sent_at,
            "sent_offset_minutes": 0 if offset is None else int(offset.total_seconds() // 60),
            "recorded_at": now,
            "recorded_by": self.actor.id,
            "body": exported.text,
            **committed_text(exported.text),
            "corrects_id": None,
            "flags": item.flags,
            "capture_session_id": self.capture_session_id,
            "operated_by": self.operated_by,
            "import_id": self.import_id,
            "source": exported.source,
            "platform_message_id": exported.platform_id,
            "assumed_timezone": self.zone_name if exported.zone_assumed else None,
        }

    def _attachments(
        self, connection: Connection, row: dict[str, Any], media: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        attachments = []
        for member in media:
            with self.export.open(member) as stream:
                incoming = blobstore.prepare(stream, max_bytes=self.attachment_limit)
            try:
                blob = blobstore.save(incoming, connection=connection)
            finally:
                incoming.close()
            values = {
                "message_id": row["id"],
                "operation_id": row["operation_id"],
                "sha256": blob.sha256,
                "size": blob.size,
                "media_type": blob.media_type,
                "filename": storable_filename(member.rsplit("/", 1)[-1]),
                "recorded_at": row["recorded_at"],
            }
            values["id"] = connection.execute(
                insert(_attachment).values(values).returning(_attachment.c.id)
            ).scalar_one()
            attachments.append(values)
        return attachments

    @cached_property
    def officer(self) -> str:
        """The name the writer's entries are recorded under."""
        return codes.officer_name(self.actor)

    def _entry(self, row: dict[str, Any], attachments: list[dict[str, Any]]) -> EntryInput:
        return audit_bridge.entry(
            actor=self.officer,
            action="message.create",
            object_type="message",
            object_id=row["id"],
            operation_id=row["operation_id"],
            evidence={
                **text_evidence(row),
                "attachments": [attachment["sha256"] for attachment in attachments],
                "row_sha256": message_fingerprint(row, attachments),
            },
            details={
                "contact": row["contact_id"],
                "direction": row["direction"],
                "flags": row["flags"],
                "corrects": None,
                "import": self.import_id,
                "source": row["source"],
            },
            time=row["recorded_at"],
        )

    def finish(self, outcomes: list[tuple[int, str, int | None]], result: dict[str, Any]) -> None:
        """Write the reconciliations and the result, each with its entry, in one transaction."""
        connection = self.session.connection()
        now = clock.now()
        entries = []
        for message_id, outcome, export_message_id in outcomes:
            values = {
                "import_id": self.import_id,
                "message_id": message_id,
                "outcome": outcome,
                "export_message_id": export_message_id,
                "recorded_at": now,
            }
            values["id"] = connection.execute(
                insert(_reconciliation).values(values).returning(_reconciliation.c.id)
            ).scalar_one()
            entries.append(self._reconciliation_entry(values))
        row = {"import_id": self.import_id, "completed_at": now, **result}
        connection.execute(insert(_result).values(row))
        entries.append(
            audit_bridge.entry(
                actor=self.officer,
                action="import.complete",
                object_type="import",
                object_id=self.import_id,
                operation_id=self.facts.operation_id,
                evidence={"row_sha256": result_fingerprint(row)},
                details={"contact": self.facts.contact_id, **_counts(result)},
            )
        )
        audit_bridge.get_store().append_many(connection, entries)
        # The export's messages may precede those known, or fill the conversation's start (rule 8).
        contact = self.session.get(Contact, self.facts.contact_id)
        reassess(self.session, self.actor, contact, cause="import", cause_id=self.import_id)  # type: ignore[arg-type]
        # The reviews the imported flags trigger, with their notices, in the import's last transaction.
        reviews_of_contact(self.session, self.facts.contact_id)
        self.session.commit()

    def _reconciliation_entry(self, values: dict[str, Any]) -> EntryInput:
        return audit_bridge.entry(
            actor=self.officer,
            action="message.reconcile",
            object_type="message",
            object_id=values["message_id"],
            operation_id=self.facts.operation_id,
            evidence={"row_sha256": reconciliation_fingerprint(values)},
            details={
                "reconciliation": values["id"],
                "import": self.import_id,
                "outcome": values["outcome"],
                "export_message": values["export_message_id"],
            },
        )


def _counts(result: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in result.items() if not key.endswith("_sent_at")}


_MESSAGE_COLUMNS = [column.name for column in _message.columns]


def _insert_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert a chunk's message rows. PostgreSQL: by COPY, its bulk-loading path, on the transaction's own
    connection (psycopg's copy; the table's constraints and triggers apply as to an INSERT), since an
    executemany is a statement per row there, each a round of the server's work. SQLite, which runs in
    the process: executemany."""
    if connection.dialect.name != "postgresql":
        connection.execute(insert(_message), rows)
        return
    # The driver is loaded where it is used: a server on SQLite never loads it (about 10 MiB).
    import psycopg  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415
    from psycopg.types.json import Json  # noqa: PLC0415

    driver = connection.connection.driver_connection
    if not isinstance(driver, psycopg.Connection):
        raise TypeError("Decoy reaches PostgreSQL through psycopg")
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(_message.name), sql.SQL(", ").join(map(sql.Identifier, _MESSAGE_COLUMNS))
    )
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([Json(row[name]) if name == "flags" else row[name] for name in _MESSAGE_COLUMNS])


def _take_ids(connection: Connection, count: int) -> list[int]:
    """Ids for ``count`` new messages: from the sequence on PostgreSQL; on SQLite, after the largest,
    which the transaction's write lock keeps for this writer."""
    if connection.dialect.name == "postgresql":
        query = select(
            func.nextval(func.pg_get_serial_sequence(_message.name, _message.c.id.name))
        ).select_from(func.generate_series(1, count))
        return [int(value) for value in connection.execute(query).scalars()]
    largest = connection.execute(select(func.coalesce(func.max(_message.c.id), 0))).scalar_one()
    return list(range(int(largest) + 1, int(largest) + 1 + count))


def write_import_row(
    session: Session,
    actor: Actor,
    facts: Recording,
    original: blobstore.Incoming,
    values: dict[str, Any],
    *,
    channel: str | None = None,
) -> int:
    """Store the original file and the import's row with its entry, and commit; the import's id.

    ``channel`` names how the import came in when not through the API or the web (``console``)."""
    connection = session.connection()
    blob = blobstore.save(original, connection=connection)
    row = {
        "operation_id": facts.operation_id,
        "contact_id": facts.contact_id,
        "sha256": blob.sha256,
        "size": blob.size,
        "imported_by": actor.id,
        "imported_at": clock.now(),
        **values,
    }
    row["id"] = connection.execute(insert(_import).values(row).returning(_import.c.id)).scalar_one()
    audit_bridge.get_store().append(
        connection,
        audit_bridge.entry(
            actor=codes.officer_name(actor),
            action="import.create",
            object_type="import",
            object_id=row["id"],
            operation_id=facts.operation_id,
            evidence={"file_sha256": blob.sha256, "row_sha256": import_fingerprint(row)},
            details={
                "contact": facts.contact_id,
                "format": row["format"],
                "size": blob.size,
                **({"channel": channel} if channel else {}),
            },
        ),
    )
    session.commit()
    return int(row["id"])


__all__ = ["ImportWriter", "NewMessage", "write_import_row"]
