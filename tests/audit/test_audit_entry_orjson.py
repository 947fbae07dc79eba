"""The optional orjson fast path of the batch decoder changes nothing but speed.

With orjson installed, decode_joined first tries to show the whole block canonical and valid with orjson;
whatever it does not accept goes to the standard-library path. These tests check that the answer (the
decoded entries, the first error and its message) is the same with the fast path and without it, and
that whatever the fast path accepts, decode_entry accepts row by row with the same values.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_audit_entry import DIGEST, TAMPERING, VECTOR_ENTRIES, _one_by_one, entry, json_values

import audit.entry
import audit.entry_batch
from audit.entry import canonical_json, decode_entry, encode_entry
from audit.entry_batch import _orjson_block, decode_joined

orjson = pytest.importorskip("orjson")
ROOT = Path(__file__).resolve().parents[2]
_stdlib_encoder = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@contextmanager
def _orjson_in(module: Any, enabled: bool) -> Iterator[None]:
    """``module`` (the batch decoder or the entry encoder) with orjson, or with the standard library alone."""
    saved = module._orjson
    module._orjson = orjson if enabled else None
    try:
        yield
    finally:
        module._orjson = saved


def _outcome(rows: list[bytes], *, fast: bool) -> tuple[str, tuple[type, str] | None]:
    """decode_joined's answer, with types visible (repr tells 1 from 1.0 and True)."""
    with _orjson_in(audit.entry_batch, fast):
        decoded, error = decode_joined(b",".join(rows), [len(row) for row in rows])
    return repr(decoded), None if error is None else (type(error), str(error))


def _check(rows: list[bytes]) -> None:
    """Same answer with and without orjson, and a fast acceptance is decode_entry's, row by row."""
    with_orjson = _outcome(rows, fast=True)
    assert with_orjson == _outcome(rows, fast=False)
    decoded, error = _one_by_one(rows)
    assert (with_orjson[0], with_orjson[1] and with_orjson[1][1]) == (repr(decoded), error)
    if rows:
        accepted = _orjson_block(b",".join(rows), [len(row) for row in rows])
        if accepted is not None:
            assert repr(accepted) == repr([decode_entry(row) for row in rows])


def _with_details(raw: bytes, index: int = 0) -> bytes:
    """A valid entry whose details value is replaced by the raw JSON text ``raw`` (not checked)."""
    valid = encode_entry(entry(details={"x": 0}, request=f"r{index}"), index)
    assert valid.count(b'"details":{"x":0}') == 1
    return valid.replace(b'"details":{"x":0}', b'"details":{"x":' + raw + b"}")


def test_orjson_is_used_when_installed() -> None:
    assert audit.entry_batch._orjson is orjson
    rows = [encode_entry(vector, index) for index, vector in enumerate(VECTOR_ENTRIES)]
    accepted = _orjson_block(b",".join(rows), [len(row) for row in rows])
    assert accepted == [decode_entry(row) for row in rows]


def test_every_character_is_encoded_as_the_standard_library_does() -> None:
    """Escapes agree for every code point (lone surrogates have no UTF-8 form; orjson refuses them)."""
    for start in range(0, 0x110000, 4096):
        text = "".join(chr(cp) for cp in range(start, start + 4096) if not 0xD800 <= cp <= 0xDFFF)
        assert orjson.dumps(text) == _stdlib_encoder.encode(text).encode("utf-8")
        assert orjson.loads(orjson.dumps(text)) == text == json.loads(orjson.dumps(text))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), st.integers(-(10**18) + 1, 10**18 - 1) | st.text() | st.none(), max_size=8))
def test_keys_are_sorted_as_the_standard_library_sorts_them(value: dict[str, Any]) -> None:
    """Code point order (UTF-8 byte order), also across U+FFFF / U+10000, where UTF-16 order differs."""
    value = {**value, "\uffff": 1, "\U00010000": 2, "\ue000": 3}
    assert orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == _stdlib_encoder.encode(value).encode("utf-8")


