"""Decoy's evidence bundles (docs/evidence-format.md): the checks of their files against their entries.

The one module of the audit package that knows the bundle's own files: the verifier is given its
checks (EVIDENCE_BUNDLE_CHECKS) explicitly, as ``python -m audit verify`` does.

Decoy's evidence bundles hold ``contacts/<id>/transcript.json`` files and ``attachments/<sha256>``
files. Each message was recorded with a ``message.create`` audit entry whose ``evidence`` holds the
SHA-256 of its verbatim text (``body_sha256``) and of its attachments, and whose ``details`` hold its
direction and flags; each contact with a ``contact.create`` entry holding the SHA-256 of the counterpart.
The legal records (``authorizations.json``, ``reviews.json``, ``profiles.json``) were recorded with
``authorization.register``, ``authorization.document_attach``, ``review.decide`` and ``profile.*``
entries, whose ``evidence`` holds the SHA-256 of each row's canonical columns (``row_sha256``, section
"Row hashes" of the format). These checks prove the files against those entries (which the bundle
proves against the signed checkpoint), in both directions: no record without its entry, no entry
without its record, and every name shown as who did it is the entry's actor. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from audit.bundle import BundleCheck, BundleNote
from audit.entry import canonical_json, format_time

__all__ = [
    "EVIDENCE_BUNDLE_CHECKS",
    "EVIDENCE_BUNDLE_NOTES",
    "ROW_HASHED_ACTIONS",
    "authorization_row_sha256",
    "check_legal_records",
    "check_transcripts",
    "decision_row_sha256",
    "profile_row_sha256",
    "rows_without_hash",
    "transition_row_sha256",
]

TRANSCRIPT_SUFFIX = "/transcript.json"
AUTHORIZATIONS_PATH = "authorizations.json"
REVIEWS_PATH = "reviews.json"
PROFILES_PATH = "profiles.json"
PROFILE_ACTIONS = ("profile.propose", "profile.approve", "profile.suspend", "profile.retire")
#: The actions of legal records whose entries carry ``row_sha256`` (and ``profile_row_sha256`` for a
#: proposal); entries recorded before row hashes lack it and are checked for the fields they carry.
ROW_HASHED_ACTIONS = ("authorization.register", "review.decide", *PROFILE_ACTIONS)

#: The terms of an order as its ``authorization.register`` entry records them: compared as they are,
#: or as instants.
_AUTHORIZATION_TERMS = (
    "reference", "kind", "authority", "issuer_name", "legal_basis", "offence", "suspect_description",
    "justification", "method", "persona_constraints", "conditions", "issued_on", "review_interval_days",
    "platforms", "may_initiate_contact", "max_profiles", "supersedes_id",
)
_AUTHORIZATION_TIMES = ("valid_from", "valid_until", "written_order_due")

Record = dict[str, Any]
Entries = dict[int, dict[str, Any]]


class _Mismatch(Exception):
    """A record differs from its entry (the message names both)."""


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _row_sha256(columns: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(columns))).hexdigest()


def _time(value: Any) -> str | None:
    """An RFC 3339 time as the row hashes write it (UTC, microseconds, "Z"); None stays None."""
    if value is None:
        return None
    if type(value) is not str:
        raise ValueError(f"{value!r} is not a time")
    return format_time(datetime.fromisoformat(value))


def authorization_row_sha256(record: Mapping[str, Any]) -> str:
    """The row hash of an authorization as ``authorizations.json`` shows it (with its account ids)."""
    return _row_sha256(
        {
            **{name: record[name] for name in ("id", "operation_id", *_AUTHORIZATION_TERMS)},
            **{name: _time(record[name]) for name in _AUTHORIZATION_TIMES},
            "registered_by": record["registered_by_id"],
            "registered_at": _time(record["registered_at"]),
            "officers": sorted(record["officer_ids"]),
        }
    )


def decision_row_sha256(review_id: int, decision: Mapping[str, Any]) -> str:
    """The row hash of a review's decision as ``reviews.json`` shows it."""
    return _row_sha256(
        {
            "id": decision["id"],
            "review_id": review_id,
            "decision": decision["decision"],
            "rationale": decision["rationale"],
            "decided_by": decision["decided_by_id"],
            "decided_at": _time(decision["decided_at"]),
            "profiles": list(decision["profiles"]),
        }
    )


