"""The Telegram Desktop reader: result.json (one chat or a whole account), plain or zipped with media."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from decoy.imports import telegram
from decoy.imports.exports import MESSAGE, SYSTEM, ExportedMessage, ExportFile, ImportRefused

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"
BERLIN = ZoneInfo("Europe/Berlin")
FOLDER = "ChatExport_2026-03-02/"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def read(data: bytes, chat: str | None = None, zone: ZoneInfo = BERLIN) -> list[ExportedMessage]:
    return list(telegram.read(ExportFile(io.BytesIO(data)), zone=zone, chat=chat))


def refusal(data: bytes, chat: str | None = None) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        read(data, chat)
    return caught.value


def edited(name: str, change) -> bytes:
    """A fixture with ``change`` applied to its parsed JSON."""
    document = json.loads(fixture(name))
    change(document)
    return json.dumps(document).encode()


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 3, 1, hour, minute, tzinfo=UTC)


# --- one chat ---------------------------------------------------------------------------------------


def test_a_single_chat_is_read_oldest_first_with_ids_senders_utc_times_and_sources():
    messages = read(fixture("single_chat.json"))
    assert [m.platform_id for m in messages] == ["101", "102", "103", "104", "105", "106", "107"]
    assert [m.source for m in messages] == [f"messages[{i}]" for i in range(7)]
    assert [m.sender for m in messages] == [
        "Alex",
        "Sam Decoy",
        "Alex",
        "Alex",
        "Sam Decoy",
        "Sam Decoy",
        None,
    ]
    assert [m.sent_at for m in messages] == [
        at(12, 0),
        at(12, 1),
        at(12, 2),
        at(12, 5),
        at(12, 10),
        at(12, 11),
        at(12, 12),
    ]
    assert all(m.sent_at.utcoffset().total_seconds() == 0 and not m.zone_assumed for m in messages)
    assert messages[0].text == "hello, how are you"
    assert messages[0].kind == MESSAGE


def test_a_text_of_entities_is_joined_verbatim():
    assert read(fixture("single_chat.json"))[1].text == "fine thanks, see https://example.org/park"


def test_text_entities_serve_when_there_is_no_text():
    def drop_text(document):
        del document["messages"][1]["text"]

    assert read(edited("single_chat.json", drop_text))[1].text == "fine thanks, see https://example.org/park"


def test_a_service_message_is_a_system_line_with_its_action_and_details_and_its_actor():
    messages = read(fixture("single_chat.json"))
    call, pin = messages[2], messages[5]
    assert (call.kind, call.sender) == (SYSTEM, "Alex")
    assert call.text == "Phone call (duration_seconds: 42, discard_reason: hangup)"
    assert (pin.kind, pin.sender, pin.text) == (SYSTEM, "Sam Decoy", "Pin message (message_id: 104)")


def test_a_custom_service_line_is_its_information_text():
    def custom(document):
        message = document["messages"][2]
        del message["action"], message["duration_seconds"], message["discard_reason"]
        message["information_text"] = "Alex joined the chat"

    assert read(edited("single_chat.json", custom))[2].text == "Alex joined the chat"


def test_a_deleted_account_is_an_unknown_sender():
    message = read(fixture("single_chat.json"))[6]
    assert (message.sender, message.kind, message.text) == (None, MESSAGE, "the bus timetable")


def test_an_older_export_without_date_unixtime_is_read_in_the_given_zone():
    messages = read(fixture("older_export.json"), zone=BERLIN)
    assert [m.sent_at.astimezone(UTC) for m in messages] == [at(12, 0), at(12, 1)]
    assert all(m.zone_assumed for m in messages)
    assert read(fixture("older_export.json"), zone=ZoneInfo("UTC"))[0].sent_at.astimezone(UTC) == at(13, 0)


def test_date_unixtime_wins_over_date():
    messages = read(fixture("single_chat.json"), zone=ZoneInfo("America/New_York"))
    assert messages[0].sent_at == at(12, 0)


def test_a_plain_upload_has_no_media():
    assert all(m.media == () for m in read(fixture("single_chat.json")))


def test_the_chat_of_a_single_chat_export_may_be_named_by_name_or_id():
    assert len(read(fixture("single_chat.json"), chat="Alex")) == 7
    assert len(read(fixture("single_chat.json"), chat="5012345678")) == 7
    error = refusal(fixture("single_chat.json"), chat="Jordan")
    assert error.field == "chat"
    assert "'Alex' (id 5012345678)" in error.message


def test_the_same_upload_reads_the_same_twice():
    for data, chat in (
        (fixture("single_chat.json"), None),
        (fixture("account.json"), "Alex"),
        (chat_zip(), None),
    ):
        export = ExportFile(io.BytesIO(data))
        first = list(telegram.read(export, zone=BERLIN, chat=chat))
        assert first and list(telegram.read(export, zone=BERLIN, chat=chat)) == first


# --- zipped -----------------------------------------------------------------------------------------


def chat_zip(folder: str = FOLDER) -> bytes:
    return zipped(
        {
            folder + "result.json": fixture("single_chat.json"),
            folder + "photos/photo_1@01-03-2026_13-05-00.jpg": b"\xff\xd8\xff fake jpeg",
            folder + "files/timetable.pdf": b"%PDF-1.4 fake",
        }
    )


def test_a_zipped_export_names_its_media_as_members_and_its_sources_by_member():
    messages = read(chat_zip())
    assert messages[3].media == (FOLDER + "photos/photo_1@01-03-2026_13-05-00.jpg",)
    assert messages[6].media == (FOLDER + "files/timetable.pdf",)
    assert messages[4].media == ()  # "(File not included. ...)" is no member
    assert messages[0].source == FOLDER + "result.json: messages[0]"


def test_result_json_may_be_at_the_root_of_the_zip():
    messages = read(chat_zip(folder=""))
    assert messages[3].media == ("photos/photo_1@01-03-2026_13-05-00.jpg",)
    assert messages[3].source == "result.json: messages[3]"


def test_a_media_path_missing_from_the_zip_is_left_out():
    data = zipped({FOLDER + "result.json": fixture("single_chat.json")})
    assert all(m.media == () for m in read(data))


def test_a_zip_without_result_json_is_refused():
    error = refusal(zipped({"notes.txt": b"hello"}))
    assert (error.field, error.message) == (
        "file",
        "not a Telegram chat export: the archive holds no result.json",
    )


def test_a_zipped_html_export_is_refused_with_advice():
    error = refusal(zipped({FOLDER + "messages.html": b"<html></html>"}))
    assert "HTML" in error.message and "Machine-readable JSON" in error.message


# --- whole account ----------------------------------------------------------------------------------


def test_a_whole_account_export_needs_a_chat_and_lists_them():
    error = refusal(fixture("account.json"))
    assert error.field == "chat"
    assert "2 chats" in error.message
    assert "'Jordan' (id 5022222222)" in error.message and "'Alex' (id 5012345678)" in error.message


def test_the_chat_is_chosen_by_name_or_id_in_a_whole_account_export():
    by_name = read(fixture("account.json"), chat="Alex")
    by_id = read(fixture("account.json"), chat="5012345678")
    assert by_name == by_id
    assert [m.platform_id for m in by_name] == ["201", "202", "203"]
    assert [m.source for m in by_name] == [f"chats.list[1].messages[{i}]" for i in range(3)]
    assert [m.text for m in by_name][:2] == ["hello, how are you", "fine thanks"]
    first = read(fixture("account.json"), chat="Jordan")
    assert [(m.platform_id, m.source) for m in first] == [
        ("1", "chats.list[0].messages[0]"),
        ("2", "chats.list[0].messages[1]"),
    ]


def test_media_of_a_zipped_whole_account_export():
    photo = "DataExport_2026-03-02/chats/chat_002/photos/photo_3@01-03-2026_13-12-00.jpg"
    data = zipped({"DataExport_2026-03-02/result.json": fixture("account.json"), photo: b"\xff\xd8"})
    messages = read(data, chat="Alex")
    assert messages[2].media == (photo,)
    assert messages[2].source == "DataExport_2026-03-02/result.json: chats.list[1].messages[2]"


def test_an_unknown_chat_is_refused_with_the_list():
    error = refusal(fixture("account.json"), chat="Robin")
    assert error.field == "chat"
    assert "'Robin'" in error.message and "'Jordan'" in error.message


def test_two_chats_of_one_name_need_the_id():
    def rename(document):
        document["chats"]["list"][0]["name"] = "Alex"

    data = edited("account.json", rename)
    error = refusal(data, chat="Alex")
    assert error.field == "chat" and "give the id" in error.message
    assert [m.platform_id for m in read(data, chat="5022222222")] == ["1", "2"]


def test_an_account_export_with_one_chat_needs_no_chat():
    def keep_one(document):
        del document["chats"]["list"][0]

    assert [m.platform_id for m in read(edited("account.json", keep_one))] == ["201", "202", "203"]


# --- refusals ---------------------------------------------------------------------------------------


def test_a_truncated_file_is_refused_after_the_messages_before_the_cut():
    data = fixture("single_chat.json")
    cut = data[: data.index(b'"id": 104')]
    stream = telegram.read(ExportFile(io.BytesIO(cut)), zone=BERLIN)
    assert [next(stream).platform_id for _ in range(3)] == ["101", "102", "103"]  # streamed, not loaded
    with pytest.raises(ImportRefused) as caught:
        next(stream)
    assert caught.value.field == "file"
    assert caught.value.message == "the file ends early (truncated JSON) at messages[3]"


def test_a_truncated_whole_account_export_is_refused_before_anything_is_read():
    data = fixture("account.json")
    error = refusal(data[: data.index(b'"id": 202')], chat="Alex")
    assert error.message == "the file ends early (truncated JSON) at chats.list[1].messages[1]"


def test_invalid_json_is_refused_with_its_place():
    data = fixture("single_chat.json").replace(b'"hangup"', b"hangup")
    error = refusal(data)
    assert error.field == "file"
    assert error.message.startswith("invalid JSON (lexical error: invalid char in json text")
    assert error.message.endswith(" at messages[2]")


def test_invalid_utf8_is_refused():
    data = fixture("single_chat.json").replace(b"fine ", b"fin\xe9 ")
    error = refusal(data)
    assert error.message == "invalid JSON (lexical error: invalid bytes in UTF8 string) at messages[1]"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("id", "101", "messages[0].id is not a number"),
        ("date_unixtime", "soon", "messages[0].date_unixtime is not a number"),
        ("date_unixtime", True, "messages[0].date_unixtime is not a number"),
        ("text", 5, "messages[0].text is not text or a list"),
        ("text", ["a", {"type": "bold"}], "messages[0].text[1] is not text or an entity with text"),
        ("from", 7, "messages[0].from is not text"),
        ("photo", ["x.jpg"], "messages[0].photo is not text"),
        ("type", "sticker", "messages[0].type is not 'message' or 'service'"),
    ],
)
def test_a_wrong_type_is_refused_with_its_place(key, value, message):
    def change(document):
        document["messages"][0][key] = value

    data = edited("single_chat.json", change)
    assert refusal(zipped({"result.json": data}) if key == "photo" else data).message.endswith(message)


def test_messages_that_are_no_list_are_refused():
    def change(document):
        document["messages"] = {"0": document["messages"][0]}

    assert refusal(edited("single_chat.json", change)).message == "messages is not a list"


def test_a_message_without_any_date_is_refused():
    def change(document):
        del document["messages"][1]["date_unixtime"], document["messages"][1]["date"]

    assert refusal(edited("single_chat.json", change)).message == "messages[1] has no date"


def test_a_date_that_is_no_date_is_refused():
    def change(document):
        document["messages"][1]["date"] = "yesterday"

    assert (
        refusal(edited("older_export.json", change)).message
        == "messages[1].date is not a date and time: 'yesterday'"
    )


def test_an_unsupported_message_is_refused_with_advice():
    def change(document):
        document["messages"][1] = {"id": 102, "type": "unsupported"}

    assert "update Telegram Desktop" in refusal(edited("single_chat.json", change)).message


def test_a_message_that_is_no_object_is_refused():
    def change(document):
        document["messages"][1] = "hello"

    assert refusal(edited("single_chat.json", change)).message == "messages[1] is not an object"


@pytest.mark.parametrize(
    "data",
    [
        b"01/03/2026, 13:00 - Alex: hello, how are you\n",
        b"[1, 2, 3]",
        b"",
        (
            Path(__file__).parent / "fixtures" / "instagram" / "alex_1234567890" / "message_1.json"
        ).read_bytes(),
        b'{"about": "x", "contacts": {"list": []}}',
    ],
    ids=["whatsapp", "array", "empty", "instagram", "no-messages"],
)
def test_another_format_is_refused_as_not_a_telegram_export(data):
    error = refusal(data)
    assert error.field == "file"
    assert error.message.startswith("not a Telegram chat export: the file ")


def test_an_account_export_without_chats_is_refused():
    def change(document):
        document["chats"]["list"] = []

    assert refusal(edited("account.json", change)).message == "the Telegram export holds no chats"
