"""The initiative record of a contact (docs/evidence-format.md, "Initiative"): the initiative sheet computed
from annotations and the platform times of the messages they mark, and the row hashes of annotations,
dismissed suggestions and assessments. Decoy computes the sheet with these functions and the offline
verifier computes it again from a bundle's files, so both read the evidence the same way. Standard
library only.

The sheet (rule 8: never guessed): per topic, the first officer's annotation that is not retracted, by
the platform time of the message it marks (then the message id, then the annotation id); who sent that
message raised the topic first: ``decoy`` for an outgoing message, ``counterpart`` for an incoming one.
A legal officer's annotation is a review remark and never counts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from audit.entry import canonical_json, format_time
from audit.evidence_bundle.records import listed_items

__all__ = [
    "INCITEMENT_TOPICS",
    "LEGAL",
    "OFFICER",
    "TOPICS",
    "annotation_row_sha256",
    "assessment_row_sha256",
    "check_initiative",
    "dismissal_row_sha256",
    "initiative_sheet",
]

#: The topics an annotation may mark, in the order the sheet lists them.
TOPICS = (
    "age_stated",
    "sexual_topic",
    "meeting_proposed",
    "payment_offered",
    "image_requested",
    "image_sent",
)
#: The topics whose first raising by the decoy flags the contact ``decoy_raised_first``.
INCITEMENT_TOPICS = ("sexual_topic", "meeting_proposed", "payment_offered", "image_requested")
#: An annotation by an officer of the operation (counts) or a legal officer's review remark (never counts).
OFFICER = "officer"
LEGAL = "legal"


def _instant(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.utcoffset() is None:
        raise ValueError(f"{value!r} has no offset")
    return moment


def initiative_sheet(
    annotations: Iterable[Mapping[str, Any]], messages: Mapping[int, Mapping[str, Any]]
) -> dict[str, Any]:
    """The initiative sheet of one contact.

    ``annotations``: each with ``id``, ``message_id``, ``topic``, ``age``, ``retracts_id`` and ``role``;
    ``messages``: by id, each with ``sent_at`` (an aware datetime or RFC 3339 text with the platform's
    offset) and ``direction``. Answers ``{"topics": {topic: {"first_by", "message_id", "at",
    "annotation_id"[, "age"]} or None}, "age_to_meeting_seconds": int or None, "raised_first": [topic]}``
    where ``at`` is the message's platform time with its offset and ``raised_first`` lists the
    incitement topics the decoy raised first.
    """
    listed = list(annotations)
    retracted = {a["retracts_id"] for a in listed if a.get("retracts_id") is not None}
    firsts: dict[str, tuple[tuple[datetime, int, int], Mapping[str, Any], Mapping[str, Any]]] = {}
    for annotation in listed:
        if (
            annotation["role"] != OFFICER
            or annotation.get("retracts_id") is not None
            or annotation["id"] in retracted
        ):
            continue
        message = messages[annotation["message_id"]]
        key = (_instant(message["sent_at"]), int(annotation["message_id"]), int(annotation["id"]))
        topic = annotation["topic"]
        if topic not in firsts or key < firsts[topic][0]:
            firsts[topic] = (key, annotation, message)
    topics: dict[str, Any] = dict.fromkeys(TOPICS)
    for topic, (key, annotation, message) in firsts.items():
        first = {
            "first_by": "decoy" if message["direction"] == "out" else "counterpart",
            "message_id": annotation["message_id"],
            "at": key[0].isoformat(),
            "annotation_id": annotation["id"],
        }
        if topic == "age_stated":
            first["age"] = annotation.get("age")
        topics[topic] = first
    age, meeting = firsts.get("age_stated"), firsts.get("meeting_proposed")
    seconds = None
    if age is not None and meeting is not None:
        seconds = int((meeting[0][0] - age[0][0]).total_seconds())
    raised = [t for t in INCITEMENT_TOPICS if topics[t] is not None and topics[t]["first_by"] == "decoy"]
    return {"topics": topics, "age_to_meeting_seconds": seconds, "raised_first": raised}


def _sha256(columns: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(columns))).hexdigest()


def _time(value: Any) -> str:
    return format_time(_instant(value))


def annotation_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of an annotation (its columns, account id as ``annotated_by``)."""
    return _sha256(
        {
            "id": row["id"],
            "operation_id": row["operation_id"],
            "contact_id": row["contact_id"],
            "message_id": row["message_id"],
            "topic": row["topic"],
            "age": row["age"],
            "retracts_id": row["retracts_id"],
            "role": row["role"],
            "suggested_term": row["suggested_term"],
            "remark": row["remark"],
            "annotated_by": row["annotated_by"],
            "annotated_at": _time(row["annotated_at"]),
        }
    )


