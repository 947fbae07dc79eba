"""Redacted copies of attachments: a legal officer's derivative of a captured file (a face or a third party
blurred), which a disclosure bundle carries in the original's place with the original's hash and the
statement of what was redacted, why and by whom (code).

The original is never touched: a redaction is a row of its own (append-only) and a file of its own in the
store, recorded by ``attachment.redact`` with the row's fingerprint and the file's SHA-256, which
`decoy audit verify` recomputes. The latest redaction of an attachment is the one a bundle carries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from audit.entry import canonical_json, format_time

from .. import access, audit_bridge, blobstore, clock
from ..access import Actor
from ..blobstore.content import storable_name
from ..db import before_reading_body
from ..errors import Forbidden, InvalidInput, RuleViolation
from ..evidence.checks import check_file, is_actor
from ..evidence.fingerprint import columns, text_sha256
from ..evidence.transcript import by_id
from ..models import Attachment, Redaction
from ..retention.verification import disposed_under
from . import codes
from .reports import receive

#: The longest statement of what was redacted and why.
MAX_STATEMENT = 20_000
_redaction = Redaction.__table__  # type: ignore[attr-defined]


def visible_attachment(session: Session, actor: Actor, attachment_id: int) -> Attachment:
    """The attachment, or NotFound when it does not exist or its operation is hidden from ``actor``."""
    found = by_id(session, Attachment, attachment_id)
    return access.require_visible(session, actor, found, "attachment")  # type: ignore[no-any-return]


def require_redactor(session: Session, actor: Actor, attachment_id: int) -> Attachment:
    """The attachment, for a legal officer: NotFound when it is hidden, Forbidden for any other role."""
    attachment = visible_attachment(session, actor, attachment_id)
    if not actor.has_role("legal") or actor.id is None:
        raise Forbidden(_("only a legal officer may attach a redacted copy"))
    return attachment


def _statement(value: object) -> str:
    statement = value.strip() if isinstance(value, str) else ""
    if not statement:
        raise InvalidInput(_("statement: say what was redacted and why"), field="statement")
    if len(statement) > MAX_STATEMENT or "\x00" in statement:
        message = _("statement: at most %(count)s characters", count=MAX_STATEMENT)
        raise InvalidInput(message, field="statement")
    return statement


def redact(
    *,
    session: Session,
    actor: Actor,
    attachment_id: int,
    stream: BinaryIO,
    filename: str,
    statement: str,
) -> Redaction:
    """Attach a redacted copy of the attachment (a legal officer); its file must differ from the original
    (RuleViolation otherwise). Records ``attachment.redact`` with the row's fingerprint and the file's
    SHA-256. The session must hold no pending changes (its transaction ends before the file is read)."""
    require_redactor(session, actor, attachment_id)
    statement = _statement(statement)
    officer = codes.officer_name(actor)  # type: ignore[arg-type]
    before_reading_body(session)  # no write lock is held while the file is read
    incoming = receive(stream)
    try:
        attachment = require_redactor(session, actor, attachment_id)
        if incoming.blob.sha256 == attachment.sha256:
            raise RuleViolation(
                _("the redacted copy is the same file as the original: nothing was redacted"), field="file"
            )
        stored = blobstore.save(incoming, connection=session.connection())
    finally:
        incoming.close()
    row = Redaction(
        operation_id=attachment.operation_id,
        attachment_id=attachment_id,
        sha256=stored.sha256,
        size=stored.size,
        media_type=stored.media_type,
        filename=storable_name(filename, f"redacted-{attachment_id}"),
        statement=statement,
        made_by=actor.id,
        made_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit_bridge.record(
        session,
        actor=officer,
        action="attachment.redact",
        object_type="redaction",
        object_id=row.id,
        operation_id=row.operation_id,
        evidence={"row_sha256": redaction_fingerprint(columns(row)), "sha256": row.sha256},
        details={
            "attachment": attachment_id,
            "message": attachment.message_id,
            "original_sha256": attachment.sha256,
            "size": row.size,
            "media_type": row.media_type,
        },
    )
    return row


def redactions_for(
    *, session: Session, actor: Actor, attachment_id: int
) -> tuple[Attachment, list[Redaction]]:
    """The attachment and its redacted copies, oldest first (NotFound when it is hidden from ``actor``)."""
    attachment = visible_attachment(session, actor, attachment_id)
    rows = session.exec(
        select(Redaction).where(Redaction.attachment_id == attachment_id).order_by(col(Redaction.id))
    ).all()
    return attachment, list(rows)


def redactions_of(session: Session, attachment_ids: Sequence[int]) -> dict[int, Redaction]:
    """The latest redacted copy of each of these attachments that has one, by attachment id: what a bundle
    carries in the original's place (no access check: the caller's export has made it)."""
    found: dict[int, Redaction] = {}
    ids = sorted(set(attachment_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        latest = (
            core_select(func.max(_redaction.c.id))
            .where(_redaction.c.attachment_id.in_(chunk))
            .group_by(_redaction.c.attachment_id)
        )
        for row in session.exec(select(Redaction).where(col(Redaction.id).in_(latest))).all():
            found[row.attachment_id] = row
    return found


def redaction_json(row: Redaction, original_sha256: str, names: codes.Officers) -> dict[str, Any]:
    """A redacted copy as the API answers it: the legal officer by code, the original's hash beside it."""
    return {
        "id": row.id,
        "attachment_id": row.attachment_id,
        "sha256": row.sha256,
        "original_sha256": original_sha256,
        "size": row.size,
        "media_type": row.media_type,
        "filename": row.filename,
        "statement": row.statement,
        "by": names(row.made_by, row.made_at),
        "at": row.made_at,
    }


# --- row hashes and `decoy audit verify` ---------------------------------------------------------------


def redaction_fingerprint(row: Mapping[str, Any]) -> str:
    """The SHA-256 of a redaction row's canonical JSON: the file, the attachment it stands for, the
    statement by its SHA-256, and who made it when (account id)."""
    return hashlib.sha256(
        canonical_json(
            {
                "id": row["id"],
                "operation_id": row["operation_id"],
                "attachment_id": row["attachment_id"],
                "sha256": row["sha256"],
                "size": row["size"],
                "media_type": row["media_type"],
                "filename": row["filename"],
                "statement_sha256": text_sha256(row["statement"]),
                "made_by": row["made_by"],
                "made_at": format_time(row["made_at"]),
            }
        )
    ).hexdigest()


def check_redaction(session: Session, entry: dict[str, Any]) -> str | None:
    """The redacted copy is the row its entry recorded, made by the entry's actor, and its file still has
    the content recorded."""
    object_id = (entry.get("object") or {}).get("id")
    evidence = entry.get("evidence") or {}
    where = f"redaction {object_id}"
    row = None
    if type(object_id) is int:
        query = core_select(_redaction).where(_redaction.c.id == object_id)
        row = session.connection().execute(query).mappings().first()
    if row is None:
        return f"{where} is missing"
    if (redaction_fingerprint(row), row["sha256"]) != (evidence.get("row_sha256"), evidence.get("sha256")):
        return f"{where}: the stored row differs from the recorded one"
    if not is_actor(session, row["made_by"], entry):
        return f"{where}: made_by is not the entry's actor {entry.get('actor')!r}"
    problem = check_file(row["sha256"], session)
    if problem is not None and disposed_under(session, "redaction", object_id, row["sha256"]):
        return None
    return None if problem is None else f"{where}: {problem}"
