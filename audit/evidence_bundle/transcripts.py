"""Transcripts and attachments of an evidence bundle against the entries that recorded them."""

from __future__ import annotations

import hashlib
import json
import zipfile
from typing import Any

from audit.evidence_bundle.records import (
    TRANSCRIPT_SUFFIX,
    Entries,
    listed_items,
    listed_text_matches,
    operation_id,
    text_matches,
    text_sha256,
)

__all__ = ["check_transcripts"]



def _file_sha256(bundle: zipfile.ZipFile, name: str) -> str | None:
    try:
        with bundle.open(name) as stream:
            digest = hashlib.sha256()
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except KeyError:
        return None
    return digest.hexdigest()


def _transcripts(
    bundle: zipfile.ZipFile,
) -> tuple[dict[Any, tuple[str, dict[str, Any]]], dict[Any, tuple[str, dict[str, Any]]]]:
    messages: dict[Any, tuple[str, dict[str, Any]]] = {}
    contacts: dict[Any, tuple[str, dict[str, Any]]] = {}
    for name in sorted(bundle.namelist()):
        if not (name.startswith("contacts/") and name.endswith(TRANSCRIPT_SUFFIX)):
            continue
        document = json.loads(bundle.read(name).decode("utf-8"))
        contacts[document["contact"]["id"]] = (name, document["contact"])
        for message in document["messages"]:
            messages[message["id"]] = (name, message)
    return messages, contacts


def _check_listed(
    kind: str, index: int, entry: dict[str, Any], listed: dict[tuple[str, Any], dict[str, Any]]
) -> str | None:
    """An item its entry records that the transcripts do not show must be listed in withheld.json with the
    SHA-256 the entry recorded."""
    object_id = entry["object"]["id"]
    item = listed.pop((kind, object_id), None)
    if item is None:
        return f"entry {index}: {kind} {object_id} is missing from the transcripts"
    evidence = entry.get("evidence", {})
    if kind == "message" and not listed_text_matches(item, evidence):
        return f"withheld.json: {kind} {object_id} is listed with a hash other than its entry's ({index})"
    if kind == "contact" and item.get("sha256") != evidence.get("counterpart_sha256"):
        return f"withheld.json: {kind} {object_id} is listed with a SHA-256 other than its entry's ({index})"
    return None


def _check_redacted(
    bundle: zipfile.ZipFile,
    where: str,
    message_id: Any,
    shown: dict[str, Any],
    redactions: dict[tuple[Any, Any, Any], int],
) -> str | None:
    """A redacted copy carried in an attachment's place: its file is in the bundle with its SHA-256, and
    an ``attachment.redact`` entry made it from that original for that message."""
    copy = shown["redacted"]
    if redactions.pop((message_id, shown["sha256"], copy.get("sha256")), None) is None:
        return f"{where}: the redacted copy {copy.get('sha256')} has no attachment.redact entry in the bundle"
    if copy.get("path") != f"attachments/{copy.get('sha256')}":
        return f"{where}: the redacted copy {copy.get('sha256')} is not at attachments/<its SHA-256>"
    if _file_sha256(bundle, copy["path"]) != copy["sha256"]:
        return f"{copy['path']}: missing or its content does not match its SHA-256"
    return None


def _check_message(
    bundle: zipfile.ZipFile,
    index: int,
    entry: dict[str, Any],
    messages: dict[Any, tuple[str, dict[str, Any]]],
    withheld: dict[tuple[str, Any], dict[str, Any]],
    redactions: dict[tuple[Any, Any, Any], int],
) -> str | None:
    found = messages.pop(entry["object"]["id"], None)
    if found is None:
        return _check_listed("message", index, entry, withheld)
    name, message = found
    evidence, details = entry.get("evidence", {}), entry.get("details", {})
    where = f"{name}: message {message['id']} (entry {index})"
    if not text_matches(message, evidence, message["body"]):
        return f"{where}: the text does not match the commitment or SHA-256 in the audit entry"
    listed = sorted(a["sha256"] for a in message.get("attachments", []))
    if listed != sorted(evidence.get("attachments", [])):
        return f"{where}: the attachments differ from those in the audit entry"
    for shown in message.get("attachments", []):
        sha256 = shown["sha256"]
        if shown.get("redacted"):
            problem = _check_redacted(bundle, where, message["id"], shown, redactions)
            if problem:
                return problem
        elif shown.get("path") is None:
            item = next(
                (
                    i
                    for (kind, _id), i in withheld.items()
                    if kind == "attachment"
                    and (i.get("message_id"), i.get("sha256")) == (message["id"], sha256)
                ),
                None,
            )
            if item is None:
                return f"{where}: attachment {sha256} is neither in the bundle nor listed in withheld.json"
            withheld.pop(("attachment", item["id"]))
        elif _file_sha256(bundle, f"attachments/{sha256}") != sha256:
            return f"attachments/{sha256}: missing or its content does not match its SHA-256 (entry {index})"
    if "flags" in details and sorted(message.get("flags", [])) != sorted(details["flags"]):
        return f"{where}: the flags differ from those recorded in the audit entry"
    if "direction" in details and message.get("direction") != details["direction"]:
        return f"{where}: the direction differs from the audit entry"
    if message.get("recorded_by") != entry["actor"]:
        return f"{where}: recorded by {message.get('recorded_by')!r}, the audit entry says {entry['actor']!r}"
    return None


