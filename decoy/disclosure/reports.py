"""The proces-verbaal of a contact: the draft Decoy makes, and the copies the officer signed outside Decoy.

A draft is made on request and never stored: its audit entry (``report.draft``) records who made it, in
which language, and the SHA-256 of the PDF. The officer signs it outside Decoy and uploads the signed PDF,
which is stored by its SHA-256 with the contact (append-only, one row per distinct file) and recorded by
``report.signed_upload`` with the row's fingerprint, which `decoy audit verify` recomputes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from audit.entry import canonical_json, format_time

from .. import audit_bridge, blobstore, clock
from ..access import Actor
from ..blobstore.content import Prefixed, storable_name
from ..db import before_reading_body
from ..errors import InvalidInput, TooLarge
from ..evidence import reading
from ..evidence.checks import check_file, is_actor
from ..evidence.fingerprint import columns
from ..evidence.reading import visible_contact
from ..evidence.validation import require_logger
from ..export.proces_verbaal import proces_verbaal_pdf
from ..export.proces_verbaal_wording import LANGUAGES
from ..models import Contact, SignedReport
from . import codes

PDF_MAGIC = b"%PDF-"
_signed_report = SignedReport.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Draft:
    """A proces-verbaal as Decoy drafted it for one officer."""

    contact_id: int
    language: str
    pdf: bytes
    sha256: str


@dataclass(frozen=True)
class Uploaded:
    """A signed copy after an upload: ``created`` False when the same file was uploaded before."""

    report: SignedReport
    created: bool


def draft(*, session: Session, actor: Actor, contact_id: int, language: str = "nl") -> Draft:
    """The contact's draft proces-verbaal by ``actor`` (under their code) in ``language``; records
    ``report.draft`` with its SHA-256. NotFound for a contact ``actor`` may not see."""
    contact = visible_contact(session, actor, contact_id)
    if language not in LANGUAGES:
        raise InvalidInput(_("lang must be nl or en"), field="lang")
    officer = codes.officer_name(actor)  # type: ignore[arg-type]
    pdf = proces_verbaal_pdf(session, contact_id, officer_code=officer, language=language)
    digest = hashlib.sha256(pdf).hexdigest()
    audit_bridge.record(
        session,
        actor=officer,
        action="report.draft",
        object_type="contact",
        object_id=contact_id,
        operation_id=contact.operation_id,
        details={"sha256": digest, "language": language, "size": len(pdf)},
    )
    return Draft(contact_id, language, pdf, digest)


def require_reporter(session: Session, actor: Actor, contact_id: int) -> Contact:
    """The contact, for an officer who may upload its signed proces-verbaal: NotFound when it is hidden,
    Forbidden unless ``actor`` is a detective or supervisor assigned to its operation."""
    contact = visible_contact(session, actor, contact_id)
    require_logger(session, actor, contact.operation_id)
    return contact


def receive(stream: BinaryIO, *, field: str = "file") -> blobstore.Incoming:
    """Read an upload once (hashed; the file store writes it), within the attachment limit."""
    try:
        return blobstore.prepare(stream, max_bytes=int(current_app.config["MAX_ATTACHMENT_BYTES"]))
    except TooLarge as error:
        raise TooLarge(error.message, field=field) from error


def upload_signed_report(
    *, session: Session, actor: Actor, contact_id: int, stream: BinaryIO, filename: str
) -> Uploaded:
    """Store the signed proces-verbaal (PDF only, by its content) with the contact; the same file again
    answers the existing row. Records ``report.signed_upload`` with the row's fingerprint and the file's
    SHA-256. The session must hold no pending changes (its transaction ends before the file is read)."""
    require_reporter(session, actor, contact_id)
    officer = codes.officer_name(actor)  # type: ignore[arg-type]
    head = stream.read(len(PDF_MAGIC))
    if head != PDF_MAGIC:
        raise InvalidInput(_("only PDF documents are accepted"), field="file")
    before_reading_body(session)  # no write lock is held while the file is read
    incoming = receive(Prefixed(head, stream))  # type: ignore[arg-type]
    try:
        contact = require_reporter(session, actor, contact_id)
        found = _existing(session, contact_id, incoming.blob.sha256)
        if found is not None:
            return Uploaded(found, False)
        stored = blobstore.save(incoming, connection=session.connection())
    finally:
        incoming.close()
    row = SignedReport(
        operation_id=contact.operation_id,
        contact_id=contact_id,
        sha256=stored.sha256,
        size=stored.size,
        filename=storable_name(filename, "proces-verbaal.pdf"),
        uploaded_by=actor.id,
        uploaded_at=clock.now(),
    )
    try:
        with session.begin_nested():  # two uploads of one file at once: the second answers the first's row
            session.add(row)
            session.flush()
    except IntegrityError:
        found = _existing(session, contact_id, stored.sha256)
        if found is None:
            raise
        return Uploaded(found, False)
    audit_bridge.record(
        session,
        actor=officer,
        action="report.signed_upload",
        object_type="signed_report",
        object_id=row.id,
        operation_id=row.operation_id,
        evidence={"row_sha256": signed_report_fingerprint(columns(row)), "sha256": row.sha256},
        details={"contact": contact_id, "filename": row.filename, "size": row.size},
    )
    return Uploaded(row, True)


def _existing(session: Session, contact_id: int, sha256: str) -> SignedReport | None:
    return session.exec(
        select(SignedReport).where(SignedReport.contact_id == contact_id, SignedReport.sha256 == sha256)
    ).first()


def signed_reports(*, session: Session, actor: Actor, contact_id: int) -> list[SignedReport]:
    """The contact's signed copies, oldest first (NotFound for a contact ``actor`` may not see)."""
    visible_contact(session, actor, contact_id)
    return list(
        session.exec(
            select(SignedReport).where(SignedReport.contact_id == contact_id).order_by(col(SignedReport.id))
        ).all()
    )