def dismissal_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of a dismissed suggestion."""
    return _sha256(
        {
            "id": row["id"],
            "operation_id": row["operation_id"],
            "contact_id": row["contact_id"],
            "message_id": row["message_id"],
            "topic": row["topic"],
            "term": row["term"],
            "dismissed_by": row["dismissed_by"],
            "dismissed_at": _time(row["dismissed_at"]),
        }
    )


def assessment_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of a contact's recorded assessment."""
    return _sha256(
        {
            "id": row["id"],
            "operation_id": row["operation_id"],
            "contact_id": row["contact_id"],
            "cause": row["cause"],
            "cause_id": row["cause_id"],
            "basis_message_id": row["basis_message_id"],
            "flags": list(row["flags"]),
            "raised_first": list(row["raised_first"]),
            "message_flags": {str(key): list(value) for key, value in row["message_flags"].items()},
            "sheet": row["sheet"],
            "assessed_at": _time(row["assessed_at"]),
        }
    )


#: The entries of the initiative record, and the list of ``initiative.json`` that holds each one's row.
_RECORDED = {
    "annotation.create": ("annotations", annotation_row_sha256, "annotation"),
    "suggestion.dismiss": ("dismissals", dismissal_row_sha256, "dismissed suggestion"),
    "contact.assess": ("assessments", assessment_row_sha256, "assessment"),
}
INITIATIVE_SUFFIX = "/initiative.json"
_TRANSCRIPT_SUFFIX = "/transcript.json"


def _records(bundle: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every initiative.json of the bundle by name, with the contact's transcript messages by id."""
    import json

    listed = listed_items(bundle)
    found = {}
    for name in sorted(bundle.namelist()):
        if name.startswith("contacts/") and name.endswith(INITIATIVE_SUFFIX):
            record = json.loads(bundle.read(name).decode("utf-8"))
            transcript_name = name.removesuffix(INITIATIVE_SUFFIX) + _TRANSCRIPT_SUFFIX
            transcript = json.loads(bundle.read(transcript_name).decode("utf-8"))
            # A message withheld from the transcript keeps its direction and platform time in withheld.json.
            contact_id = transcript["contact"]["id"]
            messages = transcript["messages"] + [
                {"id": item["id"], "direction": item["direction"], "sent_at": item["sent_at"]}
                for (kind, _id), item in listed.items()
                if kind == "message" and item.get("contact_id") == contact_id
            ]
            found[name] = (transcript_name, {"record": record, "messages": messages})
    return found


def _check_sheet(name: str, record: dict[str, Any], messages: list[dict[str, Any]]) -> str | None:
    """The sheet shown is the one the annotations and the transcript's platform times give."""
    by_id = {m["id"]: m for m in messages}
    for annotation in record["annotations"]:
        if annotation["message_id"] not in by_id:
            marked = annotation["message_id"]
            return f"{name}: annotation {annotation['id']} marks message {marked}, not in the transcript"
    if initiative_sheet(record["annotations"], by_id) != record["sheet"]:
        return f"{name}: the initiative sheet is not the one its annotations give"
    assessments = record["assessments"]
    if (list(assessments[-1]["flags"]) if assessments else []) != list(record["flags"]):
        return f"{name}: the contact's flags are not its latest assessment's"
    return None


def check_initiative(bundle: Any, entries: dict[int, dict[str, Any]]) -> str | None:
    """The initiative records of a bundle against their entries, both ways: each annotation, dismissed
    suggestion and assessment hashes to its entry's ``row_sha256`` and names its actor; each such entry
    has its record; and each sheet is the one its annotations and the transcript's times give."""
    try:
        records = _records(bundle)
    except (KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
        return f"an initiative record is malformed: {exc!r}"
    rows: dict[tuple[str, Any], tuple[str, dict[str, Any]]] = {}
    try:
        for name, (_transcript, found) in records.items():
            problem = _check_sheet(name, found["record"], found["messages"])
            if problem:
                return problem
            for action, (key, _hash, _what) in _RECORDED.items():
                for row in found["record"][key]:
                    rows[(action, row["id"])] = (name, row)
        for index in sorted(entries):
            entry = entries[index]
            action = entry.get("action")
            if action not in _RECORDED:
                continue
            key, row_sha256, what = _RECORDED[action]
            object_id = (entry.get("object") or {}).get("id")
            shown = rows.pop((action, object_id), None)
            if shown is None:
                return f"entry {index}: {what} {object_id} is missing from the initiative records"
            name, row = shown
            if row_sha256(row) != (entry.get("evidence") or {}).get("row_sha256"):
                return f"{name}: {what} {object_id} differs from the row recorded in entry {index}"
            if "by" in row and row["by"] != entry.get("actor"):
                actor = entry.get("actor")
                return f"{name}: {what} {object_id} made by {row['by']!r}, entry {index} says {actor!r}"
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        return f"an initiative record is malformed: {exc!r}"
    if rows:
        (action, object_id), (name, _row) = next(iter(rows.items()))
        return f"{name}: {_RECORDED[action][2]} {object_id} has no audit entry in the bundle"
    return None