def check_transcripts(bundle: zipfile.ZipFile, entries: Entries) -> str | None:
    """Return the first mismatch between transcripts, attachments and their audit entries, or None.

    Applies to an operation's export (a bundle with ``operation.json``); other bundles pass.
    """
    operation = operation_id(bundle)
    if operation is None:
        return None
    try:
        messages, contacts = _transcripts(bundle)
        listed = {key: item for key, item in listed_items(bundle).items() if key[0] != "note"}
        redactions = {
            (
                entry.get("details", {}).get("message"),
                entry.get("details", {}).get("original_sha256"),
                entry.get("evidence", {}).get("sha256"),
            ): index
            for index, entry in entries.items()
            if entry.get("action") == "attachment.redact"
        }
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        return f"a transcript is malformed: {exc!r}"
    for index in sorted(entries):
        entry = entries[index]
        action = entry.get("action")
        if entry.get("operation") != operation:
            return f"entry {index} belongs to another operation ({entry.get('operation')!r}), not {operation}"
        try:
            if action == "message.create":
                problem = _check_message(bundle, index, entry, messages, listed, redactions)
                if problem:
                    return problem
            elif action == "import.create":
                sha256 = entry.get("evidence", {}).get("file_sha256")
                kept_back = listed.pop(("import", entry["object"]["id"]), None)
                if kept_back is not None:
                    # An original that holds sensitive material, or was disposed of, is listed by its hash.
                    listed_as = kept_back.get("class")
                    if kept_back.get("sha256") != sha256 or listed_as not in ("sensitive", "disposed"):
                        return (
                            f"withheld.json: import {entry['object']['id']} is listed with another SHA-256 "
                            f"or class than entry {index} records"
                        )
                    continue
                if _file_sha256(bundle, f"attachments/{sha256}") != sha256:
                    return (
                        f"attachments/{sha256}: the original file of import {entry['object']['id']} is "
                        f"missing or its content does not match its SHA-256 (entry {index})"
                    )
            elif action == "contact.create":
                found = contacts.pop(entry["object"]["id"], None)
                if found is None:
                    problem = _check_listed("contact", index, entry, listed)
                    if problem:
                        return problem
                    continue
                name, contact = found
                if text_sha256(contact["counterpart"]) != entry.get("evidence", {}).get("counterpart_sha256"):
                    return f"{name}: the counterpart does not match the SHA-256 in entry {index}"
                if contact.get("recorded_by") != entry["actor"]:
                    return (
                        f"{name}: contact {contact['id']} recorded by {contact.get('recorded_by')!r}, "
                        f"entry {index} says {entry['actor']!r}"
                    )
        except (KeyError, TypeError, AttributeError) as exc:
            return f"entry {index}: transcript record malformed: {exc!r}"
    if messages:
        name, message = next(iter(messages.values()))
        return f"{name}: message {message['id']} has no audit entry in the bundle"
    if contacts:
        name, contact = next(iter(contacts.values()))
        return f"{name}: contact {contact['id']} has no audit entry in the bundle"
    if redactions:
        index = next(iter(redactions.values()))
        return f"entry {index}: its redacted copy is not carried by any transcript"
    if listed:
        (kind, object_id), _item = next(iter(listed.items()))
        return f"withheld.json: {kind} {object_id} is listed but has no audit entry in the bundle"
    return None