def profile_row_sha256(record: Mapping[str, Any]) -> str:
    """The row hash of a profile's fixed columns as ``profiles.json`` shows them."""
    return _row_sha256(
        {
            "id": record["id"],
            "operation_id": record["operation_id"],
            "authorization_id": record["authorization_id"],
            "platform": record["platform"],
            "handle": record["handle"],
            "persona": record["persona"],
            "proposed_by": record["proposed_by_id"],
            "proposed_at": _time(record["proposed_at"]),
        }
    )


def transition_row_sha256(profile_id: int, item: Mapping[str, Any]) -> str:
    """The row hash of one change of a profile's status (an item of its ``history``)."""
    return _row_sha256(
        {
            "id": item["id"],
            "profile_id": profile_id,
            "from_status": item["from"],
            "to_status": item["to"],
            "actor": item["actor"],
            "reason": item["reason"],
            "at": _time(item["at"]),
        }
    )


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


def _operation_id(bundle: zipfile.ZipFile) -> int | None:
    """The id in operation.json, when the bundle is an operation's export."""
    try:
        return int(json.loads(bundle.read("operation.json").decode("utf-8"))["id"])
    except KeyError:
        return None


def _check_message(
    bundle: zipfile.ZipFile,
    index: int,
    entry: dict[str, Any],
    messages: dict[Any, tuple[str, dict[str, Any]]],
) -> str | None:
    found = messages.pop(entry["object"]["id"], None)
    if found is None:
        return f"entry {index}: message {entry['object']['id']} is missing from the transcripts"
    name, message = found
    evidence, details = entry.get("evidence", {}), entry.get("details", {})
    where = f"{name}: message {message['id']} (entry {index})"
    if _sha256(message["body"]) != evidence.get("body_sha256"):
        return f"{where}: the text does not match the SHA-256 in the audit entry"
    listed = sorted(a["sha256"] for a in message.get("attachments", []))
    if listed != sorted(evidence.get("attachments", [])):
        return f"{where}: the attachments differ from those in the audit entry"
    for sha256 in listed:
        if _file_sha256(bundle, f"attachments/{sha256}") != sha256:
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
    operation = _operation_id(bundle)
    if operation is None:
        return None
    try:
        messages, contacts = _transcripts(bundle)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        return f"a transcript is malformed: {exc!r}"
    for index in sorted(entries):
        entry = entries[index]
        action = entry.get("action")
        if entry.get("operation") != operation:
            return f"entry {index} belongs to another operation ({entry.get('operation')!r}), not {operation}"
        try:
            if action == "message.create":
                problem = _check_message(bundle, index, entry, messages)
                if problem:
                    return problem
            elif action == "contact.create":
                found = contacts.pop(entry["object"]["id"], None)
                if found is None:
                    return f"entry {index}: contact {entry['object']['id']} is missing from the transcripts"
                name, contact = found
                if _sha256(contact["counterpart"]) != entry.get("evidence", {}).get("counterpart_sha256"):
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
    return None


def _json_file(bundle: zipfile.ZipFile, name: str) -> Any:
    try:
        return json.loads(bundle.read(name).decode("utf-8"))
    except KeyError:
        return []


def _same(where: str, field: str, shown: Any, recorded: Any) -> None:
    if shown != recorded:
        raise _Mismatch(f"{where}: {field} is {shown!r}, the audit entry recorded {recorded!r}")


def _same_row(where: str, shown: Callable[[], str], recorded: Any, key: str = "row_sha256") -> None:
    """The record hashes to the entry's row hash, when the entry carries one."""
    if recorded is None:
        return
    try:
        digest = shown()
    except KeyError as exc:
        raise _Mismatch(f"{where}: lacks {exc.args[0]!r}, which its audit entry's {key} covers") from exc
    if digest != recorded:
        raise _Mismatch(f"{where}: the record differs from the row its audit entry hashed ({key})")


