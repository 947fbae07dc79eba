"""Content hashes of evidence and legal-record rows, recorded in the audit log and recomputed by
`decoy audit verify` (and, for the legal records, by the bundle verifier from the bundle's files).

A row's fingerprint is the SHA-256 of the canonical JSON (the audit log's own encoding) of every
column that carries meaning, so that any change to a stored row, made by someone who bypassed the
database's triggers, no longer matches the hash in its signed audit entry. Who did something is the
account's id (a username is shown, an id is what the row holds); docs/evidence-format.md, "Row hashes".
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from audit.entry import canonical_json, format_time
from audit.evidence_bundle.records import text_commitment, text_matches


def text_sha256(text: str) -> str:
    """The SHA-256 of a text's UTF-8 bytes, exactly as stored."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def committed_text(text: str) -> dict[str, str]:
    """The columns of a new message's or note's text: its SHA-256, a fresh random key (32 bytes, hex) and
    the commitment under that key (docs/evidence-format.md, "Text commitments")."""
    salt = secrets.token_hex(32)
    return {
        "body_sha256": text_sha256(text), "body_salt": salt, "body_commitment": text_commitment(salt, text),
    }


def text_evidence(row: Mapping[str, Any]) -> dict[str, str]:
    """What an entry and a row hash record of a row's text: its commitment, or for a row recorded before
    commitments its ``body_sha256`` column (which a disposal keeps for such a row; text_problem checks it
    against the text while there is one)."""
    if row.get("body_commitment") is not None:
        return {"body_commitment": row["body_commitment"]}
    return {"body_sha256": row["body_sha256"]}


def text_problem(row: Mapping[str, Any]) -> str | None:
    """What is wrong with a stored text's hashes (None: the text hashes to its SHA-256 and, where it has a
    commitment, to its commitment under its key); an emptied text is the disposal checks' to judge."""
    if text_sha256(row["body"]) != row["body_sha256"]:
        return "the text differs from its recorded hash"
    commitment = row.get("body_commitment")
    if commitment is not None and not text_matches(row, {"body_commitment": commitment}, row["body"]):
        return "the text differs from its recorded commitment"
    return None


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


def _sha256(columns: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(columns)).hexdigest()


#: The columns of an order hashed as they are (the times, ids and officers are added in their forms).
AUTHORIZATION_TERMS = (
    "reference", "kind", "authority", "issuer_name", "legal_basis", "offence", "suspect_description",
    "justification", "method", "persona_constraints", "conditions", "review_interval_days",
    "platforms", "may_initiate_contact", "max_profiles", "supersedes_id",
)


#: The bounds of the persona's age an order may set (rule 11): each hashed only when set, so that the
#: fingerprint of an authorization registered without them is what it always was.
AUTHORIZATION_AGE_RANGE = ("persona_age_min", "persona_age_max")
#: The references of the advice and consent a legal basis needs: hashed only when set, likewise.
AUTHORIZATION_REFERENCES = ("advice_reference", "consent_reference")


def _when_set(row: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The columns among ``names`` that hold a value (a row without such a column holds none)."""
    return {name: row.get(name) for name in names if row.get(name) is not None}


def authorization_fingerprint(row: Mapping[str, Any], officer_ids: Iterable[int]) -> str:
    """The fingerprint of an authorization row with the ids of the officers it names."""
    issued_on: date | None = row["issued_on"]
    given = row.get("oral_order_given_at")
    return _sha256(
        {
            **_when_set(row, AUTHORIZATION_AGE_RANGE),
            **_when_set(row, AUTHORIZATION_REFERENCES),
            **({} if given is None else {"oral_order_given_at": _time(given)}),
            "id": row["id"],
            "operation_id": row["operation_id"],
            **{name: row[name] for name in AUTHORIZATION_TERMS},
            "platforms": list(row["platforms"]),
            "issued_on": None if issued_on is None else issued_on.isoformat(),
            "valid_from": _time(row["valid_from"]),
            "valid_until": _time(row["valid_until"]),
            "written_order_due": _time(row["written_order_due"]),
            "registered_by": row["registered_by"],
            "registered_at": _time(row["registered_at"]),
            "officers": sorted(officer_ids),
        }
    )


def decision_fingerprint(row: Mapping[str, Any]) -> str:
    """The fingerprint of a review decision row."""
    return _sha256(
        {
            "id": row["id"],
            "review_id": row["review_id"],
            "decision": row["decision"],
            "rationale": row["rationale"],
            "decided_by": row["decided_by"],
            "decided_at": _time(row["decided_at"]),
            "profiles": list(row["profiles"]),
        }
    )


def profile_fingerprint(row: Mapping[str, Any]) -> str:
    """The fingerprint of a profile's columns that never change (its status and approval follow its
    transitions); its persona's age only when it has one, so that older profiles hash as they did."""
    return _sha256(
        {
            **_when_set(row, ("persona_age",)),
            "id": row["id"],
            "operation_id": row["operation_id"],
            "authorization_id": row["authorization_id"],
            "platform": row["platform"],
            "handle": row["handle"],
            "persona": row["persona"],
            "proposed_by": row["proposed_by"],
            "proposed_at": _time(row["proposed_at"]),
        }
    )


