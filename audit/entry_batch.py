"""Decoding many audit entries at once, with exactly the outcome of decode_entry row by row.

A block of rows is parsed as one JSON array. When the whole block is canonical and every entry valid
(the common case), that is shown with a handful of calls over the whole block; otherwise each row is
checked by itself, and a row that fails the quick checks is handed to decode_entry, so that the
result and the error are always decode_entry's.

If orjson (a C extension) can be imported, the whole-block check is first tried with it: its parse and
re-encoding cost about 3 µs per entry where the standard library's cost 6.5. It may only accept a
block: anything it does not accept (an error, bytes that differ, a float, nesting deeper than
_ORJSON_MAX_DEPTH, a failed field check) goes to the standard-library path below, which decides.
Why its acceptance implies the standard library's: docs/verifier-performance.md, "The orjson fast path".
"""

from __future__ import annotations

import operator
import re
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date
from itertools import accumulate, chain, repeat
from types import ModuleType
from typing import Any

import audit.entry as entry_module
from audit.entry import (
    _DIGITS_AS_ZERO,
    _INT_MAX,
    _INT_MIN,
    _NINETEEN_DIGITS,
    _SHA256_HEX,
    ENTRY_FIELDS,
    FORMAT_VERSION,
)
from audit.entry import _fast_decoder as decoder
from audit.entry import _verifying_encode as encode

__all__ = ["decode_entries", "decode_joined", "parse_joined"]

_NONE = type(None)
_FIELD_VALUES = operator.itemgetter(
    "v", "index", "time", "actor", "action", "object", "operation", "request", "evidence", "details"
)
_OBJECT_VALUES = operator.itemgetter("type", "id")
_ID_TYPES = frozenset({str, int, _NONE})
# The time of day is checked here with its ranges; the date (which needs a calendar) once per day seen.
_TIME_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6}Z"
_TIME_OF_DAY = re.compile(_TIME_PATTERN + r"\Z")
_TIMES = re.compile(rf"(?:{_TIME_PATTERN}\n)*{_TIME_PATTERN}\Z")
# Deleting these from ASCII bytes leaves nothing exactly when they are lowercase hexadecimal digits.
_HEX_DIGITS = b"0123456789abcdef"
_valid_days: set[str] = set()
# Every valid entry's canonical encoding starts with its first key; in valid JSON these bytes can
# only open an object whose first key is "action" (inside a string the quotes would be escaped).
_ENTRY_START = b'{"action":'
# In canonical JSON a number follows one of ":,[-"; those become ":", digits "0", the rest "x", so
# that one search finds every integer of 19 digits or more (which may lie outside 64 bits).
_NUMBER_DIGITS = bytes(
    0x3A if byte in b":,[-" else 0x30 if 0x30 <= byte <= 0x39 else 0x78 for byte in range(256)
)
_LONG_NUMBER = b":" + b"0" * 19


# Nesting allowed on the orjson path (orjson.dumps itself refuses more than 254 levels); deeper
# values are left to the standard-library path.
_ORJSON_MAX_DEPTH = 64
_JSON_MODEL = frozenset({str, int, bool, _NONE, list, dict})


# orjson, if audit.entry found it to encode as the canonical encoder does; tests set this to None to force
# the standard-library path.
_orjson: ModuleType | None = entry_module.checked_orjson()