class _LegalRecords:
    """The legal records of an operation's bundle, taken off one by one as their entries are met."""

    def __init__(self, bundle: zipfile.ZipFile) -> None:
        self.authorizations: dict[Any, Record] = {a["id"]: a for a in _json_file(bundle, AUTHORIZATIONS_PATH)}
        self.documents: dict[Any, list[Record]] = {
            key: list(record.get("documents", [])) for key, record in self.authorizations.items()
        }
        self.reviews: dict[Any, Record] = {
            r["id"]: r for r in _json_file(bundle, REVIEWS_PATH) if type(r["id"]) is int
        }
        self.profiles: dict[Any, Record] = {p["id"]: p for p in _json_file(bundle, PROFILES_PATH)}
        self.registered: set[Any] = set()
        self.decided: set[Any] = set()
        self.changes: dict[Any, int] = {}  # entries met per profile: the next history item's position

    def authorization(self, index: int, entry: dict[str, Any]) -> None:
        number = entry["object"]["id"]
        record = self.authorizations.get(number)
        if record is None or number in self.registered:
            raise _Mismatch(f"entry {index}: authorization {number} is missing from {AUTHORIZATIONS_PATH}")
        self.registered.add(number)
        where = f"{AUTHORIZATIONS_PATH}: authorization {number} (entry {index})"
        details = entry["details"]
        for name in _AUTHORIZATION_TERMS:
            if name in details:
                _same(where, name, record[name], details[name])
        for name in _AUTHORIZATION_TIMES:
            if name in details:
                _same(where, name, _time(record[name]), _time(details[name]))
        if "officers" in details:
            _same(where, "officers", sorted(record["officers"]), sorted(details["officers"]))
        _same(where, "registered_by", record["registered_by"], entry["actor"])
        recorded = entry["evidence"].get("row_sha256")
        _same_row(where, lambda: authorization_row_sha256(record), recorded)

    def document(self, index: int, entry: dict[str, Any]) -> None:
        number, details = entry["object"]["id"], entry["details"]
        ((filename, sha256),) = entry["evidence"].items()
        listed = self.documents.get(number, [])
        wanted = (filename, sha256, details["kind"])
        found = next((d for d in listed if (d["filename"], d["sha256"], d["kind"]) == wanted), None)
        if found is None:
            raise _Mismatch(
                f"entry {index}: document {filename!r} of authorization {number} is missing from "
                f"{AUTHORIZATIONS_PATH} or differs from its entry"
            )
        listed.remove(found)
        where = f"{AUTHORIZATIONS_PATH}: authorization {number}, document {filename!r} (entry {index})"
        for name in ("size", "media_type"):
            if name in details:
                _same(where, name, found[name], details[name])
        _same(where, "uploaded_by", found["uploaded_by"], entry["actor"])

    def decision(self, index: int, entry: dict[str, Any]) -> None:
        number = entry["object"]["id"]
        record = self.reviews.get(number)
        decision = None if record is None else record.get("decision")
        if decision is None or number in self.decided:
            raise _Mismatch(f"entry {index}: the decision on review {number} is missing from {REVIEWS_PATH}")
        self.decided.add(number)
        where = f"{REVIEWS_PATH}: review {number} (entry {index})"
        details = entry["details"]
        for name in ("decision", "rationale", "profiles"):
            if name in details:
                _same(where, name, decision[name], details[name])
        _same(where, "decided_by", decision["decided_by"], entry["actor"])
        recorded = entry["evidence"].get("row_sha256")
        _same_row(where, lambda: decision_row_sha256(number, decision), recorded)

    def profile_change(self, index: int, entry: dict[str, Any]) -> None:
        number, action = entry["object"]["id"], entry["action"]
        record = self.profiles.get(number)
        position = self.changes.get(number, 0)
        if record is None or (action == "profile.propose") != (position == 0):
            raise _Mismatch(f"entry {index}: profile {number} is missing from {PROFILES_PATH}")
        self.changes[number] = position + 1
        where = f"{PROFILES_PATH}: profile {number} (entry {index})"
        details, evidence = entry["details"], entry["evidence"]
        for name in ("platform", "handle"):
            if name in details:
                _same(where, name, record[name], details[name])
        if action == "profile.propose":
            for name in ("persona", "authorization_id"):
                if name in details:
                    _same(where, name, record[name], details[name])
            _same(where, "proposed_by", record["proposed_by"], entry["actor"])
            _same_row(where, lambda: profile_row_sha256(record), evidence.get("profile_row_sha256"),
                      "profile_row_sha256")
        history: Sequence[Record] = record["history"]
        if position >= len(history):
            raise _Mismatch(f"{where}: the change its entry records is missing from the history")
        item = history[position]
        where = f"{PROFILES_PATH}: profile {number}, change {position + 1} (entry {index})"
        if "transition" in details and "id" in item:
            _same(where, "id", item["id"], details["transition"])
        for shown, recorded in (("from", "from"), ("to", "to"), ("reason", "reason")):
            if recorded in details:
                _same(where, shown, item[shown], details[recorded])
        _same(where, "actor", item["actor"], entry["actor"])
        _same_row(where, lambda: transition_row_sha256(number, item), evidence.get("row_sha256"))

    def leftovers(self) -> None:
        """Every record had its entry; a profile's status and approval follow its recorded history."""
        for number in self.authorizations:
            if number not in self.registered:
                raise _Mismatch(
                    f"{AUTHORIZATIONS_PATH}: authorization {number} has no audit entry in the bundle"
                )
        for number, documents in self.documents.items():
            for document in documents:
                raise _Mismatch(
                    f"{AUTHORIZATIONS_PATH}: authorization {number}, document {document['filename']!r} "
                    "has no audit entry in the bundle"
                )
        for number, record in self.reviews.items():
            if record.get("decision") is not None and number not in self.decided:
                raise _Mismatch(
                    f"{REVIEWS_PATH}: the decision on review {number} has no audit entry in the bundle"
                )
        for number, record in self.profiles.items():
            history = record["history"]
            if self.changes.get(number, 0) != len(history):
                raise _Mismatch(
                    f"{PROFILES_PATH}: profile {number} has {len(history)} changes in its history, "
                    f"{self.changes.get(number, 0)} audit entries in the bundle"
                )
            where = f"{PROFILES_PATH}: profile {number}"
            _same(where, "status", record["status"], history[-1]["to"])
            approvals = [item for item in history if item["to"] == "active"]
            approver = approvals[-1]["actor"] if approvals else None
            _same(where, "approved_by", record["approved_by"], approver)
            _same(where, "approved_at", _time(record["approved_at"]),
                  _time(approvals[-1]["at"]) if approvals else None)


