"""Entries have one canonical encoding; anything else is refused; the documented vectors hold."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.checkpoint import Checkpoint, Signer
from audit.entry import EntryInput, canonical_json, decode_entries, decode_entry, encode_entry
from audit.merkle import leaf_hash
from audit.tree import Tree

DOC = Path(__file__).resolve().parents[2] / "docs" / "evidence-format.md"
DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

# The vectors documented in docs/evidence-format.md.
VECTOR_ENTRIES = [
    EntryInput(
        time=datetime(2026, 11, 28, 12, 0, 0, 123456, tzinfo=UTC),
        actor="system",
        action="operation.create",
        object={"type": "operation", "id": 1},
        operation=1,
    ),
    EntryInput(
        time=datetime(2026, 11, 28, 13, 30, 5, 0, tzinfo=timezone(timedelta(hours=1))),
        actor="j.devries",
        action="message.record",
        object={"type": "message", "id": "m-17"},
        operation=1,
        request="0c9e6f1a",
        evidence={"body": DIGEST, "attachments": [DIGEST]},
        details={"direction": "in", "flags": ["outside_authorization"], "corrects": None, "size": 4},
    ),
    EntryInput(
        time=datetime(2026, 11, 28, 12, 45, 0, 999999, tzinfo=UTC),
        actor="m.bakker",
        action="profile.approve",
        object={"type": "profile", "id": 3},
        operation=1,
        request="req-\u00e9\u00e8",
        details={"persona": 'Zoë "Z" \\ 18', "ok": True},
    ),
]
VECTOR_SEED = bytes(range(32))


def entry(**changes: Any) -> EntryInput:
    fields: dict[str, Any] = {
        "time": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        "actor": "alice",
        "action": "profile.approve",
        "object": {"type": "profile", "id": 7},
    }
    fields.update(changes)
    return EntryInput(**fields)


def test_encoding_is_sorted_compact_utf8() -> None:
    data = encode_entry(entry(details={"b": 1, "a": ["é", None, True]}), 3)
    assert (
        data
        == (
            '{"action":"profile.approve","actor":"alice","details":{"a":["é",null,true],"b":1},"evidence":{},'
            '"index":3,"object":{"id":7,"type":"profile"},"operation":null,"request":null,'
            '"time":"2026-01-02T03:04:05.000006Z","v":1}'
        ).encode()
    )
    assert decode_entry(data)["details"] == {"a": ["é", None, True], "b": 1}


def test_time_is_converted_to_utc_and_naive_time_refused() -> None:
    local = datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert b'"time":"2026-06-01T12:00:00.000000Z"' in encode_entry(entry(time=local), 0)
    with pytest.raises(ValueError):
        encode_entry(entry(time=datetime(2026, 6, 1, 14, 0)), 0)


@pytest.mark.parametrize(
    "changes",
    [
        {"details": {"x": 1.5}},
        {"details": {"x": float("nan")}},
        {"details": {1: "int key"}},
        {"details": {"x": (1, 2)}},
        {"details": {"x": 1 << 63}},
        {"details": {"x": "\ud800"}},
        {"evidence": {"body": "ABC"}},
        {"evidence": {"body": DIGEST.upper()}},
        {"evidence": {"body": [DIGEST, "x"]}},
        {"object": {"type": "profile"}},
        {"object": {"type": "", "id": 1}},
        {"object": {"type": "p", "id": 1.0}},
        {"actor": ""},
        {"operation": "1"},
        {"request": 5},
    ],
)
def test_invalid_entries_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        encode_entry(entry(**changes), 0)


def test_canonical_json_refuses_floats_anywhere() -> None:
    with pytest.raises(ValueError):
        canonical_json({"a": [{"b": 0.0}]})
    assert (
        canonical_json({"b": [1, {"d": None, "c": False}], "a": ""})
        == b'{"a":"","b":[1,{"c":false,"d":null}]}'
    )


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.replace(b'"v":1}', b'"v":1 }'),
        lambda s: s.replace(b'{"action"', b'{ "action"'),
        lambda s: s.replace(b'"index":3', b'"index":3.0'),
        lambda s: s.replace(b'"index":3', b'"index":03'),
        lambda s: s.replace(b'"index":3', b'"index":3e0'),
        lambda s: s.replace(b'"alice"', b'"\\u0061lice"'),
        lambda s: s.replace(b'"v":1}', b'"v":1,"v":1}'),
        lambda s: s.replace(b'"v":1}', b'"v":2}'),
        lambda s: s.replace(b'"v":1}', b'"v":1,"w":1}'),
        lambda s: s.replace(b'"actor":"alice",', b"") + b"",
        lambda s: s.replace(
            b'"action":"profile.approve","actor":"alice"', b'"actor":"alice","action":"profile.approve"'
        ),
        lambda s: s.replace(b".000006Z", b".000006+00:00"),
        lambda s: s.replace(b"2026-01-02", b"2026-02-30"),
        lambda s: s + b"\n",
        lambda s: b"\xef\xbb\xbf" + s,
        lambda s: s.replace(b'"alice"', b'"al\xffice"'),
    ],
)
def test_non_canonical_bytes_are_refused(mutate: Any) -> None:
    data = encode_entry(entry(), 3)
    assert decode_entry(data)["index"] == 3
    with pytest.raises(ValueError):
        decode_entry(mutate(data))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 63), (1 << 63) - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(details=st.dictionaries(st.text(max_size=8), json_values, max_size=5), index=st.integers(0, 1 << 40))
def test_any_valid_entry_round_trips(details: dict[str, Any], index: int) -> None:
    data = encode_entry(entry(details=details), index)
    decoded = decode_entry(data)
    assert decoded["details"] == details and decoded["index"] == index
    assert canonical_json(decoded) == data


def _documented(label: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(label)}: *`?([^`\n]+)`?$", text, re.MULTILINE)
    assert match, f"{label} is not documented in {DOC.name}"
    return match.group(1).strip()


def test_documented_vectors_match() -> None:
    hashes = []
    for index, vector in enumerate(VECTOR_ENTRIES):
        data = encode_entry(vector, index)
        assert _documented(f"entry {index} bytes (hex)") == data.hex()
        assert _documented(f"entry {index} bytes (text)") == data.decode("utf-8")
        assert _documented(f"entry {index} leaf hash") == leaf_hash(data).hex()
        hashes.append(leaf_hash(data))
    tree = Tree(hashes)
    assert _documented("root of entries 0..2 (size 3)") == tree.root().hex()
    assert _documented("inclusion proof of entry 1 in size 3") == " ".join(
        h.hex() for h in tree.inclusion_proof(1, 3)
    )
    assert _documented("consistency proof from size 2 to size 3") == " ".join(
        h.hex() for h in tree.consistency_proof(2, 3)
    )
    signer = Signer("decoy.example/audit", VECTOR_SEED)
    assert _documented("private key") == signer.private_key_text()
    assert _documented("verifier key") == signer.verifier_key_text()
    note = signer.sign(Checkpoint("decoy.example/audit", 3, tree.root()))
    assert _documented("signature line") == note.rstrip("\n").split("\n")[-1]


def _one_by_one(rows: list[bytes]) -> tuple[list[dict[str, Any]], str | None]:
    decoded = []
    for row in rows:
        try:
            decoded.append(decode_entry(row))
        except ValueError as exc:
            return decoded, str(exc)
    return decoded, None


def _batch(rows: list[bytes]) -> tuple[list[dict[str, Any]], str | None]:
    decoded, error = decode_entries(rows)
    return decoded, None if error is None else str(error)


# Every kind of non-canonical or invalid entry decode_entry refuses, as a change of valid bytes.
TAMPERING = [
    lambda s: s.replace(b'"v":1}', b'"v":1 }'),
    lambda s: s.replace(b'"v":1}', b'"v":2}'),
    lambda s: s.replace(b'"v":1}', b'"v":true}'),
    lambda s: s.replace(b'"v":1}', b'"v":1,"v":1}'),
    lambda s: s.replace(b'"v":1}', b'"v":1,"w":1}'),
    lambda s: s.replace(b'"index":', b'"index":-'),
    lambda s: s.replace(b'"index":', b'"index":0'),
    lambda s: s.replace(b'"index":', b'"index":1.5,"x":'),
    lambda s: s.replace(b'"index":', b'"index":99999999999999999999,"x":'),
    lambda s: s.replace(b'"actor":"', b'"actor":"\\u0061'),
    lambda s: s.replace(b'"actor":"', b'"actor":"\\ud800'),
    lambda s: s.replace(b'"actor":"', b'"actor":"\xff'),
    lambda s: s.replace(b'"actor":"', b'"actor":"\\/'),
    lambda s: s.replace(b'"actor":"', b'"actor":"\x7f\xe2\x80\xa8\x09'),
    lambda s: s.replace(b'"actor":"', b'"actor":"","x":"'),
    lambda s: s.replace(b'"request":"', b'"request":7,"y":"'),
    lambda s: s.replace(b'"request":"', b'"request":["'),
    lambda s: s.replace(b'"operation":', b'"operation":false,"p":'),
    lambda s: s.replace(b'"operation":', b'"operation":-0,"p":'),
    lambda s: s.replace(b'"object":{"id":', b'"object":{"id":true,"z":'),
    lambda s: s.replace(b'"object":{"id":', b'"object":{"type":"m","id":'),
    lambda s: s.replace(b'"type":"', b'"type":"","q":"'),
    lambda s: s.replace(b'"details":{', b'"details":{"a":1.0,'),
    lambda s: s.replace(b'"details":{', b'"details":{"b":1,"a":1,'),
    lambda s: s.replace(b'"details":{', b'"details":{"a":NaN,'),
    lambda s: s.replace(b'"details":{', b'"details":{"a":-9223372036854775809,'),
    lambda s: s.replace(b'"details":{', b'"details":{"a":9223372036854775807,'),  # valid: the largest
    lambda s: s.replace(b'"details":{', b'"details":[{'),
    lambda s: s.replace(b'"evidence":{', b'"evidence":{"a":"' + b"A" * 64 + b'",'),
    lambda s: s.replace(b'"evidence":{', b'"evidence":{"a":[],'),  # valid: an empty list
    lambda s: s.replace(b'"evidence":{', b'"evidence":{"":"' + b"a" * 64 + b'",'),
    lambda s: s.replace(b'"evidence":{', b'"evidence":{"a":["' + b"a" * 63 + b'"],'),
    lambda s: s.replace(b"T", b"T24:", 1) if b"T" in s else s,
    lambda s: s.replace(b'"time":"2026-', b'"time":"2026-02-30T00:00:00.000000Z","x":"'),
    lambda s: s.replace(b'"time":"2026-', b'"time":"2028-02-29T23:59:59.999999Z","time2":"'),
    lambda s: s.replace(b'Z","v"', b'+00:00","v"'),
    lambda s: s.replace(b'Z","v"', b'Z ","v"'),
    lambda s: s[:-1],
    lambda s: s + b",{}",
    lambda s: s + b"]",
    lambda s: b"[" + s,
    lambda s: b" " + s,
    lambda s: b"1",
    lambda s: b"",
]


@settings(max_examples=300, deadline=None)
@given(
    numbers=st.lists(st.integers(0, 1 << 20), min_size=1, max_size=12),
    details=st.dictionaries(st.text(max_size=6), json_values, max_size=3),
    data=st.data(),
)
def test_decoding_many_entries_is_decoding_each(
    numbers: list[int], details: dict[str, Any], data: st.DataObject
) -> None:
    """decode_entries takes a shortcut; whatever the rows, its answer is decode_entry's, row by row."""
    rows = [encode_entry(entry(details=details if n % 2 else {}, request=f"r{n}"), n) for n in numbers]
    assert _batch(rows) == _one_by_one(rows)
    k = data.draw(st.integers(0, len(rows) - 1))
    how = data.draw(st.sampled_from(["mutate", "flip", "split", "merge"]))
    if how == "mutate":
        rows[k] = data.draw(st.sampled_from(TAMPERING))(rows[k])
    elif how == "flip":
        bit = data.draw(st.integers(0, 8 * len(rows[k]) - 1))
        changed = bytearray(rows[k])
        changed[bit // 8] ^= 1 << (bit % 8)
        rows[k] = bytes(changed)
    elif how == "split":  # move a row boundary: the joined bytes stay the same
        cut = data.draw(st.integers(1, len(rows[k]) - 1))
        rows[k : k + 1] = [rows[k][:cut], rows[k][cut:]]
        if k + 2 < len(rows):
            rows[k + 1 : k + 3] = [rows[k + 1] + b"," + rows[k + 2]]
    else:  # two entries in one row, a lone comma between them in the joined bytes
        if k + 1 < len(rows):
            rows[k : k + 2] = [rows[k] + b"," + rows[k + 1], b""]
    assert _batch(rows) == _one_by_one(rows)


def test_decoding_many_entries_refuses_what_decode_entry_refuses() -> None:
    valid = encode_entry(entry(details={"n": 5, "s": "é\u2028\x7f"}, evidence={"b": DIGEST}), 2)
    for mutate in TAMPERING:
        rows = [valid, mutate(valid), valid]
        assert _batch(rows) == _one_by_one(rows), mutate(valid)
    assert _batch([]) == ([], None)
    assert decode_entries([bytearray(valid)])[0] == [decode_entry(valid)]


def test_valid_entries_take_the_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only rows that fail the shortcut's checks are decoded one by one."""
    import audit.entry

    rows = [encode_entry(vector, index) for index, vector in enumerate(VECTOR_ENTRIES)]
    expected = [decode_entry(row) for row in rows]

    def refuse(data: bytes) -> dict[str, Any]:
        raise AssertionError("decoded one by one")

    monkeypatch.setattr(audit.entry, "decode_entry", refuse)
    assert decode_entries(rows) == (expected, None)