def _valid_day(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    if len(_valid_days) > 100_000:
        _valid_days.clear()
    _valid_days.add(day)
    return True


def _fields_ok(obj: object) -> bool:  # noqa: C901, PLR0911 - one flat pass is the point
    """True only if every check decode_entry makes after parsing passes (False may be a false alarm)."""
    if type(obj) is not dict or obj.keys() != ENTRY_FIELDS:
        return False
    version, index, time, actor, action, target, operation, request, evidence, details = _FIELD_VALUES(obj)
    if (
        type(version) is not int
        or version != FORMAT_VERSION
        or type(index) is not int
        or index < 0
        or type(actor) is not str
        or not actor
        or type(action) is not str
        or not action
        or type(target) is not dict
        or type(evidence) is not dict
        or type(details) is not dict
        or (operation is not None and type(operation) is not int)
        or (request is not None and type(request) is not str)
        or type(time) is not str
        or _TIME_OF_DAY.match(time) is None
        or (time[:10] not in _valid_days and not _valid_day(time[:10]))
        or target.keys() != {"type", "id"}
        or type(target["id"]) not in _ID_TYPES
    ):
        return False
    kind = target["type"]
    if type(kind) is not str or not kind:
        return False
    for name, digest in evidence.items():
        if not name:
            return False
        if type(digest) is str:
            if not _SHA256_HEX.match(digest):
                return False
        elif type(digest) is not list or not all(type(d) is str and _SHA256_HEX.match(d) for d in digest):
            return False
    return True


def _digests_ok(evidence: Sequence[dict[str, Any]]) -> bool:
    """The evidence checks of _fields_ok for many entries' evidence objects at once."""
    if not all(chain.from_iterable(evidence)):  # every name non-empty
        return False
    digests = list(chain.from_iterable(map(dict.values, evidence)))
    if set(map(type, digests)) - {str}:
        if set(map(type, digests)) - {str, list}:
            return False
        digests = [item for digest in digests for item in (digest if type(digest) is list else (digest,))]
        if set(map(type, digests)) - {str}:
            return False
    joined = "".join(digests)
    if set(map(len, digests)) - {64} or not joined.isascii():
        return False
    return not joined.encode().translate(None, _HEX_DIGITS)


def _all_fields_ok(values: list[Any]) -> bool:  # noqa: PLR0911 - one check per field
    """True only if _fields_ok holds for every value (False may be a false alarm); column by column."""
    if set(map(type, values)) != {dict} or set(map(len, values)) != {len(ENTRY_FIELDS)}:
        return False
    try:
        # Ten keys, each of them present: exactly the entry fields.
        columns = list(zip(*map(_FIELD_VALUES, values), strict=True))
    except KeyError:
        return False
    version, index, time, actor, action, target, operation, request, evidence, details = columns
    if set(version) != {FORMAT_VERSION} or set(map(type, version)) != {int} or set(map(type, index)) != {int}:
        return False
    if min(index) < 0 or max(index) > _INT_MAX or not (all(actor) and all(action)):
        return False
    if set(map(type, chain(actor, action, time))) != {str}:
        return False
    if set(map(type, chain(target, evidence, details))) != {dict}:
        return False
    operations = set(map(type, operation))
    if operations - {int, _NONE} or set(map(type, request)) - {str, _NONE}:
        return False
    if set(map(len, target)) != {2}:
        return False
    try:
        kinds, ids = zip(*map(_OBJECT_VALUES, target), strict=True)
    except KeyError:
        return False
    identifiers = set(map(type, ids))
    if set(map(type, kinds)) != {str} or not all(kinds) or identifiers - _ID_TYPES:
        return False
    # Integers in 64 signed bits (the standard-library path has shown it already; orjson has not).
    if (int in operations and not _in_64_bits(operation, operations)) or (
        int in identifiers and not _in_64_bits(ids, identifiers)
    ):
        return False
    # Each time is 27 characters, so the lines of the joined text are exactly the times.
    if set(map(len, time)) != {27} or _TIMES.match("\n".join(time)) is None:
        return False
    for day in {moment[:10] for moment in time} - _valid_days:
        if not _valid_day(day):
            return False
    return _digests_ok(evidence)


def parse_joined(blob: bytes, count: int) -> list[Any] | None:
    """Parse ``count`` JSON values joined by commas as one array; None if that is not what ``blob`` holds.

    Only a check such as decode_joined's tells whether each element is what its own row means.
    """
    try:
        text = "[" + blob.decode("utf-8") + "]"
        parsed, end = decoder.scan_once(text, 0)  # type: ignore[attr-defined]
    except (StopIteration, ValueError, RecursionError):
        return None
    if type(parsed) is not list or len(parsed) != count or end != len(text):
        return None
    return parsed


def _rows_start_entries(blob: bytes, lengths: Sequence[int]) -> bool:
    """True if every row starts where an entry starts and there is no other entry start."""
    count = len(lengths)
    if blob.count(_ENTRY_START) != count:
        return False
    starts = accumulate(chain((0,), map(operator.add, lengths[:-1], repeat(1))))
    return all(map(blob.startswith, repeat(_ENTRY_START, count), starts))


def _rows_are_entries(blob: bytes, lengths: Sequence[int]) -> bool:
    """True if every row starts where an entry starts, there is no other entry start, and no run of
    19 digits could be an integer beyond 64 bits."""
    return _LONG_NUMBER not in blob.translate(_NUMBER_DIGITS) and _rows_start_entries(blob, lengths)


def _in_64_bits(numbers: Sequence[Any], kinds: set[type]) -> bool:
    """True if every integer among ``numbers`` (of the types ``kinds``; others are ignored) fits in 64
    signed bits."""
    ints = numbers if kinds == {int} else [number for number in numbers if type(number) is int]
    return not ints or (min(ints) >= _INT_MIN and max(ints) <= _INT_MAX)


def _json_model_only(details: Sequence[dict[str, Any]]) -> bool:
    """True if the objects hold only strings, integers of 64 signed bits, booleans, null, arrays and
    objects (no float), nested at most _ORJSON_MAX_DEPTH levels; level by level, over all at once."""
    dicts: list[dict[str, Any]] = list(details)
    lists: list[list[Any]] = []
    for _ in range(_ORJSON_MAX_DEPTH):
        items = list(chain(chain.from_iterable(map(dict.values, dicts)), chain.from_iterable(lists)))
        kinds = set(map(type, items))
        if kinds - _JSON_MODEL or (int in kinds and not _in_64_bits(items, kinds)):
            return False
        if dict not in kinds and list not in kinds:
            return True
        dicts = [item for item in items if type(item) is dict]
        lists = [item for item in items if type(item) is list]
    return False


def _orjson_block(blob: bytes, lengths: Sequence[int]) -> list[Any] | None:
    """The entries of ``blob`` if orjson shows the whole block canonical and valid, else None.

    None never means that a row is invalid, only that the standard-library path must decide.
    """
    # orjson parses integers up to 2**64 - 1 (and refuses larger ones); the range checks below refuse
    # the unsigned ones, so the digit-run search of the standard-library path is not needed here.
    if _orjson is None or not _rows_start_entries(blob, lengths):
        return None
    array = b"[" + blob + b"]"
    try:
        values = _orjson.loads(array)
        if type(values) is not list or len(values) != len(lengths):
            return None
        if _orjson.dumps(values, option=_orjson.OPT_SORT_KEYS) != array:
            return None
    except Exception:  # orjson's decode and encode errors, nesting limits: the standard library decides
        return None
    # Floats can only be in details: _all_fields_ok admits none in the other fields.
    if not _all_fields_ok(values) or not _json_model_only([value["details"] for value in values]):
        return None
    return values


def _whole_block_ok(blob: bytes, lengths: Sequence[int], values: list[Any]) -> bool:
    """True only if every row of ``blob`` is the canonical encoding of a valid entry (its value).

    The array's canonical encoding must be ``blob`` itself, every row must start where an entry
    starts, and there must be no other entry start: then each row is exactly one element's encoding.
    """
    if not _rows_are_entries(blob, lengths):
        return False
    try:
        if encode(values) != "[" + blob.decode("utf-8") + "]":
            return False
    except (ValueError, TypeError, RecursionError):
        return False
    return _all_fields_ok(values)


def decode_joined(blob: bytes, lengths: Sequence[int]) -> tuple[list[dict[str, Any]], ValueError | None]:
    """Decode the entries ``blob`` holds joined by commas, ``lengths[i]`` bytes each.

    Returns the decoded entries up to the first that decode_entry refuses, and decode_entry's error
    for that one (None when all are valid). The result is always exactly what decode_entry gives row
    by row: the whole block is parsed as one JSON array and, in bulk, shown canonical and valid at
    once; failing that, each row must be byte for byte the canonical encoding of its element and pass
    the field checks; a row that does not (or whose digits could hold an integer beyond 64 bits) is
    decoded alone by decode_entry.
    """
    if not lengths:
        return [], None
    fast = _orjson_block(blob, lengths)
    if fast is not None:
        return fast, None
    values = parse_joined(blob, len(lengths))
    if values is not None and _whole_block_ok(blob, lengths, values):
        return values, None
    # Row i ends (its comma excluded) at ends[i] - 1.
    ends = list(accumulate(length + 1 for length in lengths))
    # Rows with a run of 19 digits could hold an integer outside 64 bits; decode_entry checks those.
    suspect: set[int] = set()
    digits = blob.translate(_DIGITS_AS_ZERO)
    found = digits.find(_NINETEEN_DIGITS)
    while found >= 0:
        suspect.add(bisect_right(ends, found))
        found = digits.find(_NINETEEN_DIGITS, found + 19)
    decoded: list[dict[str, Any]] = []
    start = 0
    for row, length in enumerate(lengths):
        data = blob[start : start + length]
        start += length + 1
        if values is not None and row not in suspect:
            value = values[row]
            try:
                if encode(value).encode("utf-8") == data and _fields_ok(value):
                    decoded.append(value)
                    continue
            except (ValueError, TypeError, RecursionError):  # e.g. a lone surrogate: decode_entry says why
                pass
        try:
            decoded.append(entry_module.decode_entry(data))
        except ValueError as exc:
            return decoded, exc
    return decoded, None


def decode_entries(rows: Sequence[bytes]) -> tuple[list[dict[str, Any]], ValueError | None]:
    """Decode many entries as decode_entry does, several times as fast.

    Returns the decoded entries before the first invalid one, and decode_entry's error for it (None
    when every row is valid): ``decode_entries(rows)[0][i] == decode_entry(rows[i])``.
    """
    rows = [row if type(row) is bytes else bytes(row) for row in rows]
    return decode_joined(b",".join(rows), [len(row) for row in rows])