def transition_fingerprint(row: Mapping[str, Any]) -> str:
    """The fingerprint of one change of a profile's status (a profile_transition row)."""
    return _sha256(
        {
            "id": row["id"],
            "profile_id": row["profile_id"],
            "from_status": row["from_status"],
            "to_status": row["to_status"],
            "actor": row["actor"],
            "reason": row["reason"],
            "at": _time(row["at"]),
        }
    )


def account_fingerprint(row: Mapping[str, Any]) -> str:
    """The fingerprint of an account's identity: its id, username and creation time (never changed)."""
    return _sha256({"id": row["id"], "username": row["username"], "created_at": _time(row["created_at"])})


def transition_evidence(transition: Any) -> dict[str, str]:
    """The evidence of an entry that records a change of a profile's status: its row's fingerprint."""
    return {"row_sha256": transition_fingerprint(columns(transition))}


def contact_fingerprint(row: Mapping[str, Any]) -> str:
    """The fingerprint of a contact row (an ORM object's ``__dict__`` or a Core row mapping)."""
    return hashlib.sha256(
        canonical_json(
            {
                "id": row["id"],
                "operation_id": row["operation_id"],
                "profile_id": row["profile_id"],
                "counterpart_sha256": text_sha256(row["counterpart"]),
                "first_seen_at": _time(row["first_seen_at"]),
                "flags": list(row["flags"]),
                "recorded_by": row["recorded_by"],
                "recorded_at": _time(row["recorded_at"]),
            }
        )
    ).hexdigest()


#: A message's provenance columns: hashed under "provenance" when any is set, so that the fingerprint of
#: a message recorded without them is what it always was.
MESSAGE_PROVENANCE = (
    "capture_session_id", "operated_by", "import_id", "source", "platform_message_id", "assumed_timezone",
)


def message_fingerprint(row: Mapping[str, Any], attachments: Sequence[Mapping[str, Any]]) -> str:
    """The fingerprint of a message row together with its attachment rows (in id order); the text by its
    commitment (or, recorded before commitments, its SHA-256), as text_evidence gives it."""
    provenance = {name: row.get(name) for name in MESSAGE_PROVENANCE}
    extra = {"provenance": provenance} if any(value is not None for value in provenance.values()) else {}
    return hashlib.sha256(
        canonical_json(
            {
                **extra,
                "id": row["id"],
                "operation_id": row["operation_id"],
                "contact_id": row["contact_id"],
                "direction": row["direction"],
                "sent_at": _time(row["sent_at"]),
                "sent_offset_minutes": row["sent_offset_minutes"],
                "recorded_at": _time(row["recorded_at"]),
                "recorded_by": row["recorded_by"],
                **text_evidence(row),
                "corrects_id": row["corrects_id"],
                "flags": list(row["flags"]),
                "attachments": [
                    {
                        "id": a["id"],
                        "sha256": a["sha256"],
                        "size": a["size"],
                        "media_type": a["media_type"],
                        "filename": a["filename"],
                        "operation_id": a["operation_id"],
                    }
                    for a in attachments
                ],
            }
        )
    ).hexdigest()


def columns(obj: Any) -> dict[str, Any]:
    """An ORM object's column values as a mapping."""
    return {column.key: getattr(obj, column.key) for column in obj.__table__.columns}


def capture_session_fingerprint(row: Mapping[str, Any]) -> str:
    """The fingerprint of a capture session row: who operated which profile, on what device with what
    tool, from when (its end is a row of its own)."""
    return _sha256(
        {
            "id": row["id"],
            "operation_id": row["operation_id"],
            "profile_id": row["profile_id"],
            "operated_by": row["operated_by"],
            "device": row["device"],
            "tool": row["tool"],
            "started_at": _time(row["started_at"]),
        }
    )


def capture_session_end_fingerprint(row: Mapping[str, Any]) -> str:
    """The fingerprint of the end of a capture session, with the officer's completeness statement and the
    gaps they knew of (verbatim)."""
    return _sha256(
        {
            "capture_session_id": row["capture_session_id"],
            "ended_by": row["ended_by"],
            "ended_at": _time(row["ended_at"]),
            "completeness_statement": row["completeness_statement"],
            "known_gaps": row["known_gaps"],
        }
    )
