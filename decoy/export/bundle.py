"""Writing the evidence bundle of one operation as a stream."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlmodel import Session, col, select

from audit.bundle import (
    CHECKPOINT_PATH,
    CONSISTENCY_PATH,
    ENTRIES_PATH,
    PUBLIC_KEY_PATH,
    TIMESTAMP_PATH,
    consistency_json,
    entry_line,
)
from audit.entry import decode_entry
from audit.evidence_bundle.signed_reports import SIGNED_REPORTS_NAME
from audit.store import StoredCheckpoint

from .. import access, audit_bridge, blobstore, clock
from ..capture.records import CAPTURE_SESSIONS_PATH, capture_session_records
from ..db import snapshot_session
from ..disclosure import codes
from ..disclosure.codes import Officers
from ..imports.records import contact_imports, later_flags_of_contact
from ..initiative.records import current_flags_of_contact, initiative_record
from ..integrity.checkpoints import get_signer, publish_checkpoint, sign_checkpoint
from ..integrity.stamping import stamp_checkpoint, token_of
from ..integrity.witnessing import with_cosignatures
from ..models import Contact, Operation
from ..retention.disposal import disposed_of_contact
from . import content
from .report import contact_report, operation_report
from .selection import LISTED, Selection, select_items, sensitive_copies
from .spreadsheet import csv_bytes
from .verify_text import VERIFY_TEXT_PATH, verify_text
from .withheld import (
    WITHHELD_PATH,
    listed_attachment,
    listed_contact,
    listed_disposed_message,
    listed_disposed_note,
    listed_import,
    listed_message,
    listed_note,
    note_record,
    redacted_copy,
    signed_copy,
)
from .zipwriter import BundleWriter, Sink

TRANSCRIPT_HEADER = (
    "message_id",
    "direction",
    "sent_at_platform",
    "sent_at_local",
    "recorded_at_local",
    "recorded_by",
    "flags",
    "corrects",
    "body",
    "body_sha256",
    "attachments",
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ExportPlan:
    """What one export covers: the operation and the contacts it names (None: all), for what and whom, its
    own audit entry, the signed checkpoint and the previous published one."""

    operation_id: int
    checkpoint: StoredCheckpoint
    previous: StoredCheckpoint | None
    exported_by: str
    contacts: tuple[int, ...] | None = None
    purpose: str = ""
    recipient: str = ""
    export_index: int | None = None


def prepare_export(
    session: Session,
    actor: access.Actor,
    operation_id: int,
    *,
    contacts: tuple[int, ...] | None = None,
    purpose: str = "",
    recipient: str = "",
) -> ExportPlan:
    """Record the export (an audit entry naming its contacts, purpose and recipient) and sign a checkpoint
    covering it; the caller commits and publishes.

    Only legal officers export; an operation the caller may not see is NotFound; a named contact that is
    not the operation's is InvalidInput naming ``contacts``.
    """
    from ..errors import Forbidden, InvalidInput, RuleViolation

    operation = access.visible_operation(session, actor, operation_id)
    if not actor.has_role("legal"):
        raise Forbidden("only legal officers export evidence")
    purpose = _line(purpose, "purpose")
    recipient = _line(recipient, "recipient")
    if contacts is not None:
        found = set(
            session.exec(
                select(Contact.id).where(Contact.operation_id == operation.id, col(Contact.id).in_(contacts))
            ).all()
        )
        missing = [contact for contact in contacts if contact not in found]
        if missing:
            raise InvalidInput(
                f"contacts: {missing[0]} is not a contact of operation {operation.id}", field="contacts"
            )
    copies = sensitive_copies(session, operation.id or 0, contacts)
    if copies:
        raise RuleViolation(
            f"attachment {copies[0]} holds the same file as an attachment marked sensitive: decide its "
            "disclosure class (sensitive) before the export, so that the file is never copied",
            field="contacts",
        )
    store = audit_bridge.get_store()
    previous = store.latest_checkpoint(session.connection())
    exported_by = codes.officer_name(actor)
    appended = audit_bridge.record(
        session,
        actor=exported_by,
        action="operation.export",
        object_type="operation",
        object_id=operation.id,
        operation_id=operation.id,
        details={
            "contacts": "all" if contacts is None else list(contacts),
            "purpose": purpose,
            "recipient": recipient,
        },
    )
    checkpoint, _new = sign_checkpoint(session)
    return ExportPlan(
        operation.id or 0, checkpoint, previous, exported_by, contacts, purpose, recipient, appended.index
    )


def _line(value: str | None, name: str) -> str:
    """A one-line text field of an export (at most 500 characters); InvalidInput naming it."""
    from ..errors import InvalidInput

    text = (value or "").strip()
    if len(text) > 500 or any(ord(c) < 32 or c in "\u2028\u2029" for c in text):
        raise InvalidInput(f"{name}: one line of at most 500 characters", field=name)
    return text


def export_to_stream(
    app: Flask, session: Session, actor: access.Actor, operation_id: int, **scope: Any
) -> ExportPlan:
    """Prepare an export in ``session`` (``scope``: its contacts, purpose and recipient), commit it and
    publish its checkpoint."""
    plan = prepare_export(session, actor, operation_id, **scope)
    session.commit()
    return publish_and_anchor(app, plan)


def publish_and_anchor(app: Flask, plan: ExportPlan) -> ExportPlan:
    """Once the export is committed: publish its checkpoint, have it time-stamped and shown to the
    witnesses, so that the bundle carries its token and the cosignatures the witnesses give it now."""
    publish_checkpoint(plan.checkpoint)
    stamp_checkpoint(app, plan.checkpoint)
    return replace(plan, checkpoint=with_cosignatures(app, plan.checkpoint))


def iter_bundle(app: Flask, plan: ExportPlan, progress: Progress | None = None) -> Iterator[bytes]:
    """The bundle's bytes, produced as it is written; memory stays flat whatever its size."""
    sink = Sink()
    writer = BundleWriter(sink, clock.now())
    note = progress or (lambda _step: None)
    with app.app_context(), snapshot_session(app) as session:
        # Attachments in the database store are read chunk by chunk in the same snapshot as the rows.
        stored = session.connection()
        operation = session.get(Operation, plan.operation_id)
        assert operation is not None  # noqa: S101 - prepare_export checked it in a committed transaction
        zone = ZoneInfo(operation.timezone)
        names = Officers(session)
        chosen = select_items(session, plan.operation_id, plan.contacts, plan.export_index)
        record = content.operation_record(session, operation, names)
        record["exported_by"] = plan.exported_by
        record["exported_at"] = clock.now().isoformat()
        record["export"] = {
            "contacts": "all" if plan.contacts is None else list(plan.contacts),
            "purpose": plan.purpose,
            "recipient": plan.recipient,
        }
        writer.add_bytes("operation.json", _json(record))
        authorizations = [
            a
            for a in content.authorization_records(session, operation.id or 0, names)
            if a["id"] in chosen.authorizations
        ]
        writer.add_bytes("authorizations.json", _json(authorizations))
        for document in {d["sha256"]: d for a in authorizations for d in a["documents"]}.values():
            yield from _drain_while(
                writer.add_chunks(
                    document["path"],
                    blobstore.iter_blob(document["sha256"], app, connection=stored),
                    compress=False,
                ),
                sink,
            )
        profiles = [
            p
            for p in content.profile_records(session, operation.id or 0, names)
            if p["id"] in chosen.profiles
        ]
        writer.add_bytes("profiles.json", _json(profiles))
        capture_sessions = [
            c
            for c in capture_session_records(session, operation.id or 0, names, zone)
            if c["id"] in chosen.capture_sessions
        ]
        writer.add_bytes(CAPTURE_SESSIONS_PATH, _json(capture_sessions))
        note("operation, authorizations and profiles")
        yield sink.drain()

        reviews = [
            r
            for r in content.review_records(session, operation.id or 0, names, zone)
            if r["id"] in chosen.reviews
            or (r["kind"] == "enforcement" and r["authorization_id"] in chosen.authorizations)
        ]
        writer.add_bytes("reviews.json", _json(reviews))
        summaries = []
        attachments_written: set[str] = set()
        listed = [
            listed_contact(contact, chosen.decisions[("contact", contact.id or 0)], names)
            for contact in chosen.listed_contacts
        ]
        for contact in chosen.contacts:
            summary, files = yield from _write_contact(
                writer, sink, session, contact, names, zone, chosen, listed
            )
            summaries.append(summary)
            for path, sha256 in files.items():
                if path in attachments_written:
                    continue
                yield from _drain_while(
                    writer.add_chunks(
                        path, blobstore.iter_blob(sha256, app, connection=stored), compress=False
                    ),
                    sink,
                )
            attachments_written |= set(files)
            note(f"contact {contact.id}")
            yield sink.drain()

        _write_notes(writer, session, chosen, names, zone, listed)
        writer.add_bytes(WITHHELD_PATH, _json(listed))
        entries = yield from _write_audit(writer, sink, session, plan, chosen)
        note(f"{entries} audit entries with inclusion proofs")
        writer.add_bytes(
            "report.pdf",
            operation_report(
                operation=record,
                authorizations=authorizations,
                profiles=profiles,
                contacts=summaries,
                reviews=reviews,
                capture_sessions=capture_sessions,
                withheld=listed,
                checkpoint_note=plan.checkpoint.note,
                public_key=get_signer(app).verifier_key_text(),
                entries=entries,
                zone=zone,
            ),
            compress=True,
        )
        writer.add_bytes(VERIFY_TEXT_PATH, verify_text(record, plan).encode("utf-8"))
    writer.finish(get_signer(app))
    note("manifest")
    yield sink.drain()


