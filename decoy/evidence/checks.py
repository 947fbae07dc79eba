"""Evidence checkers for `decoy audit verify`: re-hash stored contacts, messages and files.

Each checker compares what is stored now (rows read with Core queries, so that a long verification
does not fill the session's identity map, and files re-hashed from whichever store holds them, a file
or database chunks) with the hashes the signed audit entry recorded when the evidence arrived.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from .. import blobstore
from ..models import Attachment, AuthorizationDocument, Contact, Message
from .fingerprint import contact_fingerprint, message_fingerprint, text_sha256

_contact = Contact.__table__  # type: ignore[attr-defined]
_message = Message.__table__  # type: ignore[attr-defined]
_attachment = Attachment.__table__  # type: ignore[attr-defined]
_document = AuthorizationDocument.__table__  # type: ignore[attr-defined]


def _object_id(entry: dict[str, Any]) -> int | None:
    object_id = (entry.get("object") or {}).get("id")
    return object_id if type(object_id) is int else None


def check_contact(session: Session, entry: dict[str, Any]) -> str | None:
    """The contact row still exists and matches the hashes of its audit entry."""
    contact_id = _object_id(entry)
    evidence = entry.get("evidence") or {}
    row = session.connection().execute(select(_contact).where(_contact.c.id == contact_id)).mappings().first()
    if row is None:
        return f"contact {contact_id} is missing"
    if text_sha256(row["counterpart"]) != evidence.get("counterpart_sha256"):
        return f"contact {contact_id}: the counterpart differs from the recorded hash"
    if contact_fingerprint(row) != evidence.get("row_sha256"):
        return f"contact {contact_id}: the stored row differs from the recorded one"
    return None


def check_message(session: Session, entry: dict[str, Any]) -> str | None:
    """The message row, its attachment rows and their files match the hashes of its audit entry."""
    message_id = _object_id(entry)
    evidence = entry.get("evidence") or {}
    connection = session.connection()
    row = connection.execute(select(_message).where(_message.c.id == message_id)).mappings().first()
    if row is None:
        return f"message {message_id} is missing"
    body_sha256 = text_sha256(row["body"])
    if body_sha256 != evidence.get("body_sha256") or row["body_sha256"] != body_sha256:
        return f"message {message_id}: the text differs from the recorded hash"
    attachments = (
        connection.execute(
            select(_attachment).where(_attachment.c.message_id == message_id).order_by(_attachment.c.id)
        )
        .mappings()
        .all()
    )
    if [a["sha256"] for a in attachments] != evidence.get("attachments", []):
        return f"message {message_id}: the attachments differ from the recorded ones"
    for attachment in attachments:
        problem = check_file(attachment["sha256"], session)
        if problem:
            return f"message {message_id}, attachment {attachment['id']}: {problem}"
    if message_fingerprint(row, attachments) != evidence.get("row_sha256"):
        return f"message {message_id}: the stored row differs from the recorded one"
    return None


def check_file(sha256: str, session: Session | None = None) -> str | None:
    """Whether the stored file with this name still has this content, in whichever store holds it.

    With a session, database chunks are re-hashed in its transaction (the verification's snapshot).
    """
    try:
        return blobstore.problem(sha256, connection=session.connection() if session is not None else None)
    except ValueError:
        return f"file name {sha256!r} is not a SHA-256"


def check_document(session: Session, entry: dict[str, Any]) -> str | None:
    """An attached order document's file still has the content its audit entry recorded."""
    for name, sha256 in sorted((entry.get("evidence") or {}).items()):
        problem = check_file(str(sha256), session)
        if problem:
            return f"authorization {_object_id(entry)}, document {name!r}: {problem}"
    return None


def check_document_read(session: Session, entry: dict[str, Any]) -> str | None:
    """The document a read entry names is attached to its authorization with the content it recorded
    (the file itself is re-hashed by the check of the entry that attached it)."""
    authorization_id = _object_id(entry)
    connection = session.connection()
    for name, sha256 in sorted((entry.get("evidence") or {}).items()):
        attached = connection.execute(
            select(_document.c.id)
            .where(
                _document.c.authorization_id == authorization_id,
                _document.c.filename == name,
                _document.c.sha256 == sha256,
            )
            .limit(1)
        ).first()
        if attached is None:
            return f"authorization {authorization_id}: document {name!r} read is not the one attached"
    return None
