"""Decoy's own JSON Lines format: header, message lines, attachments in a ZIP, and every refusal."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from decoy.imports import decoy_jsonl
from decoy.imports.exports import MESSAGE, SYSTEM, ExportedMessage, ExportFile, ImportRefused, Limits

FIXTURE = Path(__file__).parent / "fixtures" / "decoy" / "chat.jsonl"
PLUS_ONE = timezone(timedelta(hours=1))
HEADER = '{"decoy_export": 1, "platform": "examplechat", "chat": "Alex", "tool": "capture-tool 2.1"}'


def line(**fields) -> str:
    return json.dumps({"id": "m-1", "sent_at": "2026-03-01T13:00:00+01:00", "from": "Alex", **fields})


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def with_media(data: bytes) -> bytes:
    return zipped({"chat.jsonl": data, "media/1.jpg": b"\xff\xd8\xff fake jpeg"})


def read(data: bytes, chat: str | None = None, limits: Limits | None = None) -> list[ExportedMessage]:
    export = ExportFile(io.BytesIO(data), limits=limits)
    return list(decoy_jsonl.read(export, zone=ZoneInfo("Europe/Berlin"), chat=chat))


def refusal(data: bytes | str, chat: str | None = None, limits: Limits | None = None) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        read(data.encode() if isinstance(data, str) else data, chat, limits)
    return caught.value


def test_the_fixture_is_read_in_order_with_ids_senders_times_kinds_and_sources():
    messages = read(with_media(FIXTURE.read_bytes()))
    assert [m.platform_id for m in messages] == ["m-1001", "m-1002", "m-1003", "m-1004", "m-1005"]
    assert [m.source for m in messages] == [f"chat.jsonl: line {n}" for n in range(2, 7)]
    assert [m.sender for m in messages] == ["Alex", "Sam Decoy", None, "Alex", None]
    assert [m.kind for m in messages] == [MESSAGE, MESSAGE, SYSTEM, MESSAGE, MESSAGE]
    assert messages[1].text == "fine thanks\nand you?"
    assert messages[3].media == ("media/1.jpg",)
    assert not any(m.zone_assumed for m in messages)


def test_times_keep_their_offset_and_mean_the_same_instant():
    messages = read(with_media(FIXTURE.read_bytes()))
    assert messages[0].sent_at == datetime(2026, 3, 1, 13, 0, tzinfo=PLUS_ONE)
    assert messages[0].sent_at.utcoffset() == timedelta(hours=1)
    assert messages[1].sent_at == datetime(2026, 3, 1, 12, 1, 10, 250000, tzinfo=UTC)
    assert messages[2].sent_at.utcoffset() == timedelta(0)


def test_a_plain_file_without_header_or_attachments():
    data = "\n".join(
        [line(text="hello, how are you"), line(id="m-2", **{"from": "Sam Decoy"}, text="fine thanks"), ""]
    )
    messages = read(data.encode())
    assert [(m.source, m.sender, m.text) for m in messages] == [
        ("line 1", "Alex", "hello, how are you"),
        ("line 2", "Sam Decoy", "fine thanks"),
    ]


def test_blank_lines_and_crlf_are_accepted():
    data = f"{HEADER}\r\n\r\n{line(text='hi')}\r\n"
    assert [(m.source, m.text) for m in read(data.encode())] == [("line 3", "hi")]


def test_the_header_chat_must_match_the_chat_asked_for():
    assert len(read(with_media(FIXTURE.read_bytes()), chat="Alex")) == 5
    error = refusal(with_media(FIXTURE.read_bytes()), chat="Jordan")
    assert (error.field, error.message) == ("chat", "this file holds only the chat 'Alex'")


def test_an_empty_file_yields_nothing():
    assert read(b"") == []


def test_the_same_upload_reads_the_same_twice():
    for data in (with_media(FIXTURE.read_bytes()), line().encode()):
        export = ExportFile(io.BytesIO(data))
        first = list(decoy_jsonl.read(export, zone=ZoneInfo("UTC")))
        assert first and list(decoy_jsonl.read(export, zone=ZoneInfo("UTC"))) == first


# --- refusals ---------------------------------------------------------------------------------------


def test_an_attachment_of_a_plain_file_is_refused():
    error = refusal(FIXTURE.read_bytes())
    assert error.message == "line 5: attachments[0] 'media/1.jpg' needs a ZIP holding it with the file"


def test_an_attachment_missing_from_the_zip_is_refused():
    error = refusal(zipped({"chat.jsonl": FIXTURE.read_bytes()}))
    assert error.message == "chat.jsonl: line 5: attachments[0] 'media/1.jpg' is not in the archive"


def test_a_duplicate_id_is_refused():
    error = refusal("\n".join([line(), line(id="m-2"), line(sent_at="2026-03-01T13:05:00+01:00")]))
    assert error.message == "line 3: id 'm-1' is already on line 1"


@pytest.mark.parametrize(
    "sent_at",
    [
        "2026-03-01T13:00:00",
        "2026-03-01 13:00:00+01:00",
        "2026-03-01",
        "1772366400",
        "2026-03-01T13:00+01:00",
    ],
)
def test_a_time_without_an_offset_or_not_rfc3339_is_refused(sent_at):
    error = refusal(line(sent_at=sent_at))
    assert error.message == f"line 1: sent_at is not an RFC 3339 time with an offset: {sent_at!r}"


def test_an_impossible_time_is_refused():
    assert refusal(line(sent_at="2026-02-30T13:00:00Z")).message.startswith(
        "line 1: sent_at is not a valid time"
    )


def test_a_time_earlier_than_the_line_before_is_refused():
    data = "\n".join([line(), line(id="m-2", sent_at="2026-03-01T11:59:59Z")])
    assert refusal(data).message == "line 2: sent_at is earlier than on line 1"


def test_the_same_instant_in_another_offset_is_in_order():
    data = "\n".join([line(), line(id="m-2", sent_at="2026-03-01T12:00:00Z")])
    assert len(read(data.encode())) == 2


def test_unknown_keys_are_refused_by_name():
    assert refusal(line(body="x", seen=True)).message == "line 1 has unknown keys: 'body', 'seen'"
    header = HEADER[:-1] + ', "operator": "x"}'
    assert refusal(header + "\n" + line()).message == "line 1 has unknown keys: 'operator'"


def test_a_header_after_the_first_line_is_refused():
    assert refusal(line() + "\n" + HEADER).message.startswith("line 2 has unknown keys: 'decoy_export'")


def test_another_version_is_refused():
    error = refusal('{"decoy_export": 2}\n' + line())
    assert error.message == "line 1: decoy_export 2 is not a version this Decoy reads (1)"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"id": 7}, "line 1: id is not text"),
        ({"id": ""}, "line 1: id is not text"),
        ({"id": "x" * 256}, "line 1: id is longer than 255 characters"),
        ({"from": ["Alex"]}, "line 1: from is not text"),
        ({"text": None}, "line 1: text is not text"),
        ({"kind": "call"}, "line 1: kind is not 'message' or 'system'"),
        ({"kind": ["system"]}, "line 1: kind is not 'message' or 'system'"),
        ({"attachments": "media/1.jpg"}, "line 1: attachments is not a list"),
        ({"attachments": [1]}, "line 1: attachments[0] is not text"),
    ],
)
def test_a_wrong_type_is_refused_with_its_place(fields, message):
    assert refusal(line(**fields)).message == message


def test_a_line_without_id_or_time_is_refused():
    assert (
        refusal(line() + "\n" + json.dumps({"sent_at": "2026-03-01T13:00:00Z"})).message
        == "line 2: id is missing"
    )
    assert refusal(line() + "\n" + json.dumps({"id": "m-2"})).message == "line 2: sent_at is missing"


def test_a_line_that_is_not_an_object_is_refused():
    assert refusal(line() + '\n["m-2"]').message == "line 2 is not a JSON object"


def test_invalid_json_is_refused_with_its_line():
    error = refusal(line() + '\n{"id": "m-2", ')
    assert error.message.startswith("line 2 is not valid JSON (Expecting property name")


def test_a_repeated_key_and_nan_are_refused():
    assert (
        refusal('{"id": "a", "id": "b", "sent_at": "2026-03-01T13:00:00Z"}').message
        == "line 1 names the key 'id' twice"
    )
    data = line() + '\n{"id": "m-2", "sent_at": "2026-03-01T13:00:00Z", "text": NaN}'
    assert refusal(data).message == "line 2 holds NaN, which is not a JSON number"


def test_invalid_utf8_is_refused():
    error = refusal(line().encode() + b"\n" + line(id="m-2").encode().replace(b"Alex", b"Al\xffex"))
    assert (error.field, error.message[:27]) == ("file", "the file is not UTF-8 text ")


def test_an_overlong_line_is_refused():
    error = refusal(line(text="x" * 200), limits=Limits(max_line_chars=100))
    assert error.message == "line 1 is longer than 100 characters"


@pytest.mark.parametrize(
    "data",
    [
        b"01/03/2026, 13:00 - Alex: hello, how are you\n",
        (Path(__file__).parent / "fixtures" / "telegram" / "single_chat.json").read_bytes(),
        json.dumps({"participants": [], "messages": []}).encode(),
    ],
    ids=["whatsapp", "telegram", "instagram-on-one-line"],
)
def test_another_format_is_refused_as_not_a_decoy_export(data):
    error = refusal(data)
    assert error.field == "file"
    assert error.message.startswith("not a Decoy JSON Lines export: line 1 ")


def test_a_zip_needs_one_jsonl_at_its_root():
    assert refusal(zipped({"export/chat.jsonl": b""})).message == (
        "not a Decoy JSON Lines export: the archive holds no .jsonl file at its root"
    )
    error = refusal(zipped({"a.jsonl": b"", "b.jsonl": b""}))
    assert error.message == "the archive holds several .jsonl files at its root: a.jsonl, b.jsonl"