#: The SHA-256 of an empty text: a note whose text is empty but whose recorded hash is not was disposed of.
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _write_notes(
    writer: BundleWriter,
    session: Session,
    chosen: Selection,
    names: Officers,
    zone: ZoneInfo,
    listed: list[dict[str, Any]],
) -> None:
    """The journal notes a legal officer disclosed: ``notes.json`` (the operation's) and
    ``contacts/<id>/notes.json``; withheld or sensitive ones added to ``listed``."""
    shown: dict[int | None, list[dict[str, Any]]] = {}
    for note in chosen.notes:
        kind = chosen.class_of("note", note.id)
        if note.body == "" and note.body_sha256 != EMPTY_SHA256:
            found = disposed_of_contact(session, note.contact_id).get(("note", note.id or 0)) if (
                note.contact_id is not None) else None
            if found is not None:
                listed.append(listed_disposed_note(note, found))
                continue
        if kind in LISTED:
            listed.append(listed_note(note, chosen.decisions[("note", note.id or 0)], names))
        else:
            shown.setdefault(note.contact_id, []).append(note_record(note, names, zone))
    for contact_id, notes in shown.items():
        name = "notes.json" if contact_id is None else f"contacts/{contact_id}/notes.json"
        writer.add_bytes(name, _json(notes))