# Values in which orjson and the canonical encoder could disagree, as raw JSON text.
EDGE_CASES = [
    b"1.0",
    b"-0",
    b"-0.0",
    b"0.0",
    b"1e5",
    b"1E5",
    b"100000.0",
    b"1.8446744073709552e+19",
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e400",
    b"18446744073709551615",
    b"18446744073709551616",
    b"9223372036854775807",
    b"9223372036854775808",
    b"-9223372036854775808",
    b"-9223372036854775809",
    b"999999999999999999",
    b"-999999999999999999",
    b"1000000000000000000",
    b"0123",
    b"+1",
    b'"\\ud800"',
    b'"\\udc00\\ud800"',
    b'"\\ud83d\\ude00"',
    b'"\xf0\x9f\x98\x80"',
    b'"\xed\xa0\x80"',
    b'"\\u001F"',
    b'"\\u001f"',
    b'"\\u007f"',
    b'"\x7f"',
    b'"\\u2028"',
    b'"\xe2\x80\xa8"',
    b'"\xe2\x80\xa9"',
    b'"\\/"',
    b'"/"',
    b'"\\u00e9"',
    b'"\xc3\xa9"',
    b'"\x01"',
    b'"\\n"',
    b'"\\u000a"',
    b'"\\b"',
    b'"\\u0008"',
    b'"\\u0000"',
    b'"\\"\\\\"',
    b'"\xef\xbb\xbf"',
    b'"\xc0\xaf"',
    b'"\xff"',
    b'{"a":1,"a":1}',
    b'{"a":1,"a":2}',
    b'{"b":1,"a":2}',
    b'{"a":1,"b":2}',
    b'{"":[]}',
    b" 1",
    b"1 ",
    b"[1, 2]",
    b"[1,2]",
    b"true",
    b"false",
    b"null",
    b"True",
    b"[]",
    b"{}",
    b"[,]",
    b"[1,]",
    b"[" * 60 + b"]" * 60,
    b"[" * 63 + b"]" * 63,
    b"[" * 100 + b"]" * 100,
    b"[" * 300 + b"]" * 300,
    b'{"a":' * 80 + b"1" + b"}" * 80,
]


@pytest.mark.parametrize("raw", EDGE_CASES)
def test_edge_cases_are_decided_as_without_orjson(raw: bytes) -> None:
    valid = encode_entry(entry(details={"n": 5}), 1)
    _check([_with_details(raw, 0)])
    _check([valid.replace(b'"index":1', b'"index":0'), _with_details(raw, 1)])


def test_canonical_edge_cases_take_the_fast_path() -> None:
    """The fast path accepts what it should (else it would only cost time), deep values excepted."""
    for raw in [
        b'"\x7f"',
        b'"\xe2\x80\xa8"',
        b'"\\u001f"',
        b'"\\n"',
        b"-999999999999999999",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"[" * 60 + b"]" * 60,
    ]:
        row = _with_details(raw)
        assert _orjson_block(row, [len(row)]) == [decode_entry(row)], raw
    refused = [
        b"1.0",
        b"[" * 100 + b"]" * 100,
        b"9223372036854775808",
        b"18446744073709551615",
        b"-9223372036854775809",
        b'"\\u001F"',
        b'"\\u007f"',
    ]
    for raw in refused:
        row = _with_details(raw)
        assert _orjson_block(row, [len(row)]) is None, raw


def test_integers_beyond_64_bits_are_refused_in_every_field() -> None:
    """orjson parses integers up to 2**64 - 1: the fast path must refuse the unsigned ones wherever they
    are, so that the answer is decode_entry's (which refuses them)."""
    valid = encode_entry(entry(details={"n": 5}), 0)
    big = b"9223372036854775808"
    rows = [
        valid.replace(b'"index":0', b'"index":' + big),
        valid.replace(b'"operation":null', b'"operation":' + big),
        valid.replace(b'"object":{"id":7', b'"object":{"id":' + big),
        valid.replace(b'"n":5', b'"n":[' + big + b"]"),
    ]
    for row in rows:
        assert row != valid
        assert _orjson_block(row, [len(row)]) is None, row
        with pytest.raises(ValueError, match="64-bit"):
            decode_entry(row)
        _check([row])


json_ish = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(1 << 65), 1 << 65)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(codec=None, exclude_categories=()), max_size=6),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=12,
)


