"""Canonical encoding of an audit entry: sorted-key compact UTF-8 JSON without floats.

The exact bytes produced here are what the Merkle tree hashes, so the encoding must be reproducible
by an independent implementation; docs/evidence-format.md specifies it with test vectors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

__all__ = [
    "ENTRY_FIELDS",
    "FORMAT_VERSION",
    "EntryInput",
    "canonical_json",
    "checked_orjson",
    "decode_entries",
    "decode_entry",
    "encode_entry",
    "encode_entry_parts",
    "format_time",
]

FORMAT_VERSION = 1
ENTRY_FIELDS = frozenset(
    {"v", "index", "time", "actor", "action", "object", "operation", "request", "evidence", "details"}
)
# Integers outside the signed 64-bit range lose precision in many JSON parsers, so they are refused.
_INT_MIN = -(1 << 63)
_INT_MAX = (1 << 63) - 1
_MAX_DEPTH = 32
_OBJECT_FIELDS = frozenset({"type", "id"})
_SHA256_HEX = re.compile(r"[0-9a-f]{64}\Z")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z\Z")

_encoder = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":"), check_circular=False
)


def _refuse_float(text: str) -> Any:
    raise ValueError(f"floats are not allowed in audit entries: {text}")


def _parse_int(text: str) -> int:
    value = int(text)
    if not _INT_MIN <= value <= _INT_MAX:
        raise ValueError("integer outside the signed 64-bit range")
    return value


# Refusing floats and oversized integers while parsing spares a second walk over the decoded value.
_checked_decoder = json.JSONDecoder(
    parse_float=_refuse_float, parse_constant=_refuse_float, parse_int=_parse_int
)
# Most entries have no integer long enough to leave the 64-bit range; they skip the per-integer hook.
_fast_decoder = json.JSONDecoder(parse_float=_refuse_float, parse_constant=_refuse_float)
# bytes.translate and a substring search find a run of 19 digits ten times faster than a regex.
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x78 for byte in range(256))
_NINETEEN_DIGITS = b"0" * 19


def _make_verifying_encoder() -> Callable[[object], str]:
    """Return the C encoder made once, as JSONEncoder.encode makes it on every call (3x slower); the
    writer's canonical_json and the verifier both encode with it.

    It relies on json's private C hook, so it is checked against the public encoder and replaced by
    it if the two ever differ.
    """
    try:
        from json.encoder import c_encode_basestring, c_make_encoder  # type: ignore[attr-defined]

        iterencode = c_make_encoder(
            None, _encoder.default, c_encode_basestring, None, ":", ",", True, False, False
        )

        def encode(obj: object) -> str:
            return "".join(iterencode(obj, 0))

        sample = {"b": [1, None, True, False, '\u00e9\n"\\\x01\u2028'], "a": {"x": -3, "": []}}
        if encode(sample) != _encoder.encode(sample):
            raise ValueError("the C encoder differs")
        return encode
    except Exception:  # any surprise in a private API means: use the public one
        return _encoder.encode


_verifying_encode = _make_verifying_encoder()


def _load_orjson() -> ModuleType | None:
    """Return orjson if it is installed and encodes a sample exactly as the canonical encoder does.

    On the values canonical_json admits (strings, integers in 64 bits, booleans, null, lists, objects
    with string keys) the two encoders agree byte for byte: docs/verifier-performance.md, "The orjson
    fast path". The writer encodes with it (about five times as fast) and the batch decoder
    (audit.entry_batch) tries its blocks with it first; without it both use the standard library.
    """
    try:
        import orjson  # noqa: PLC0415 - optional: the library runs without it

        text = '\u00e9\n"\\\x01\x1f\x7f\u2028\U0001f600'
        sample: dict[str, object] = {"b": [1, None, True, False, text], "a": {"x": -3, "": []}}
        sample["\uffff"] = sample["\U00010000"] = 0
        if orjson.dumps(sample, option=orjson.OPT_SORT_KEYS) != _verifying_encode(sample).encode("utf-8"):
            return None
        return orjson
    except Exception:  # not installed, or any surprise: the standard library alone encodes
        return None


_orjson = _load_orjson()


def checked_orjson() -> ModuleType | None:
    """orjson when it is installed and encodes as the canonical encoder does (see _load_orjson), else None:
    for the batch decoder, which tries its blocks with it first."""
    return _orjson


def _check_value(value: object, depth: int = 0) -> None:
    """Refuse anything but str, int, bool, None, list and dict with str keys."""
    if depth > _MAX_DEPTH:
        raise ValueError("audit entry nested too deeply")
    if value is None or isinstance(value, bool | str):
        return
    if type(value) is int:
        if not _INT_MIN <= value <= _INT_MAX:
            raise ValueError("integer outside the signed 64-bit range")
        return
    if type(value) is list:
        _check_items(value, depth + 1)
        return
    if type(value) is dict:
        for key in value:
            if type(key) is not str:
                raise ValueError("object keys must be strings")
        _check_items(value.values(), depth + 1)
        return
    raise ValueError(f"{type(value).__name__} is not allowed in audit entries")


def _check_items(items: Iterable[object], depth: int) -> None:
    """_check_value of each item at ``depth``: the common plain str, None and in-range int are passed
    here without a call each (most of an entry's values are those), anything else is _check_value's."""
    for item in items:
        kind = type(item)
        if depth <= _MAX_DEPTH and (
            kind is str or item is None or (kind is int and _INT_MIN <= item <= _INT_MAX)  # type: ignore[operator]
        ):
            continue
        _check_value(item, depth)


def canonical_json(obj: object) -> bytes:
    """Return the canonical encoding of a JSON value (sorted keys, no whitespace, UTF-8, no floats)."""
    _check_value(obj)
    try:
        if _orjson is not None:
            return _orjson.dumps(obj, option=_orjson.OPT_SORT_KEYS)  # type: ignore[no-any-return]
        return _verifying_encode(obj).encode("utf-8")
    except (UnicodeEncodeError, TypeError) as exc:
        # A lone surrogate has no UTF-8 form (orjson's JSONEncodeError is a TypeError); the check above
        # admitted nothing else either encoder refuses.
        raise ValueError("string is not valid Unicode") from exc


def format_time(moment: datetime) -> str:
    """Return an aware datetime as RFC 3339 UTC with microseconds and "Z"."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("audit entry time must be timezone-aware")
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


@dataclass(frozen=True)
class EntryInput:
    """What the caller says happened; the store adds ``v`` and ``index``.

    ``object`` is ``{"type": str, "id": str | int | None}``; ``evidence`` maps a name to a lowercase
    hex SHA-256 or a list of them.
    """

    time: datetime
    actor: str
    action: str
    object: Mapping[str, str | int | None]
    operation: int | None = None
    request: str | None = None
    evidence: Mapping[str, str | list[str]] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)