def _drain_while(steps: Iterator[int], sink: Sink) -> Iterator[bytes]:
    for _size in steps:
        data = sink.drain()
        if data:
            yield data


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def _write_contact(
    writer: BundleWriter,
    sink: Sink,
    session: Session,
    contact: Any,
    names: Officers,
    zone: ZoneInfo,
    chosen: Selection,
    listed: list[dict[str, Any]],
) -> Iterator[bytes]:
    """Write one contact's transcript as JSON, CSV and PDF (its withheld and sensitive items added to
    ``listed``, its journal items left out); return its summary and the hashes of the files it shows."""
    base = f"contacts/{contact.id}"
    record = content.contact_record(contact, names, zone)
    later = later_flags_of_contact(session, contact.id)
    flags_now = current_flags_of_contact(session, contact.id)
    messages = []
    # Imports whose original file holds sensitive material (a chat exported with its media): listed by
    # hash in imports.json, never copied.
    sensitive_imports: set[int] = set()
    # What a disposal removed is listed by the hashes its entries recorded, with the decision.
    disposed = disposed_of_contact(session, contact.id)
    for message, attachments in content.iter_messages(session, contact.id):
        if message.import_id is not None and any(a.sha256 in chosen.sensitive_files for a in attachments):
            sensitive_imports.add(message.import_id)
        if ("message", message.id) in disposed:
            listed.append(listed_disposed_message(message, disposed["message", message.id]))
            continue
        shown = chosen.class_of("message", message.id)
        if shown != "case_file":
            if shown in LISTED:
                listed.append(listed_message(message, chosen.decisions[("message", message.id or 0)], names))
            continue
        now = flags_now(message, later.get(message.id or 0, ()))
        found = content.message_record(
            message,
            attachments,
            names,
            zone,
            [flag for flag in now if flag not in message.flags],
            [flag for flag in message.flags if flag not in now],
        )
        for attachment, shown_file in zip(attachments, found["attachments"], strict=True):
            kind = chosen.class_of("attachment", attachment.id)
            if kind != "case_file":
                decision = chosen.decisions[("attachment", attachment.id or 0)]
                listed.append(listed_attachment(attachment, message, decision, names))
                shown_file.update(filename=None, path=None, disclosure=kind)
            elif attachment.id in chosen.redactions:
                shown_file.update(path=None, redacted=redacted_copy(chosen.redactions[attachment.id], names))
        messages.append(found)
    writer.add_bytes(f"{base}/transcript.json", _json({"contact": record, "messages": messages}))
    initiative = initiative_record(session, contact, names)
    writer.add_bytes(f"{base}/initiative.json", _json(initiative))
    signed = [signed_copy(row, names) for row in content.signed_reports(session, contact.id)]
    writer.add_bytes(f"{base}/{SIGNED_REPORTS_NAME}", _json(signed))
    imports = contact_imports(session, contact.id, names, zone)
    for found in imports:
        if ("import", found["id"]) in disposed:
            found.update(path=None, disclosure="disposed")
            listed.append(listed_import(found, contact.id, disposed["import", found["id"]]))
        elif found["id"] in sensitive_imports:
            found.update(path=None, disclosure="sensitive")
            listed.append(listed_import(found, contact.id))
    writer.add_bytes(f"{base}/imports.json", _json(imports))
    yield sink.drain()
    writer.add_bytes(
        f"{base}/transcript.csv",
        csv_bytes(
            TRANSCRIPT_HEADER,
            (
                (
                    m["id"],
                    m["direction"],
                    m["sent_at"],
                    m["sent_at_local"],
                    m["recorded_at_local"],
                    m["recorded_by"],
                    " ".join(m["flags"]),
                    m["corrects"] or "",
                    m["body"],
                    m["body_sha256"],
                    " ".join(a["sha256"] for a in m["attachments"]),
                )
                for m in messages
            ),
        ),
    )
    yield sink.drain()
    writer.add_bytes(f"{base}/transcript.pdf", contact_report(record, messages, zone, initiative))
    yield sink.drain()
    flags = sorted(
        {flag for m in messages for flag in [*m["flags"], *m["later_flags"]] if flag not in m["lifted_flags"]}
        | set(record["flags"])
        | set(initiative["flags"])
    )
    summary = {**record, "messages": messages, "message_count": len(messages), "all_flags": flags}
    shown = (
        {a["sha256"] for m in messages for a in m["attachments"]
         if a["path"] and a["sha256"] not in chosen.sensitive_files}
        | {a["redacted"]["sha256"] for m in messages for a in m["attachments"] if a.get("redacted")}
        | {i["sha256"] for i in imports if i["path"]}
    )
    # Each file the contact's records show, by its path in the bundle: the blob of that SHA-256.
    files = {f"attachments/{sha256}": sha256 for sha256 in shown} | {s["path"]: s["sha256"] for s in signed}
    return summary, files


