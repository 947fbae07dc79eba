"""Writing the evidence bundle of one operation as a stream."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlmodel import Session

from audit.bundle import (
    CHECKPOINT_PATH,
    CONSISTENCY_PATH,
    ENTRIES_PATH,
    PUBLIC_KEY_PATH,
    consistency_json,
    entry_line,
)
from audit.entry import decode_entry
from audit.store import StoredCheckpoint

from .. import access, audit_bridge, blobstore, clock
from ..capture.records import CAPTURE_SESSIONS_PATH, capture_session_records
from ..db import snapshot_session
from ..imports.records import contact_imports, later_flags_of_contact
from ..initiative.records import current_flags_of_contact, initiative_record
from ..integrity.checkpoints import get_signer, publish_checkpoint, sign_checkpoint
from ..models import Operation
from . import content
from .report import contact_report, operation_report
from .spreadsheet import csv_bytes
from .zipwriter import BundleWriter, Sink

VERIFY_TEXT_PATH = "VERIFY.md"
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
    """What one export covers: the operation, the signed checkpoint and the previous published one."""

    operation_id: int
    checkpoint: StoredCheckpoint
    previous: StoredCheckpoint | None
    exported_by: str


def prepare_export(session: Session, actor: access.Actor, operation_id: int) -> ExportPlan:
    """Record the export (an audit entry) and sign a checkpoint covering it; the caller commits and publishes.

    Only legal officers export; an operation the caller may not see is NotFound.
    """
    from ..errors import Forbidden

    operation = access.visible_operation(session, actor, operation_id)
    if not actor.has_role("legal"):
        raise Forbidden("only legal officers export evidence")
    store = audit_bridge.get_store()
    previous = store.latest_checkpoint(session.connection())
    audit_bridge.record(
        session,
        actor=actor.username,
        action="operation.export",
        object_type="operation",
        object_id=operation.id,
        operation_id=operation.id,
    )
    checkpoint, _new = sign_checkpoint(session)
    return ExportPlan(operation.id or 0, checkpoint, previous, actor.username)


def export_to_stream(app: Flask, session: Session, actor: access.Actor, operation_id: int) -> ExportPlan:
    """Prepare an export in ``session``, commit it and publish its checkpoint."""
    plan = prepare_export(session, actor, operation_id)
    session.commit()
    publish_checkpoint(plan.checkpoint)
    return plan


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
        names = content.Usernames(session)
        record = content.operation_record(session, operation, names)
        record["exported_by"] = plan.exported_by
        record["exported_at"] = clock.now().isoformat()
        writer.add_bytes("operation.json", _json(record))
        authorizations = content.authorization_records(session, operation.id or 0, names)
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
        profiles = content.profile_records(session, operation.id or 0, names)
        writer.add_bytes("profiles.json", _json(profiles))
        capture_sessions = capture_session_records(session, operation.id or 0, names, zone)
        writer.add_bytes(CAPTURE_SESSIONS_PATH, _json(capture_sessions))
        note("operation, authorizations and profiles")
        yield sink.drain()

        reviews = content.review_records(session, operation.id or 0, names, zone)
        writer.add_bytes("reviews.json", _json(reviews))
        summaries = []
        attachments_written: set[str] = set()
        for contact in content.contacts(session, operation.id or 0):
            summary, files = yield from _write_contact(writer, sink, session, contact, names, zone)
            summaries.append(summary)
            for sha256 in files - attachments_written:
                yield from _drain_while(
                    writer.add_chunks(
                        f"attachments/{sha256}",
                        blobstore.iter_blob(sha256, app, connection=stored),
                        compress=False,
                    ),
                    sink,
                )
            attachments_written |= files
            note(f"contact {contact.id}")
            yield sink.drain()

        entries = yield from _write_audit(writer, sink, session, plan)
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


def _drain_while(steps: Iterator[int], sink: Sink) -> Iterator[bytes]:
    for _size in steps:
        data = sink.drain()
        if data:
            yield data


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def _write_contact(
    writer: BundleWriter, sink: Sink, session: Session, contact: Any, names: content.Usernames, zone: ZoneInfo
) -> Iterator[bytes]:
    """Write one contact's transcript as JSON, CSV and PDF; return its summary and attachment hashes."""
    base = f"contacts/{contact.id}"
    record = content.contact_record(contact, names, zone)
    later = later_flags_of_contact(session, contact.id)
    flags_now = current_flags_of_contact(session, contact.id)
    messages = []
    for message, attachments in content.iter_messages(session, contact.id):
        now = flags_now(message, later.get(message.id or 0, ()))
        messages.append(
            content.message_record(
                message,
                attachments,
                names,
                zone,
                [flag for flag in now if flag not in message.flags],
                [flag for flag in message.flags if flag not in now],
            )
        )
    writer.add_bytes(f"{base}/transcript.json", _json({"contact": record, "messages": messages}))
    initiative = initiative_record(session, contact, names)
    writer.add_bytes(f"{base}/initiative.json", _json(initiative))
    imports = contact_imports(session, contact.id, names, zone)
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
    files = {a["sha256"] for m in messages for a in m["attachments"]} | {i["sha256"] for i in imports}
    return summary, files


