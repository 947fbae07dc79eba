"""The whole-block shortcut of the batch decoder accepts only what decode_entry accepts, row by row."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_audit_entry import DIGEST, TAMPERING, VECTOR_ENTRIES, _batch, _one_by_one, entry, json_values

import audit.entry
import audit.entry_batch
from audit.entry import decode_entry, encode_entry
from audit.entry_batch import decode_joined


def _rows(count: int, **changes: Any) -> list[bytes]:
    return [encode_entry(entry(request=f"r{n}", **changes), n) for n in range(count)]


@pytest.fixture
def whole_block_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any row is checked by itself (the row-by-row path or decode_entry)."""

    def refuse(*_arguments: object) -> Any:
        raise AssertionError("checked row by row")

    monkeypatch.setattr(audit.entry, "decode_entry", refuse)
    monkeypatch.setattr(audit.entry_batch, "_fields_ok", refuse)


def test_valid_entries_are_accepted_as_one_block(whole_block_only: None) -> None:
    rows = [encode_entry(vector, index) for index, vector in enumerate(VECTOR_ENTRIES)]
    rows += _rows(5, details={"text": "één \u2028 zin", "n": -5, "big": 10**17}, evidence={"b": [DIGEST]})
    decoded, error = decode_joined(b",".join(rows), [len(row) for row in rows])
    assert error is None and [json.dumps(value, sort_keys=True) for value in decoded] == [
        json.dumps(json.loads(row), sort_keys=True) for row in rows
    ]


def test_an_entry_hidden_in_another_does_not_shift_the_rows() -> None:
    """Rows cut inside an entry that holds entries in its details, and two entries in one row."""
    first, second, third = _rows(3)
    nested = decode_entry(first)
    holder = encode_entry(entry(details={"n": [nested, nested]}), 0)
    cut = holder.index(b"," + first) + 1
    rows = [holder[: cut - 1], holder[cut:], second + b"," + third]
    assert b",".join(rows) == b",".join([holder, second, third])
    assert _batch(rows) == _one_by_one(rows)
    assert _batch(rows)[1] is not None


@pytest.mark.parametrize(
    "details",
    [
        {"a": 9223372036854775807},
        {"a": -9223372036854775808},
        {"a": [1, 999999999999999999]},
        {"a": "1234567890123456789012345"},
        {"time": "2026-01-02T03:04:05.000006Z\n2026-01-02T03:04:05.000006Z"},
    ],
)
def test_long_numbers_and_odd_strings_give_decode_entrys_answer(details: dict[str, Any]) -> None:
    rows = _rows(3) + [encode_entry(entry(details=details), 3)]
    assert _batch(rows) == _one_by_one(rows) and _batch(rows)[1] is None


@pytest.mark.parametrize(
    "change",
    [
        (b'"details":{}', b'"details":{"a":9223372036854775808}'),
        (b'"details":{}', b'"details":{"a":-9223372036854775809}'),
        (b'"details":{}', b'"details":{"a":[0,00]}'),
        (b'"details":{}', b'"details":{"a":-0}'),
        (b'"time":"2026-01-02T03:04:05.000006Z"', b'"time":"2026-01-02T03:04:05.000006Z\\n"'),
        (b'"time":"2026-01-02T03:04:05.000006Z"', b'"time":"2026-02-30T03:04:05.000006Z"'),
        (b'"evidence":{}', b'"evidence":{"b":["' + DIGEST.encode() + b'",7]}'),
        (b'"evidence":{}', b'"evidence":{"b":{"c":"' + DIGEST.encode() + b'"}}'),
        (b'"object":{"id":7,', b'"object":{"id":2.5,'),
        (b'"object":{"id":7,', b'"object":{"id":{},'),
        (b'"operation":null', b'"operation":true'),
        (b'"v":1}', b'"v":true}'),
    ],
)
def test_each_refusal_is_decode_entrys(change: tuple[bytes, bytes]) -> None:
    rows = _rows(4)
    assert change[0] in rows[2]
    rows[2] = rows[2].replace(*change)
    assert _batch(rows) == _one_by_one(rows) and _batch(rows)[1] is not None


@settings(max_examples=200, deadline=None)
@given(
    details=st.lists(st.dictionaries(st.text(max_size=6), json_values, max_size=3), min_size=1, max_size=8),
    data=st.data(),
)
def test_any_block_gives_decode_entrys_answer(details: list[dict[str, Any]], data: st.DataObject) -> None:
    rows = [encode_entry(entry(details=value, request=f"r{n}"), n) for n, value in enumerate(details)]
    assert _batch(rows) == _one_by_one(rows)
    k = data.draw(st.integers(0, len(rows) - 1))
    rows[k] = data.draw(st.sampled_from(TAMPERING))(rows[k])
    assert _batch(rows) == _one_by_one(rows)