def _nonempty_str(name: str, value: object) -> str:
    if type(value) is not str or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return value


def _check_object(value: object) -> dict[str, str | int | None]:
    if not isinstance(value, Mapping) or set(value) != {"type", "id"}:
        raise ValueError('object must be {"type": ..., "id": ...}')
    _nonempty_str("object.type", value["type"])
    object_id = value["id"]
    if object_id is not None and type(object_id) not in (str, int):
        raise ValueError("object.id must be a string, an integer or null")
    return {"type": value["type"], "id": object_id}


def _check_evidence(value: object) -> dict[str, str | list[str]]:
    if not isinstance(value, Mapping):
        raise ValueError("evidence must be a mapping")
    result: dict[str, str | list[str]] = {}
    for name, digest in value.items():
        _nonempty_str("evidence name", name)
        digests = digest if type(digest) is list else [digest]
        for item in digests:
            if type(item) is not str or not _SHA256_HEX.match(item):
                raise ValueError(f"evidence {name!r} must be lowercase hex SHA-256 (or a list of them)")
        result[name] = list(digest) if type(digest) is list else digest
    return result


def _check_fields(entry: EntryInput, details: object) -> None:
    """Validate the entry's fields that _check_object and _check_evidence do not (the types of actor,
    action, operation, request and details); what they hold is canonical_json's to check."""
    _nonempty_str("actor", entry.actor)
    _nonempty_str("action", entry.action)
    if entry.operation is not None and type(entry.operation) is not int:
        raise ValueError("operation must be an integer or null")
    if entry.request is not None and type(entry.request) is not str:
        raise ValueError("request must be a string or null")
    if type(details) is not dict:
        raise ValueError("details must be an object")


