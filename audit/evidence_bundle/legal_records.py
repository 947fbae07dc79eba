"""The legal records of an evidence bundle (authorizations, reviews, profiles) against their entries."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from typing import Any

from audit.evidence_bundle.kinds import kind_problem
from audit.evidence_bundle.records import (
    AUTHORIZATION_AGE_RANGE,
    AUTHORIZATION_REFERENCES,
    AUTHORIZATION_TERMS,
    AUTHORIZATION_TIMES,
    AUTHORIZATIONS_PATH,
    PROFILE_ACTIONS,
    PROFILE_AGE,
    PROFILES_PATH,
    REVIEWS_PATH,
    ROW_HASHED_ACTIONS,
    Entries,
    Mismatch,
    Record,
    as_time,
    authorization_row_sha256,
    decision_row_sha256,
    json_file,
    operation_id,
    profile_row_sha256,
    registered,
    transition_row_sha256,
    withdrawal_row_sha256,
)

__all__ = ["check_legal_records", "note_rows_without_hash", "rows_without_hash"]


def _same(where: str, field: str, shown: Any, recorded: Any) -> None:
    if shown != recorded:
        raise Mismatch(f"{where}: {field} is {shown!r}, the audit entry recorded {recorded!r}")


def _same_row(where: str, shown: Callable[[], str], recorded: Any, key: str = "row_sha256") -> None:
    """The record hashes to the entry's row hash, when the entry carries one."""
    if recorded is None:
        return
    try:
        digest = shown()
    except KeyError as exc:
        raise Mismatch(f"{where}: lacks {exc.args[0]!r}, which its audit entry's {key} covers") from exc
    if digest != recorded:
        raise Mismatch(f"{where}: the record differs from the row its audit entry hashed ({key})")