def _write_audit(
    writer: BundleWriter, sink: Sink, session: Session, plan: ExportPlan, chosen: Selection
) -> Iterator[bytes]:
    """The entries of what the bundle holds, with inclusion proofs against the bundle's checkpoint, and the
    proofs' keys."""
    store = audit_bridge.get_store()
    connection = session.connection()
    size = plan.checkpoint.size
    tree = store.tree(connection, size)
    counted = [0]

    def lines() -> Iterator[bytes]:
        for chunk in store.iter_entry_chunks(connection, 0):
            batch = []
            for index, entry_bytes, leaf in chunk:
                if index >= size:
                    break
                data = bytes(entry_bytes)
                if chosen.includes(index, decode_entry(data)):
                    batch.append(entry_line(index, data, bytes(leaf), tree.inclusion_proof(index, size)))
            counted[0] += len(batch)
            if batch:
                yield "".join(batch).encode("utf-8")

    yield from _drain_while(writer.add_chunks(ENTRIES_PATH, lines()), sink)
    writer.add_bytes(CHECKPOINT_PATH, plan.checkpoint.note.encode("utf-8"))
    token = token_of(session, plan.checkpoint.id)
    if token is not None:
        # The time-stamp authority's token for the checkpoint's text (RFC 3161).
        writer.add_bytes(TIMESTAMP_PATH, token)
    writer.add_bytes(PUBLIC_KEY_PATH, (get_signer().verifier_key_text() + "\n").encode("utf-8"))
    if plan.previous is not None and plan.previous.size <= size:
        proof = tree.consistency_proof(plan.previous.size, size)
        writer.add_bytes(CONSISTENCY_PATH, consistency_json(plan.previous.note, proof))
    return counted[0]