def _raw_json(value: Any, variant: int) -> bytes:
    """Encode a JSON-ish value canonically or not: orjson, or json with other escapes, order, spacing."""
    if variant == 0:
        try:
            return bytes(orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
        except (TypeError, ValueError):
            variant = 1
    separators = (",", ":") if variant != 3 else (", ", ": ")
    text = json.dumps(value, ensure_ascii=variant == 2, sort_keys=variant != 4, separators=separators)
    return text.encode("utf-8", "surrogatepass")


@settings(max_examples=400, deadline=None)
@given(value=json_ish, variant=st.integers(0, 4), count=st.integers(1, 4), data=st.data())
def test_arbitrary_values_are_decided_as_without_orjson(
    value: Any, variant: int, count: int, data: st.DataObject
) -> None:
    rows = [encode_entry(entry(details={"k": n}, request=f"r{n}"), n) for n in range(count)]
    k = data.draw(st.integers(0, count - 1))
    rows[k] = _with_details(_raw_json(value, variant), k)
    _check(rows)


@settings(max_examples=400, deadline=None)
@given(
    numbers=st.lists(st.integers(0, 1 << 20), min_size=1, max_size=8),
    details=st.dictionaries(st.text(max_size=6), json_values, max_size=3),
    data=st.data(),
)
def test_mutated_rows_are_decided_as_without_orjson(
    numbers: list[int], details: dict[str, Any], data: st.DataObject
) -> None:
    rows = [encode_entry(entry(details=details if n % 2 else {}, request=f"r{n}"), n) for n in numbers]
    _check(rows)
    k = data.draw(st.integers(0, len(rows) - 1))
    how = data.draw(st.sampled_from(["tamper", "flip", "bytes", "insert", "delete", "split"]))
    changed = bytearray(rows[k])
    if how == "tamper":
        changed = bytearray(data.draw(st.sampled_from(TAMPERING))(rows[k]))
    elif how == "flip":
        bit = data.draw(st.integers(0, 8 * len(changed) - 1))
        changed[bit // 8] ^= 1 << (bit % 8)
    elif how == "bytes":
        at = data.draw(st.integers(0, len(changed) - 1))
        changed[at] = data.draw(st.sampled_from(b'.eE-0 \t"\\\x7f\x00\x01,:[]{}/u') | st.integers(0, 255))
    elif how == "insert":
        at = data.draw(st.integers(0, len(changed)))
        changed[at:at] = data.draw(st.sampled_from([b".0", b"e0", b"-", b"0", b" ", b"\\u0041", b"\xff"]))
    elif how == "delete":
        at = data.draw(st.integers(0, len(changed) - 1))
        del changed[at : at + data.draw(st.integers(1, 3))]
    else:
        cut = data.draw(st.integers(1, len(changed) - 1))
        rows[k : k + 1] = [bytes(changed[:cut]), bytes(changed[cut:])]
        _check(rows)
        return
    rows[k] = bytes(changed)
    _check(rows)


def test_tampering_is_decided_as_without_orjson() -> None:
    valid = encode_entry(entry(details={"n": 5, "s": "é\u2028\x7f"}, evidence={"b": DIGEST}), 2)
    for mutate in TAMPERING:
        _check([valid.replace(b'"index":2', b'"index":0'), mutate(valid)])


def test_blocking_the_fast_path_keeps_the_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit.entry_batch, "_orjson", None)
    rows = [encode_entry(vector, index) for index, vector in enumerate(VECTOR_ENTRIES)]
    assert _orjson_block(b",".join(rows), [len(row) for row in rows]) is None
    assert decode_joined(b",".join(rows), [len(row) for row in rows]) == (
        [decode_entry(r) for r in rows],
        None,
    )


def test_audit_runs_without_orjson() -> None:
    """With orjson not importable the library loads, uses the standard library, and decodes the same."""
    script = (
        "import sys; sys.modules['orjson'] = None\n"
        "import audit, audit.entry_batch as b, audit.verify, audit.__main__\n"
        "from audit.entry import decode_entry, EntryInput, encode_entry\n"
        "from datetime import datetime, UTC\n"
        "assert b._orjson is None\n"
        "rows = [encode_entry(EntryInput(time=datetime.now(UTC), actor='a', action='x',"
        " object={'type': 't', 'id': i}), i) for i in range(3)]\n"
        "blob, lengths = b','.join(rows), [len(r) for r in rows]\n"
        "assert b.decode_joined(blob, lengths) == ([decode_entry(r) for r in rows], None)\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=60)


def _canonical(value: Any, fast: bool) -> bytes | str:
    """canonical_json's bytes, or the message of its ValueError."""
    with _orjson_in(audit.entry, fast):
        try:
            return canonical_json(value)
        except ValueError as exc:
            return str(exc)


def test_orjson_encodes_when_installed() -> None:
    assert audit.entry._orjson is orjson


class _Text(str):
    """A str subclass (as a StrEnum's members are): encoded as its text by both encoders."""


@settings(max_examples=400, deadline=None)
@given(value=json_values | json_ish)
def test_canonical_json_is_the_same_with_orjson(value: Any) -> None:
    """The writer's encoding (orjson) and the standard library's agree on every value, and refuse the same."""
    assert _canonical(value, fast=True) == _canonical(value, fast=False)


@pytest.mark.parametrize(
    "value",
    [
        {"b": _Text("x\u2028"), "a": [_Text("")]},
        {"x": "\ud800"},
        {"x": 1.5},
        {1: "x"},
        {"x": (1, 2)},
        {"x": 1 << 63},
        {"x": True, "y": [None, False]},
    ],
)
def test_canonical_json_edge_cases_are_the_same_with_orjson(value: Any) -> None:
    assert _canonical(value, fast=True) == _canonical(value, fast=False)