def check_legal_records(bundle: zipfile.ZipFile, entries: Entries) -> str | None:
    """Return the first mismatch between the authorizations, reviews and profiles and their entries.

    Applies to an operation's export (a bundle with ``operation.json``); other bundles pass.
    """
    if _operation_id(bundle) is None:
        return None
    try:
        records = _LegalRecords(bundle)
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        return f"a legal record file is malformed: {exc!r}"
    handlers: dict[str, Callable[[int, dict[str, Any]], None]] = {
        "authorization.register": records.authorization,
        "authorization.document_attach": records.document,
        "review.decide": records.decision,
        **{action: records.profile_change for action in PROFILE_ACTIONS},
    }
    try:
        for index in sorted(entries):
            handler = handlers.get(entries[index]["action"])
            if handler is not None:
                try:
                    handler(index, entries[index])
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    return f"entry {index}: its legal record is malformed: {exc!r}"
        try:
            records.leftovers()
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            return f"a legal record is malformed: {exc!r}"
    except _Mismatch as mismatch:
        return str(mismatch)
    return None


def rows_without_hash(entries: Entries) -> list[int]:
    """The indexes of legal-record entries recorded before row hashes (no ``row_sha256``)."""
    return [
        index
        for index, entry in sorted(entries.items())
        if entry.get("action") in ROW_HASHED_ACTIONS and "row_sha256" not in (entry.get("evidence") or {})
    ]


def note_rows_without_hash(entries: Entries) -> str | None:
    """A note naming the entries recorded before row hashes, which were checked for what they carry."""
    found = rows_without_hash(entries)
    if not found:
        return None
    shown = ", ".join(map(str, found[:10])) + (", …" if len(found) > 10 else "")
    return (
        "entries recorded before row hashes, whose records were checked for the fields they carry, not "
        f"for every column: {len(found)} ({shown})"
    )


#: Every check of an evidence bundle's files, in the order they run (after the audit part's own).
EVIDENCE_BUNDLE_CHECKS: tuple[BundleCheck, ...] = (check_transcripts, check_legal_records)
#: The remarks on an intact evidence bundle.
EVIDENCE_BUNDLE_NOTES: tuple[BundleNote, ...] = (note_rows_without_hash,)