def _check_decoded_fields(obj: dict[str, Any]) -> None:
    """The checks of _check_fields for a freshly parsed entry, without copying anything."""
    actor, action, target = obj["actor"], obj["action"], obj["object"]
    if type(actor) is not str or not actor or type(action) is not str or not action:
        raise ValueError("actor and action must be non-empty strings")
    if type(target) is not dict or target.keys() != _OBJECT_FIELDS:
        raise ValueError('object must be {"type": ..., "id": ...}')
    kind, identifier = target["type"], target["id"]
    if type(kind) is not str or not kind or (identifier is not None and type(identifier) not in (str, int)):
        raise ValueError("object.type must be a non-empty string, object.id a string, integer or null")
    operation, request = obj["operation"], obj["request"]
    if (operation is not None and type(operation) is not int) or (
        request is not None and type(request) is not str
    ):
        raise ValueError("operation must be an integer or null, request a string or null")
    evidence = obj["evidence"]
    if type(evidence) is not dict or type(obj["details"]) is not dict:
        raise ValueError("evidence and details must be objects")
    for name, digest in evidence.items():
        digests = digest if type(digest) is list else (digest,)
        if not name or not all(type(d) is str and _SHA256_HEX.match(d) for d in digests):
            raise ValueError(f"evidence {name!r} must be lowercase hex SHA-256 (or a list of them)")


def encode_entry(entry: EntryInput, index: int) -> bytes:
    """Return the canonical bytes of ``entry`` at log position ``index``."""
    if type(index) is not int or not 0 <= index <= _INT_MAX:
        raise ValueError("index must be a non-negative integer")
    return canonical_json(_entry_object(entry, index))


def encode_entry_parts(entry: EntryInput) -> tuple[bytes, bytes]:
    """The canonical bytes of ``entry`` around its index: ``prefix + str(index) + suffix`` (as ASCII
    digits) is ``encode_entry(entry, index)`` for every index, for a writer that learns the index last.

    With sorted keys the top-level "index" member comes after "evidence" and before "object": the
    members before it and those after it are encoded as two objects, whose braces become the joints.
    """
    obj = _entry_object(entry, 0)
    before = canonical_json({key: value for key, value in obj.items() if key < "index"})
    after = canonical_json({key: value for key, value in obj.items() if key > "index"})
    return before[:-1] + b',"index":', b"," + after[1:]


def _entry_object(entry: EntryInput, index: int) -> dict[str, object]:
    """The entry as the JSON object that is encoded, its fields checked (their values by canonical_json)."""
    obj: dict[str, object] = {
        "v": FORMAT_VERSION,
        "index": index,
        "time": format_time(entry.time),
        "actor": entry.actor,
        "action": entry.action,
        "object": _check_object(entry.object),
        "operation": entry.operation,
        "request": entry.request,
        "evidence": _check_evidence(entry.evidence),
        "details": dict(entry.details) if isinstance(entry.details, Mapping) else entry.details,
    }
    _check_fields(entry, obj["details"])
    return obj


def decode_entry(data: bytes) -> dict[str, Any]:
    """Parse entry bytes, refusing anything that is not exactly the canonical encoding of a valid entry."""
    data = bytes(data)
    decoder = _checked_decoder if _NINETEEN_DIGITS in data.translate(_DIGITS_AS_ZERO) else _fast_decoder
    try:
        text = data.decode("utf-8")
        obj, end = decoder.scan_once(text, 0)  # type: ignore[attr-defined]
    except StopIteration as exc:
        raise ValueError("entry is not JSON") from exc
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError(f"entry is not valid UTF-8 JSON without floats: {exc}") from exc
    if end != len(text):
        raise ValueError("entry has data after its JSON object")
    if type(obj) is not dict or obj.keys() != ENTRY_FIELDS:
        raise ValueError("entry does not have exactly the entry fields")
    if obj["v"] != FORMAT_VERSION or type(obj["v"]) is not int:
        raise ValueError(f"unknown entry format version {obj['v']!r}")
    index = obj["index"]
    if type(index) is not int or index < 0:
        raise ValueError("index must be a non-negative integer")
    time = obj["time"]
    if type(time) is not str or not _TIME.match(time):
        raise ValueError("time must be RFC 3339 UTC with microseconds and Z")
    try:
        datetime.fromisoformat(time[:-1])
    except ValueError as exc:
        raise ValueError(f"time is not a valid date: {time}") from exc
    _check_decoded_fields(obj)
    # The parser already refused every non-JSON-model value, so encoding needs no second check.
    if _verifying_encode(obj).encode("utf-8") != data:
        raise ValueError("entry bytes are not in canonical form")
    return obj


# The batch decoder lives in audit.entry_batch; it uses the helpers above, so it is imported last.
from audit.entry_batch import decode_entries  # noqa: E402
