"""The files of an evidence bundle and the row hashes of its legal records (docs/evidence-format.md,
section "Row hashes"): what the bundle's checks share. Standard library only."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from audit.entry import canonical_json, format_time

__all__ = [
    "AUTHORIZATIONS_PATH",
    "AUTHORIZATION_AGE_RANGE",
    "AUTHORIZATION_REFERENCES",
    "AUTHORIZATION_TERMS",
    "AUTHORIZATION_TIMES",
    "PROFILES_PATH",
    "PROFILE_ACTIONS",
    "PROFILE_AGE",
    "REVIEWS_PATH",
    "ROW_HASHED_ACTIONS",
    "TRANSCRIPT_SUFFIX",
    "Entries",
    "Mismatch",
    "Record",
    "as_time",
    "authorization_row_sha256",
    "registered",
    "withdrawal_row_sha256",
    "decision_row_sha256",
    "json_file",
    "listed_text_matches",
    "operation_id",
    "profile_row_sha256",
    "text_commitment",
    "text_matches",
    "text_sha256",
    "transition_row_sha256",
]

WITHHELD_PATH = "withheld.json"
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
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
AUTHORIZATION_TERMS = (
    "reference", "kind", "authority", "issuer_name", "legal_basis", "offence", "suspect_description",
    "justification", "method", "persona_constraints", "conditions", "issued_on", "review_interval_days",
    "platforms", "may_initiate_contact", "max_profiles", "supersedes_id",
)
AUTHORIZATION_TIMES = ("valid_from", "valid_until", "written_order_due")
#: The bounds of the persona's age an order may set, and the age a profile's persona gives: each in the
#: row hash only when set (a record from before them lacks them), so older rows hash as they always did.
AUTHORIZATION_AGE_RANGE = ("persona_age_min", "persona_age_max")
#: The references of the advice and consent an order's legal basis needs: in the row hash when set.
AUTHORIZATION_REFERENCES = ("advice_reference", "consent_reference")
PROFILE_AGE = "persona_age"

Record = dict[str, Any]
Entries = dict[int, dict[str, Any]]


class Mismatch(Exception):
    """A record differs from its entry (the message names both)."""


def text_sha256(text: str) -> str:
    """SHA-256 hex of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def text_commitment(salt: str, text: str) -> str:
    """The commitment of a text: HMAC-SHA256 of its UTF-8 bytes keyed with the salt's bytes (hex in, hex
    out). Without the salt, nobody can tell which text it commits to, however short the text."""
    return hmac.new(bytes.fromhex(salt), text.encode("utf-8"), hashlib.sha256).hexdigest()


def text_matches(item: Mapping[str, Any], recorded: Mapping[str, Any], text: str) -> bool:
    """Whether ``text`` is the text an entry's ``recorded`` hashes name: by its commitment under the
    item's ``body_salt`` where the entry carries ``body_commitment``, else by its ``body_sha256``."""
    commitment = recorded.get("body_commitment")
    if commitment is None:
        return text_sha256(text) == recorded.get("body_sha256")
    salt = item.get("body_salt")
    if not (isinstance(salt, str) and _HEX64.match(salt) and isinstance(commitment, str)):
        return False
    return hmac.compare_digest(text_commitment(salt, text).encode(), commitment.encode("utf-8"))


def _row_sha256(columns: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(columns))).hexdigest()


def as_time(value: Any) -> str | None:
    """An RFC 3339 time as the row hashes write it (UTC, microseconds, "Z"); None stays None."""
    if value is None:
        return None
    if type(value) is not str:
        raise ValueError(f"{value!r} is not a time")
    return format_time(datetime.fromisoformat(value))


def _when_set(record: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The fields among ``names`` that hold a value (absent or null ones are left out)."""
    return {name: record.get(name) for name in names if record.get(name) is not None}


def registered(record: Mapping[str, Any], name: str) -> Any:
    """A term of an authorization as it was registered: its kind before a migration gave it the law's
    name (``registered_kind``), every other term as shown."""
    if name == "kind" and record.get("registered_kind") is not None:
        return record["registered_kind"]
    return record[name]


def authorization_row_sha256(record: Mapping[str, Any]) -> str:
    """The row hash of an authorization as ``authorizations.json`` shows it (with its account ids)."""
    given = record.get("oral_order_given_at")
    return _row_sha256(
        {
            **_when_set(record, AUTHORIZATION_AGE_RANGE),
            **_when_set(record, AUTHORIZATION_REFERENCES),
            **({} if given is None else {"oral_order_given_at": as_time(given)}),
            **{name: registered(record, name) for name in ("id", "operation_id", *AUTHORIZATION_TERMS)},
            **{name: as_time(record[name]) for name in AUTHORIZATION_TIMES},
            "registered_by": record["registered_by_id"],
            "registered_at": as_time(record["registered_at"]),
            "officers": sorted(record["officer_ids"]),
        }
    )


def withdrawal_row_sha256(authorization: Mapping[str, Any], withdrawal: Mapping[str, Any]) -> str:
    """The row hash of an order's withdrawal as ``authorizations.json`` shows it (its reason hashed)."""
    return _row_sha256(
        {
            "id": withdrawal["id"],
            "authorization_id": authorization["id"],
            "operation_id": authorization["operation_id"],
            "effective_at": as_time(withdrawal["effective_at"]),
            "reason_sha256": text_sha256(withdrawal["reason"]),
            "withdrawn_by": withdrawal["withdrawn_by_id"],
            "recorded_at": as_time(withdrawal["recorded_at"]),
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
            "decided_at": as_time(decision["decided_at"]),
            "profiles": list(decision["profiles"]),
        }
    )


def profile_row_sha256(record: Mapping[str, Any]) -> str:
    """The row hash of a profile's fixed columns as ``profiles.json`` shows them."""
    return _row_sha256(
        {
            **_when_set(record, (PROFILE_AGE,)),
            "id": record["id"],
            "operation_id": record["operation_id"],
            "authorization_id": record["authorization_id"],
            "platform": record["platform"],
            "handle": record["handle"],
            "persona": record["persona"],
            "proposed_by": record["proposed_by_id"],
            "proposed_at": as_time(record["proposed_at"]),
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
            "at": as_time(item["at"]),
        }
    )


def operation_id(bundle: zipfile.ZipFile) -> int | None:
    """The id in operation.json, when the bundle is an operation's export."""
    try:
        return int(json.loads(bundle.read("operation.json").decode("utf-8"))["id"])
    except KeyError:
        return None


def listed_text_matches(item: Mapping[str, Any], recorded: Mapping[str, Any]) -> bool:
    """Whether a text withheld.json lists (a message's, a note's) is listed by what its entry recorded:
    its ``commitment`` where the entry carries ``body_commitment``, else its ``sha256``."""
    if recorded.get("body_commitment") is not None:
        return item.get("commitment") == recorded["body_commitment"] and "sha256" not in item
    return item.get("sha256") == recorded.get("body_sha256")


def listed_items(bundle: zipfile.ZipFile) -> dict[tuple[str, Any], dict[str, Any]]:
    """The items ``withheld.json`` lists (withheld or sensitive, shown only by hash), by kind and id."""
    return {(item["kind"], item["id"]): item for item in json_file(bundle, WITHHELD_PATH)}


def json_file(bundle: zipfile.ZipFile, name: str) -> Any:
    """A JSON member of the bundle, or an empty list when it is absent."""
    try:
        return json.loads(bundle.read(name).decode("utf-8"))
    except KeyError:
        return []
