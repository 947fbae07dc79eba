"""Sensitive material: an attachment whose disclosure class is ``sensitive`` (e.g. a sexual image of a
minor) is never shown, never previewed and never copied into a disclosure.

* Decoy renders no attachment on any page (every file is a download, decoy.evidence.downloads); a sensitive
  one has no download link either, only its SHA-256 and the way to open it.
* Only legal officers and the operation's supervisors open it, each time with a reason: the opening is an
  append-only row with its audit entry (``attachment.open_sensitive``), committed before a byte leaves, and
  the file always goes out as opaque bytes to be saved (never as an image a browser would show). The
  ordinary download refuses it (403) for everyone.
* A disclosure bundle lists it by SHA-256 with the viewing arrangement (decoy.export.withheld).
* For victim-identification units the hashes are exported, never the files: as Project VIC's VICS 2.0
  JSON (the OData media list that Griffeye Analyze and the national victim-identification databases read,
  with MD5 and SHA-1, which is what those tools match on) and as a plain CSV of SHA-256, SHA-1 and MD5 with
  the dates, for anything else. Both hash the stored file as it is read for the export.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlmodel import Session, col, select

from audit.entry import format_time

from .. import access, audit_bridge, blobstore, clock
from ..access import Actor
from ..disclosure import codes
from ..disclosure.classes import decisions_of_operation, is_sensitive_attachment
from ..errors import Forbidden, NotFound, RuleViolation
from ..evidence import transcript
from ..evidence.fingerprint import columns, text_sha256
from ..export.spreadsheet import csv_bytes
from ..models import Attachment, Message, Operation, Role, SensitiveOpening
from ..operations.guards import clean, storable
from .rows import opening_row_sha256

MAX_REASON = 5_000
#: The OData context of a VICS 2.0 media list of a custom (non-national) data model.
VICS_CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/CUSTOM/$metadata#Cases"
CSV_HEADER = (
    "operation", "attachment_id", "message_id", "contact_id", "sha256", "sha1", "md5", "size", "media_type",
    "message_sent_at", "recorded_at", "marked_sensitive_at",
)


def may_open(session: Session, actor: Actor, operation_id: int) -> bool:
    """Who opens sensitive material: legal officers, and the operation's supervisors."""
    if actor.has_role(Role.legal.value):
        return True
    return bool(actor.has_role(Role.supervisor.value) and access.is_member(session, actor, operation_id))


@dataclass(frozen=True)
class Opened:
    """A sensitive attachment opened, the store that holds its file, and the opening's record."""

    attachment: Attachment
    store: str
    opening: SensitiveOpening


def visible_attachment(session: Session, actor: Actor, attachment_id: int) -> Attachment:
    """The attachment, or NotFound when it does not exist or ``actor`` may not see its operation."""
    found = transcript.by_id(session, Attachment, attachment_id)
    return access.require_visible(session, actor, found, "attachment")  # type: ignore[no-any-return]


def open_sensitive(*, session: Session, actor: Actor, attachment_id: int, reason: str) -> Opened:
    """Record that ``actor`` opens the sensitive attachment, and why; the caller commits before serving.

    NotFound for what ``actor`` may not see, Forbidden for anyone but a legal officer or a supervisor of
    the operation, 409 for an attachment that is not sensitive (it is downloaded as any other)."""
    attachment = visible_attachment(session, actor, attachment_id)
    if not may_open(session, actor, attachment.operation_id):
        raise Forbidden(_("only legal officers and the operation's supervisors open sensitive material"))
    if not is_sensitive_attachment(session, attachment):
        raise RuleViolation(
            _("attachment %(id)s is not sensitive: download it as any other", id=attachment.id),
            field="attachment",
        )
    text = storable(clean(reason, "reason", max_length=MAX_REASON, required=True), "reason")
    store = blobstore.locate(attachment.sha256, connection=session.connection())
    if store is None:
        raise NotFound(
            "the file of this attachment is missing from the evidence store; run `decoy audit verify`"
        )
    opening = SensitiveOpening(
        attachment_id=attachment.id,  # type: ignore[arg-type]
        operation_id=attachment.operation_id,
        reason=text,
        opened_by=actor.id,  # type: ignore[attr-defined]
        opened_at=clock.now(),
    )
    session.add(opening)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),  # type: ignore[arg-type]
        action="attachment.open_sensitive",
        object_type="sensitive_opening",
        object_id=opening.id,
        operation_id=attachment.operation_id,
        evidence={"row_sha256": opening_row_sha256(columns(opening))},
        details={
            "attachment": attachment.id, "sha256": attachment.sha256, "reason_sha256": text_sha256(text),
        },
    )
    return Opened(attachment, store, opening)


def openings(session: Session, attachment_ids: list[int]) -> dict[int, list[SensitiveOpening]]:
    """The openings of each of the attachments, oldest first."""
    found: dict[int, list[SensitiveOpening]] = {}
    if attachment_ids:
        query = (
            select(SensitiveOpening)
            .where(col(SensitiveOpening.attachment_id).in_(attachment_ids))
            .order_by(col(SensitiveOpening.id))
        )
        for row in session.exec(query).all():
            found.setdefault(row.attachment_id, []).append(row)
    return found