@dataclass(frozen=True)
class SignedDownload:
    """A signed copy about to be sent, and which store holds its file."""

    report: SignedReport
    store: str


def read_signed_report(*, session: Session, actor: Actor, report_id: int) -> SignedDownload:
    """A signed copy whose file is in a store; its read is recorded by the read service
    (decoy.evidence.reading.read_signed_report). NotFound when it is hidden or its file is missing."""
    report, store = reading.read_signed_report(session=session, actor=actor, report_id=report_id)
    return SignedDownload(report, store)


def signed_report_json(row: SignedReport, names: codes.Officers) -> dict[str, Any]:
    """A signed copy as the API answers it: the uploading officer by code."""
    return {
        "id": row.id,
        "contact_id": row.contact_id,
        "sha256": row.sha256,
        "size": row.size,
        "filename": row.filename,
        "by": names(row.uploaded_by, row.uploaded_at),
        "at": row.uploaded_at,
    }


# --- row hashes and `decoy audit verify` ---------------------------------------------------------------


def signed_report_fingerprint(row: Mapping[str, Any]) -> str:
    """The SHA-256 of a signed_report row's canonical JSON: the file and who uploaded it when (account id)."""
    return hashlib.sha256(
        canonical_json(
            {
                "id": row["id"],
                "operation_id": row["operation_id"],
                "contact_id": row["contact_id"],
                "sha256": row["sha256"],
                "size": row["size"],
                "filename": row["filename"],
                "uploaded_by": row["uploaded_by"],
                "uploaded_at": format_time(row["uploaded_at"]),
            }
        )
    ).hexdigest()


def check_signed_report(session: Session, entry: dict[str, Any]) -> str | None:
    """The signed copy is the row its entry recorded, uploaded by the entry's actor, and its file still
    has the content recorded."""
    object_id = (entry.get("object") or {}).get("id")
    evidence = entry.get("evidence") or {}
    where = f"signed report {object_id}"
    row = None
    if type(object_id) is int:
        query = core_select(_signed_report).where(_signed_report.c.id == object_id)
        row = session.connection().execute(query).mappings().first()
    if row is None:
        return f"{where} is missing"
    recorded = (evidence.get("row_sha256"), evidence.get("sha256"))
    if (signed_report_fingerprint(row), row["sha256"]) != recorded:
        return f"{where}: the stored row differs from the recorded one"
    if not is_actor(session, row["uploaded_by"], entry):
        return f"{where}: uploaded_by is not the entry's actor {entry.get('actor')!r}"
    problem = check_file(row["sha256"], session)
    return None if problem is None else f"{where}: {problem}"
