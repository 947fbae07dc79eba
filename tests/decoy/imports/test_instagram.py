"""The Instagram reader: Meta's "Download your information" messages in JSON, one thread."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from decoy.imports import instagram
from decoy.imports.exports import MESSAGE, SYSTEM, ExportedMessage, ExportFile, ImportRefused

FIXTURES = Path(__file__).parent / "fixtures" / "instagram"
INBOX = "your_instagram_activity/messages/inbox/"
ALEX = INBOX + "alex_1234567890/"
PHOTO = ALEX + "photos/101.jpg"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def edited(name: str, change) -> bytes:
    document = json.loads(fixture(name))
    change(document)
    return json.dumps(document).encode()


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def export_zip(prefix: str = "your_instagram_activity/", **replace: bytes) -> bytes:
    """The fixtures as Meta zips them (``prefix`` "" for an older export), with files replaced by name."""
    files = {
        "alex_1234567890/message_1.json": fixture("alex_1234567890/message_1.json"),
        "alex_1234567890/message_2.json": fixture("alex_1234567890/message_2.json"),
        "zoe_9876543210/message_1.json": fixture("zoe_9876543210/message_1.json"),
    }
    for key, data in replace.items():
        files[key.replace("__", "/") + ".json"] = data
    members = {f"{prefix}messages/inbox/{name}": data for name, data in files.items()}
    members[f"{prefix}messages/inbox/alex_1234567890/photos/101.jpg"] = b"\xff\xd8\xff fake jpeg"
    return zipped(members)


def read(data: bytes, chat: str | None = None) -> list[ExportedMessage]:
    return list(instagram.read(ExportFile(io.BytesIO(data)), zone=ZoneInfo("Europe/Berlin"), chat=chat))


def refusal(data: bytes, chat: str | None = None) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        read(data, chat)
    return caught.value


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 3, 1, hour, minute, tzinfo=UTC)


def test_a_thread_is_read_oldest_first_across_its_files():
    messages = read(export_zip(), chat="alex_1234567890")
    assert [m.sent_at for m in messages] == [
        at(12, 0),
        at(12, 1),
        at(12, 2),
        at(12, 5),
        at(12, 10),
        at(12, 11),
        at(12, 12),
        at(12, 13),
    ]
    assert [m.source for m in messages] == [
        ALEX + "message_2.json: messages[2]",
        ALEX + "message_2.json: messages[1]",
        ALEX + "message_2.json: messages[0]",
        ALEX + "message_1.json: messages[4]",
        ALEX + "message_1.json: messages[3]",
        ALEX + "message_1.json: messages[2]",
        ALEX + "message_1.json: messages[1]",
        ALEX + "message_1.json: messages[0]",
    ]
    assert [m.sender for m in messages] == [
        "Alex",
        "Sam Decoy",
        "Alex",
        "Alex",
        "Alex",
        "Sam Decoy",
        "Sam Decoy",
        "Alex",
    ]
    assert all(m.platform_id is None and not m.zone_assumed and m.sent_at.tzinfo is UTC for m in messages)


def test_meta_mojibake_is_decoded():
    messages = read(export_zip(), chat="alex_1234567890")
    assert messages[0].text == "hello, how are you"
    assert messages[1].text == "fine thanks \N{SLIGHTLY SMILING FACE}"
    assert messages[2].text == "caf\N{LATIN SMALL LETTER E WITH ACUTE} at the station?"
    zoe = read(export_zip(), chat="zoe_9876543210")
    assert [m.sender for m in zoe] == ["Zo\N{LATIN SMALL LETTER E WITH DIAERESIS}", "Sam Decoy"]


def test_fix_text_keeps_what_is_not_mojibake():
    assert instagram.fix_text("caf\u00c3\u00a9") == "café"
    assert instagram.fix_text("café") == "café"  # é alone is no UTF-8 sequence
    assert instagram.fix_text("5 €") == "5 €"  # beyond Latin-1
    assert instagram.fix_text("plain") == "plain"


def test_a_photo_is_an_archive_member():
    photo = read(export_zip(), chat="alex_1234567890")[3]
    assert (photo.kind, photo.text, photo.media) == (MESSAGE, "", (PHOTO,))


def test_an_older_export_without_the_activity_folder():
    def older(document):
        photo = document["messages"][4]["photos"][0]
        photo["uri"] = photo["uri"].removeprefix("your_instagram_activity/")

    newest = edited("alex_1234567890/message_1.json", older)
    messages = read(export_zip(prefix="", alex_1234567890__message_1=newest), chat="alex_1234567890")
    assert messages[3].media == ("messages/inbox/alex_1234567890/photos/101.jpg",)
    assert messages[0].source == "messages/inbox/alex_1234567890/message_2.json: messages[2]"


def test_an_export_inside_a_top_folder():
    data = export_zip(prefix="instagram-sam-2026-03-02/your_instagram_activity/")
    messages = read(data, chat="alex_1234567890")
    assert messages[3].media == ("instagram-sam-2026-03-02/" + PHOTO,)


def test_calls_are_system_lines_and_a_like_stays_a_message():
    messages = read(export_zip(), chat="alex_1234567890")
    started, ended, liked, shared = messages[4:]
    assert (started.kind, started.sender, started.text) == (SYSTEM, "Alex", "Alex started a video chat")
    assert (ended.kind, ended.sender, ended.text) == (SYSTEM, "Sam Decoy", "Video chat ended")
    assert (liked.kind, liked.text) == (MESSAGE, "Liked a message")
    assert shared.kind == MESSAGE


def test_a_call_without_content_reads_its_duration():
    def change(document):
        del document["messages"][2]["content"]

    message = read(
        export_zip(alex_1234567890__message_1=edited("alex_1234567890/message_1.json", change)),
        chat="alex_1234567890",
    )[5]
    assert (message.kind, message.text) == (SYSTEM, "call_duration: 65")


def test_a_text_that_only_mentions_a_call_stays_a_message():
    def change(document):
        document["messages"][3]["content"] = "Robin started a video chat"  # Robin takes no part

    messages = read(
        export_zip(alex_1234567890__message_1=edited("alex_1234567890/message_1.json", change)),
        chat="alex_1234567890",
    )
    assert messages[4].kind == MESSAGE


def test_a_shared_post_adds_its_link():
    shared = read(export_zip(), chat="alex_1234567890")[7]
    assert shared.text == "Alex sent an attachment.\nhttps://www.instagram.com/p/EXAMPLE123/"


def test_a_plain_message_file_is_accepted():
    messages = read(fixture("alex_1234567890/message_2.json"))
    assert [m.source for m in messages] == ["messages[2]", "messages[1]", "messages[0]"]
    assert [m.text for m in messages][0] == "hello, how are you"
    assert read(fixture("alex_1234567890/message_2.json"), chat="Alex") == messages
    assert read(fixture("alex_1234567890/message_2.json"), chat="alex_1234567890") == messages
    assert refusal(fixture("alex_1234567890/message_2.json"), chat="Robin").field == "chat"


def test_a_plain_file_has_no_media():
    assert read(fixture("alex_1234567890/message_1.json"))[0].media == ()


def test_the_same_upload_reads_the_same_twice():
    for data in (export_zip(), fixture("alex_1234567890/message_1.json")):
        export = ExportFile(io.BytesIO(data))
        first = list(instagram.read(export, zone=ZoneInfo("UTC"), chat="alex_1234567890"))
        assert first and list(instagram.read(export, zone=ZoneInfo("UTC"), chat="alex_1234567890")) == first


# --- choosing the thread ----------------------------------------------------------------------------


def test_several_threads_need_a_chat_and_are_listed():
    error = refusal(export_zip())
    assert error.field == "chat"
    assert "inbox/alex_1234567890" in error.message and "inbox/zoe_9876543210" in error.message


@pytest.mark.parametrize("chat", ["zoe_9876543210", "inbox/zoe_9876543210", "Zoë"])
def test_the_thread_is_chosen_by_folder_thread_path_or_title(chat):
    assert [m.text for m in read(export_zip(), chat=chat)] == ["are you coming to the match", "not today"]


def test_an_unknown_thread_is_refused_with_the_list():
    error = refusal(export_zip(), chat="Robin")
    assert error.field == "chat" and "inbox/zoe_9876543210" in error.message


def test_one_thread_needs_no_chat():
    files = {ALEX + "message_1.json": fixture("alex_1234567890/message_1.json")}
    assert len(read(zipped(files))) == 5


def test_message_requests_are_threads_too():
    files = {
        "your_instagram_activity/messages/message_requests/robin_1/message_1.json": fixture(
            "zoe_9876543210/message_1.json"
        )
    }
    assert [m.sender for m in read(zipped(files))] == ["Zoë", "Sam Decoy"]


# --- refusals ---------------------------------------------------------------------------------------


def test_a_missing_file_of_the_thread_is_refused():
    files = {ALEX + "message_2.json": fixture("alex_1234567890/message_2.json")}
    error = refusal(zipped(files))
    assert error.message == f"the thread {ALEX[:-1]} lacks message_1.json"


def test_files_out_of_order_are_refused():
    swapped = export_zip(
        alex_1234567890__message_1=fixture("alex_1234567890/message_2.json"),
        alex_1234567890__message_2=fixture("alex_1234567890/message_1.json"),
    )
    error = refusal(swapped, chat="alex_1234567890")
    assert "not in order" in error.message


def test_a_truncated_file_is_refused_with_its_place():
    data = fixture("alex_1234567890/message_1.json")
    cut = data[: data.index(b'"Liked a message"')]
    error = refusal(export_zip(alex_1234567890__message_1=cut), chat="alex_1234567890")
    assert error.field == "file"
    assert error.message == f"the file ends early (truncated JSON) at {ALEX}message_1.json: messages[1]"


def test_invalid_json_is_refused():
    data = fixture("alex_1234567890/message_2.json").replace(b'"fine thanks', b"fine thanks")
    error = refusal(data)
    assert error.message.startswith("invalid JSON (lexical error")
    assert error.message.endswith("at messages[1]")


def test_invalid_utf8_is_refused():
    data = fixture("alex_1234567890/message_2.json").replace(b"hello, how", b"hello,\xff how")
    assert (
        refusal(data).message == "invalid JSON (lexical error: invalid bytes in UTF8 string) at messages[2]"
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("timestamp_ms", "1772366400000", "messages[0].timestamp_ms is not a number"),
        ("timestamp_ms", None, "messages[0] has no timestamp_ms"),
        ("sender_name", 3, "messages[0].sender_name is not text"),
        ("content", ["hello"], "messages[0].content is not text"),
        ("photos", [{"url": "x.jpg"}], "messages[0].photos[0].uri is not text"),
        ("photos", "x.jpg", "messages[0].photos is not a list"),
        ("share", {"link": 5}, "messages[0].share.link is not text"),
    ],
)
def test_a_wrong_type_is_refused_with_its_place(key, value, message):
    def change(document):
        document["messages"][0][key] = value

    assert refusal(edited("alex_1234567890/message_2.json", change)).message == message


@pytest.mark.parametrize("messages", [{}, None, "absent"])
def test_messages_that_are_no_list_are_refused(messages):
    def change(document):
        if messages == "absent":
            del document["messages"]
        else:
            document["messages"] = messages

    assert (
        refusal(edited("alex_1234567890/message_2.json", change)).message
        == "the file: messages is not a list"
    )


def test_an_empty_file_of_messages_is_read_as_empty():
    def change(document):
        document["messages"] = []

    assert read(edited("alex_1234567890/message_2.json", change)) == []


def test_a_participant_without_a_name_is_refused():
    def change(document):
        document["participants"][1] = {"name": None}

    assert (
        refusal(edited("alex_1234567890/message_2.json", change)).message
        == "participants[1].name is not text"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            (Path(__file__).parent / "fixtures" / "telegram" / "single_chat.json").read_bytes(),
            "the file has no participants",
        ),
        (b"01/03/2026, 13:00 - Alex: hello, how are you\n", "the file is not JSON"),
        (
            zipped({"ChatExport/result.json": b"{}"}),
            "the archive holds no messages/inbox/<thread>/message_1.json",
        ),
    ],
    ids=["telegram", "whatsapp", "zip"],
)
def test_another_format_is_refused_as_not_an_instagram_export(data, message):
    error = refusal(data)
    assert (error.field, error.message) == ("file", f"not an Instagram message export: {message}")


def test_an_html_export_is_refused_with_advice():
    error = refusal(zipped({ALEX + "message_1.html": b"<html></html>"}))
    assert "HTML" in error.message and "JSON format" in error.message