def _write_audit(writer: BundleWriter, sink: Sink, session: Session, plan: ExportPlan) -> Iterator[bytes]:
    """The operation's entries with inclusion proofs against the bundle's checkpoint, and the proofs' keys."""
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
                if decode_entry(data).get("operation") == plan.operation_id:
                    batch.append(entry_line(index, data, bytes(leaf), tree.inclusion_proof(index, size)))
            counted[0] += len(batch)
            if batch:
                yield "".join(batch).encode("utf-8")

    yield from _drain_while(writer.add_chunks(ENTRIES_PATH, lines()), sink)
    writer.add_bytes(CHECKPOINT_PATH, plan.checkpoint.note.encode("utf-8"))
    writer.add_bytes(PUBLIC_KEY_PATH, (get_signer().verifier_key_text() + "\n").encode("utf-8"))
    if plan.previous is not None and plan.previous.size <= size:
        proof = tree.consistency_proof(plan.previous.size, size)
        writer.add_bytes(CONSISTENCY_PATH, consistency_json(plan.previous.note, proof))
    return counted[0]


def verify_text(operation: dict[str, Any], plan: ExportPlan) -> str:
    """VERIFY.md: how to check the bundle by hand and with the verifier."""
    previous = (
        f" It extends the checkpoint of size {plan.previous.size} (`audit/consistency.json`)."
        if plan.previous is not None and plan.previous.size <= plan.checkpoint.size
        else ""
    )
    return f"""# Verifying this evidence bundle

Operation: {operation["name"]} (id {operation["id"]}), exported {operation["exported_at"]} by
{plan.exported_by}. Signed checkpoint: size {plan.checkpoint.size}, published when the bundle was
made.{previous}

## With the verifier

Do not check the bundle against the key inside it (`audit/public_key.txt`): whoever alters a bundle can
sign it again with a key of their own. Obtain the log's key, or a checkpoint the log published,
independently of this bundle, and give it to the verifier:

    python -m audit verify THIS_BUNDLE.zip --key "KEY"
    python -m audit verify THIS_BUNDLE.zip --checkpoint PUBLISHED_CHECKPOINTS.txt

Where to get them, from the force rather than from whoever handed over this bundle:

* the key (one line, `name+keyid+base64`): on Decoy's integrity page, or from
  `GET /api/v1/audit/public-key` with any account of the force;
* published checkpoints: the published checkpoints file (`checkpoints.txt` in Decoy's data directory,
  every signed checkpoint appended as it is made), or the daily checkpoint notification sent to the legal
  officers (save its signed note in a file). The file must hold this bundle's checkpoint (size
  {plan.checkpoint.size}) or the one its consistency proof starts from.

The verifier needs only Python 3.11+ and the `cryptography` package (it ships with Decoy as the
`audit` package and has no other dependency). It exits 0 when everything below holds and the key is
vouched for; 1 naming the first file or audit entry that fails (or a key other than the one given); 2
when the bundle is intact under the key inside it but nothing vouches for that key.

## By hand

1. `manifest.json` lists every other file with its SHA-256 and size; recompute them
   (`sha256sum`) and check that no file is missing or extra.
2. `audit/checkpoint.txt` is a C2SP signed note: origin, tree size and base64 root hash, then an
   Ed25519 signature by the log's key (format: name+keyid+base64(0x01||key)), the one obtained
   independently as above: `audit/public_key.txt` must be that same key.
3. Each line of `audit/entries.jsonl` holds an audit entry (base64 of the exact stored bytes), its
   leaf hash SHA-256(0x00 || bytes), and an RFC 9162 inclusion proof of that leaf in the tree of the
   checkpoint's size; recompute the root from the leaf and the proof (node hash SHA-256(0x01 || left ||
   right)) and compare with the checkpoint's root.
4. `audit/consistency.json` (when present) proves that this checkpoint extends the previously
   published one (RFC 9162 consistency proof).
5. For every message in `contacts/*/transcript.json`, the SHA-256 of the UTF-8 text equals
   `evidence.body_sha256` in its `message.create` audit entry, and every attachment's SHA-256 (the file
   `attachments/<sha256>`) is listed in the entry's `evidence.attachments`.
6. Every authorization in `authorizations.json`, decision in `reviews.json` and profile and change of
   status in `profiles.json` has its audit entry (`authorization.register`, `review.decide`,
   `profile.*`), whose `evidence.row_sha256` is the SHA-256 of the record's columns in canonical JSON;
   every name shown as who did something is that entry's `actor`.

Entries of other operations are not in this bundle; their leaves appear only as hashes inside the
proofs, which reveal nothing of their content.

The full format, with test vectors, is described in Decoy's `docs/evidence-format.md`.
"""