@dataclass(frozen=True)
class HashLine:
    """One sensitive attachment with the hashes a victim-identification unit matches on."""

    attachment: Attachment
    contact_id: int
    sent_at: datetime
    marked_at: datetime
    sha1: str
    md5: str


def _hashes(attachment: Attachment) -> tuple[str, str]:
    """SHA-1 and MD5 of the stored file (for matching against known-material databases, not for
    integrity: that is the SHA-256, checked in the same pass); 409 naming the attachment when the file is
    missing or no longer has its recorded content."""
    sha256 = hashlib.sha256()
    sha1 = hashlib.sha1(usedforsecurity=False)
    md5 = hashlib.md5(usedforsecurity=False)
    try:
        for chunk in blobstore.iter_blob(attachment.sha256):
            sha256.update(chunk)
            sha1.update(chunk)
            md5.update(chunk)
    except FileNotFoundError:
        sha256 = None  # type: ignore[assignment]
    if sha256 is None or sha256.hexdigest() != attachment.sha256:
        raise RuleViolation(
            _("the file of attachment %(id)s is missing or altered: run `decoy audit verify`",
              id=attachment.id),
            field="attachment",
        )
    return sha1.hexdigest(), md5.hexdigest()


def require_exporter(session: Session, actor: Actor, operation_id: int) -> Operation:
    """The operation, when ``actor`` is a legal officer (NotFound when they may not see it)."""
    operation = access.visible_operation(session, actor, operation_id)
    if not actor.has_role(Role.legal.value):
        raise Forbidden(_("only a legal officer exports the hashes of sensitive material"))
    return operation


def hash_lines(session: Session, actor: Actor, operation_id: int) -> tuple[Operation, list[HashLine]]:
    """The operation's sensitive attachments with their hashes, recorded as ``sensitive.hash_export``
    (the caller commits)."""
    operation = require_exporter(session, actor, operation_id)
    marked = {
        decision.item_id: decision.decided_at
        for decision in decisions_of_operation(session, operation_id)
        if decision.item_kind == "attachment" and decision.disclosure_class == "sensitive"
    }
    lines: list[HashLine] = []
    if marked:
        query = (
            select(Attachment, Message.contact_id, Message.sent_at)
            .join(Message, col(Message.id) == Attachment.message_id)
            .where(col(Attachment.id).in_(sorted(marked)))
            .order_by(col(Attachment.id))
        )
        for attachment, contact_id, sent_at in session.exec(query).all():
            sha1, md5 = _hashes(attachment)
            lines.append(HashLine(attachment, contact_id, sent_at, marked[attachment.id], sha1, md5))
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),  # type: ignore[arg-type]
        action="sensitive.hash_export",
        object_type="sensitive_hashes",
        object_id=operation_id,
        operation_id=operation_id,
        details={"attachments": [line.attachment.id for line in lines]},
    )
    return operation, lines


def hashes_csv(operation: Operation, lines: list[HashLine]) -> bytes:
    """The plain CSV: SHA-256, SHA-1 and MD5 with the dates, one row per sensitive attachment."""
    return csv_bytes(
        CSV_HEADER,
        (
            (
                operation.name, line.attachment.id, line.attachment.message_id, line.contact_id,
                line.attachment.sha256, line.sha1, line.md5, line.attachment.size, line.attachment.media_type,
                format_time(line.sent_at), format_time(line.attachment.recorded_at),
                format_time(line.marked_at),
            )
            for line in lines
        ),
    )


def case_guid(operation: Operation) -> str:
    """A stable GUID for the operation in VICS (the same operation exports under the same CaseID)."""
    origin = str(current_app.config.get("ORIGIN", ""))
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"decoy:{origin}:operation:{operation.id}"))


def hashes_vics(operation: Operation, lines: list[HashLine]) -> dict[str, Any]:
    """The VICS 2.0 document: one case (the operation) and its media by MD5 and SHA-1 (upper-case hex, as
    VICS writes them), uncategorised (categorising is the receiving unit's work). The SHA-256 and Decoy's
    numbers travel in each medium's comments."""
    media = [
        {
            "MediaID": number,
            "Category": None,
            "MD5": line.md5.upper(),
            "SHA1": line.sha1.upper(),
            "MediaSize": line.attachment.size,
            "IsPrecategorized": False,
            "Comments": (
                f"Decoy attachment {line.attachment.id} (message {line.attachment.message_id}, contact "
                f"{line.contact_id}); SHA-256 {line.attachment.sha256}; received {format_time(line.sent_at)}"
            ),
        }
        for number, line in enumerate(lines, start=1)
    ]
    return {
        "@odata.context": VICS_CONTEXT,
        "value": [
            {
                "CaseID": case_guid(operation),
                "CaseNumber": operation.name,
                "SourceApplicationName": "Decoy",
                "Media": media,
            }
        ],
    }