class _LegalRecords:
    """The legal records of an operation's bundle, taken off one by one as their entries are met."""

    def __init__(self, bundle: zipfile.ZipFile) -> None:
        self.authorizations: dict[Any, Record] = {a["id"]: a for a in json_file(bundle, AUTHORIZATIONS_PATH)}
        self.documents: dict[Any, list[Record]] = {
            key: list(record.get("documents", [])) for key, record in self.authorizations.items()
        }
        self.reviews: dict[Any, Record] = {
            r["id"]: r for r in json_file(bundle, REVIEWS_PATH) if type(r["id"]) is int
        }
        self.profiles: dict[Any, Record] = {p["id"]: p for p in json_file(bundle, PROFILES_PATH)}
        self.withdrawals: dict[Any, Record] = {
            record["withdrawal"]["id"]: record
            for record in self.authorizations.values()
            if record.get("withdrawal")
        }
        self.withdrawn: set[Any] = set()
        self.registered: set[Any] = set()
        self.decided: set[Any] = set()
        self.changes: dict[Any, int] = {}  # entries met per profile: the next history item's position

    def authorization(self, index: int, entry: dict[str, Any]) -> None:
        number = entry["object"]["id"]
        record = self.authorizations.get(number)
        if record is None or number in self.registered:
            raise Mismatch(f"entry {index}: authorization {number} is missing from {AUTHORIZATIONS_PATH}")
        self.registered.add(number)
        where = f"{AUTHORIZATIONS_PATH}: authorization {number} (entry {index})"
        details = entry["details"]
        changed = kind_problem(registered(record, "kind"), record["kind"], record["authority"])
        if changed:
            raise Mismatch(f"{where}: {changed}")
        for name in AUTHORIZATION_TERMS:
            if name in details:
                _same(where, name, registered(record, name), details[name])
        for name in (*AUTHORIZATION_AGE_RANGE, *AUTHORIZATION_REFERENCES):
            if name in details:
                _same(where, name, record.get(name), details[name])
        if "oral_order_given_at" in details:
            shown = as_time(record.get("oral_order_given_at"))
            _same(where, "oral_order_given_at", shown, as_time(details["oral_order_given_at"]))
        for name in AUTHORIZATION_TIMES:
            if name in details:
                _same(where, name, as_time(record[name]), as_time(details[name]))
        if "officers" in details:
            _same(where, "officers", sorted(record["officers"]), sorted(details["officers"]))
        _same(where, "registered_by", record["registered_by"], entry["actor"])
        recorded = entry["evidence"].get("row_sha256")
        _same_row(where, lambda: authorization_row_sha256(record), recorded)

    def withdrawal(self, index: int, entry: dict[str, Any]) -> None:
        number, details = entry["object"]["id"], entry["details"]
        record = self.withdrawals.get(number)
        if record is None or number in self.withdrawn:
            raise Mismatch(f"entry {index}: withdrawal {number} is missing from {AUTHORIZATIONS_PATH}")
        self.withdrawn.add(number)
        withdrawal = record["withdrawal"]
        where = f"{AUTHORIZATIONS_PATH}: authorization {record['id']}, withdrawal {number} (entry {index})"
        _same(where, "authorization_id", record["id"], details["authorization_id"])
        _same(where, "effective_at", as_time(withdrawal["effective_at"]), as_time(details["effective_at"]))
        _same(where, "withdrawn_by", withdrawal["withdrawn_by"], entry["actor"])
        recorded = entry["evidence"].get("row_sha256")
        _same_row(where, lambda: withdrawal_row_sha256(record, withdrawal), recorded)

    def document(self, index: int, entry: dict[str, Any]) -> None:
        number, details = entry["object"]["id"], entry["details"]
        ((filename, sha256),) = entry["evidence"].items()
        listed = self.documents.get(number, [])
        wanted = (filename, sha256, details["kind"])
        found = next((d for d in listed if (d["filename"], d["sha256"], d["kind"]) == wanted), None)
        if found is None:
            raise Mismatch(
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
            raise Mismatch(f"entry {index}: the decision on review {number} is missing from {REVIEWS_PATH}")
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
            raise Mismatch(f"entry {index}: profile {number} is missing from {PROFILES_PATH}")
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
            if PROFILE_AGE in details:
                _same(where, PROFILE_AGE, record.get(PROFILE_AGE), details[PROFILE_AGE])
            _same(where, "proposed_by", record["proposed_by"], entry["actor"])
            _same_row(where, lambda: profile_row_sha256(record), evidence.get("profile_row_sha256"),
                      "profile_row_sha256")
        history: Sequence[Record] = record["history"]
        if position >= len(history):
            raise Mismatch(f"{where}: the change its entry records is missing from the history")
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
                raise Mismatch(
                    f"{AUTHORIZATIONS_PATH}: authorization {number} has no audit entry in the bundle"
                )
        for number, record in self.withdrawals.items():
            if number not in self.withdrawn:
                raise Mismatch(
                    f"{AUTHORIZATIONS_PATH}: authorization {record['id']}, withdrawal {number} has no audit "
                    "entry in the bundle"
                )
        for number, documents in self.documents.items():
            for document in documents:
                raise Mismatch(
                    f"{AUTHORIZATIONS_PATH}: authorization {number}, document {document['filename']!r} "
                    "has no audit entry in the bundle"
                )
        for number, record in self.reviews.items():
            if record.get("decision") is not None and number not in self.decided:
                raise Mismatch(
                    f"{REVIEWS_PATH}: the decision on review {number} has no audit entry in the bundle"
                )
        for number, record in self.profiles.items():
            history = record["history"]
            if self.changes.get(number, 0) != len(history):
                raise Mismatch(
                    f"{PROFILES_PATH}: profile {number} has {len(history)} changes in its history, "
                    f"{self.changes.get(number, 0)} audit entries in the bundle"
                )
            where = f"{PROFILES_PATH}: profile {number}"
            _same(where, "status", record["status"], history[-1]["to"])
            approvals = [item for item in history if item["to"] == "active"]
            approver = approvals[-1]["actor"] if approvals else None
            _same(where, "approved_by", record["approved_by"], approver)
            _same(where, "approved_at", as_time(record["approved_at"]),
                  as_time(approvals[-1]["at"]) if approvals else None)


def check_legal_records(bundle: zipfile.ZipFile, entries: Entries) -> str | None:
    """Return the first mismatch between the authorizations, reviews and profiles and their entries.

    Applies to an operation's export (a bundle with ``operation.json``); other bundles pass.
    """
    if operation_id(bundle) is None:
        return None
    try:
        records = _LegalRecords(bundle)
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        return f"a legal record file is malformed: {exc!r}"
    handlers: dict[str, Callable[[int, dict[str, Any]], None]] = {
        "authorization.register": records.authorization,
        "authorization.document_attach": records.document,
        "authorization.withdraw": records.withdrawal,
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
    except Mismatch as mismatch:
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
