"""The WhatsApp "Export chat" reader: both phone layouts, the ZIP with media, time zones and refusals."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from decoy.imports.exports import (
    MESSAGE,
    SYSTEM,
    ExportedMessage,
    ExportFile,
    ImportRefused,
    Limits,
    local_time,
)
from decoy.imports.whatsapp import read

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
PHOTO = b"\xff\xd8\xff\xe0 a few bytes of a photo"


def plain(data: bytes, *, limits: Limits | None = None) -> ExportFile:
    return ExportFile(io.BytesIO(data), filename="chat.txt", limits=limits)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def zipped(members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> ExportFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return ExportFile(io.BytesIO(buffer.getvalue()), filename="export.zip")


def messages(export: ExportFile, *, chat: str | None = None) -> list[ExportedMessage]:
    found = list(read(export, zone=AMSTERDAM, chat=chat))
    assert found, "the export yielded no message"
    assert all(message.zone_assumed and message.platform_id is None for message in found)
    return found


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def rows(found: list[ExportedMessage]) -> list[tuple[str, str, str | None, datetime, str]]:
    """Each message as (source, kind, sender, UTC time, text)."""
    return [(m.source, m.kind, m.sender, m.sent_at.astimezone(UTC), m.text) for m in found]


def test_android_dutch_locale() -> None:
    found = messages(plain(fixture("android_nl.txt")))
    assert rows(found) == [
        (
            "line 1",
            SYSTEM,
            None,
            utc(2026, 3, 1, 8, 58),
            "Berichten en gesprekken worden end-to-end versleuteld. Niemand buiten deze chat kan ze lezen"
            " of beluisteren, zelfs WhatsApp niet. Tik voor meer informatie.",
        ),
        ("line 2", MESSAGE, "Alex", utc(2026, 3, 1, 9, 0), "hallo, hoe gaat het?"),
        ("line 3", MESSAGE, "Sam Decoy", utc(2026, 3, 1, 9, 2), "goed, dank je"),
        (
            "line 4",
            MESSAGE,
            "Alex",
            utc(2026, 3, 13, 17, 30),
            "IMG-20260301-WA0001.jpg (bestand bijgevoegd)\nkijk eens",
        ),
        ("line 6", MESSAGE, "Sam Decoy", utc(2026, 3, 13, 17, 31), "<Media weggelaten>"),
        ("line 7", SYSTEM, "Alex", utc(2026, 3, 14, 7, 0), "Dit bericht is verwijderd"),
        ("line 8", SYSTEM, "Sam Decoy", utc(2026, 3, 14, 7, 5), "Je hebt dit bericht verwijderd"),
        ("line 9", SYSTEM, "Alex", utc(2026, 3, 14, 8, 0), "Gemiste spraakoproep"),
        ("line 10", MESSAGE, "Sam Decoy", utc(2026, 3, 14, 20, 15), "tot later"),
    ]
    assert all(message.media == () for message in found)  # a plain .txt upload carries no media


def test_android_en_gb_with_group_lines_and_a_multi_line_message() -> None:
    found = messages(plain(fixture("android_en_gb.txt")))
    assert [(m.source, m.kind, m.sender) for m in found] == [
        ("line 1", SYSTEM, None),
        ("line 2", SYSTEM, None),
        ("line 3", SYSTEM, None),
        ("line 4", MESSAGE, "Alex"),
        ("line 5", MESSAGE, "Sam Decoy"),
        ("line 10", MESSAGE, "Alex"),
        ("line 11", MESSAGE, "Alex"),
        ("line 12", MESSAGE, "Sam Decoy"),
        ("line 13", SYSTEM, "Sam Decoy"),
        ("line 14", SYSTEM, "Alex"),
        ("line 15", SYSTEM, None),
        ("line 16", MESSAGE, "Alex"),
    ]
    by_source = {m.source: m for m in found}
    assert by_source["line 2"].text == 'Alex created group "Book club"'
    assert by_source["line 3"].text == "Alex added Sam Decoy"
    assert by_source["line 15"].text == "You blocked this contact. Tap to unblock."
    # Lines 6-8 continue line 5 (the empty line inside is kept); the blank line 9 ending it is dropped.
    assert by_source["line 5"].text == "fine thanks\nthe weather is nice\n\nand you?"
    assert by_source["line 10"].sent_at.astimezone(UTC) == utc(2026, 3, 20, 16, 45)  # 20/03: day first
    assert by_source["line 12"].text == "<Media omitted>"
    assert all(message.media == () for message in found)


def test_android_en_us_twelve_hour_clock_with_narrow_no_break_space() -> None:
    data = fixture("android_en_us_12h.txt")
    assert "\u202fPM".encode() in data and b" AM - " in data  # both spaces occur in the fixture
    assert rows(messages(plain(data)))[1:] == [
        ("line 2", MESSAGE, "Alex", utc(2026, 3, 1, 9, 0), "hello, how are you"),
        ("line 3", MESSAGE, "Sam Decoy", utc(2026, 3, 1, 11, 30), "fine thanks"),  # 12:30 PM
        ("line 4", MESSAGE, "Alex", utc(2026, 3, 14, 20, 15), "see you later"),  # 3/14: month first
    ]
    first = messages(plain(data))[0]
    assert (first.kind, first.sender, first.sent_at.astimezone(UTC)) == (
        SYSTEM,
        None,
        utc(2026, 2, 28, 23, 5),
    )


def test_ios_english_with_direction_marks_attachments_and_notices() -> None:
    found = messages(plain(fixture("ios_en.txt")))
    assert rows(found) == [
        (
            "line 1",
            SYSTEM,
            "Alex",
            utc(2026, 3, 1, 8, 58),
            "\u200eMessages and calls are end-to-end encrypted. No one outside of this chat, not even"
            " WhatsApp, can read or listen to them.",
        ),
        ("line 2", MESSAGE, "Alex", utc(2026, 3, 1, 9, 0), "hello, how are you"),
        ("line 3", MESSAGE, "+44 7700 900123", utc(2026, 3, 1, 9, 0, 30), "fine thanks"),
        (
            "line 4",
            MESSAGE,
            "Alex",
            utc(2026, 3, 2, 9, 0),
            "\u200e<attached: 00000012-PHOTO-2026-03-02-10-00-00.jpg>",
        ),
        ("line 5", MESSAGE, "Sam Decoy", utc(2026, 3, 2, 9, 1), "\u200eimage omitted"),
        ("line 6", MESSAGE, "Sam Decoy", utc(2026, 3, 2, 9, 2), "line one\nline two"),
        ("line 8", SYSTEM, "Alex", utc(2026, 3, 13, 19, 0), "\u200eMissed voice call"),
        ("line 9", SYSTEM, "Sam Decoy", utc(2026, 3, 13, 19, 5), "\u200eThis message was deleted."),
        ("line 10", SYSTEM, "Alex", utc(2026, 3, 13, 19, 6), "\u200eYou deleted this message."),
        ("line 11", MESSAGE, "Sam Decoy", utc(2026, 3, 13, 19, 10), "see you later"),
        (
            "line 12",
            SYSTEM,
            "Sam Decoy",
            utc(2026, 3, 13, 19, 11),
            "\u200eMissed video call, \u200eTap to call back",
        ),
    ]
    assert all(message.media == () for message in found)


def test_ios_dutch_with_crlf_lines() -> None:
    data = fixture("ios_nl.txt")
    assert b"\r\n" in data
    found = messages(plain(data))
    assert [(m.source, m.kind, m.sender, m.text) for m in found][1:] == [
        ("line 2", MESSAGE, "Alex", "hallo, hoe gaat het?"),
        ("line 3", MESSAGE, "Sam Decoy", "goed, dank je"),
        ("line 4", MESSAGE, "Alex", "\u200e<bijgevoegd: 00000003-PHOTO-2026-03-02-11-00-00.jpg>"),
        ("line 5", MESSAGE, "Sam Decoy", "\u200eafbeelding weggelaten"),
        ("line 6", MESSAGE, "Sam Decoy", "\u200evideo weggelaten"),
        ("line 7", SYSTEM, "Alex", "\u200eGemist spraakgesprek"),
        ("line 8", SYSTEM, "Alex", "\u200eDit bericht is verwijderd."),
        ("line 9", SYSTEM, "Sam Decoy", "\u200eJe hebt dit bericht verwijderd."),
        ("line 10", MESSAGE, "Sam Decoy", "tot later"),
    ]
    assert found[0].kind == SYSTEM and found[0].text.startswith("\u200eBerichten en gesprekken")
    # No date in the file has a field over 12 and the clock is 24-hour: day first, so 02-03 is 2 March.
    assert found[3].sent_at.astimezone(UTC) == utc(2026, 3, 2, 10, 0)
    assert found[2].sent_at.astimezone(UTC) == utc(2026, 3, 1, 9, 0, 45)


def test_ios_twelve_hour_clock() -> None:
    found = messages(plain(fixture("ios_en_us_12h.txt")))
    assert rows(found) == [
        ("line 1", MESSAGE, "Alex", utc(2026, 2, 28, 23, 5, 9), "hello, how are you"),  # 12:05:09 AM
        ("line 2", MESSAGE, "Sam Decoy", utc(2026, 3, 1, 11, 30), "fine thanks"),  # 12:30:00 PM
        ("line 3", MESSAGE, "Alex", utc(2026, 3, 14, 20, 15), "\u200esticker omitted"),
    ]


def test_sender_loses_direction_marks_and_nothing_else() -> None:
    line = "[01/03/2026, 10:00:00] \u2068~\u202fSam\u00a0Decoy\u2069\u200e: hi \u202athere\u202c\n"
    (message,) = messages(plain(line.encode()))
    assert message.sender == "~\u202fSam\u00a0Decoy"
    assert message.text == "hi \u202athere\u202c"  # the text keeps every character


def test_text_that_only_begins_like_a_notice_stays_a_party_message() -> None:
    data = (
        b"01/03/2026, 10:00 - Alex: This message was deleted by mistake, sorry\n"
        b"01/03/2026, 10:01 - Alex: Missed voice call, can you ring again?\n"
    )
    assert [m.kind for m in messages(plain(data))] == [MESSAGE, MESSAGE]


@pytest.mark.parametrize(
    ("lines", "first_day"),
    [
        (["01/02/2026, 10:00 - A: x"], (2026, 2, 1)),  # nothing decides, 24-hour clock: day first
        (["01/02/2026, 10:00 AM - A: x"], (2026, 1, 2)),  # nothing decides, AM/PM: month first
        (["01/02/2026, 10:00 AM - A: x", "13/02/2026, 10:00 AM - A: y"], (2026, 2, 1)),  # 13 first: day
        (["01/02/2026, 10:00 - A: x", "02/13/2026, 10:00 - A: y"], (2026, 1, 2)),  # 13 second: month
        (["01.02.26, 10:00 - A: x", "14.02.26, 10:00 - A: y"], (2026, 2, 1)),
        (["01-02-26 10:00 - A: x", "01-02-26 10:05 - A: y"], (2026, 2, 1)),
        (["2026-02-01 10:00 - A: x"], (2026, 2, 1)),  # four-digit first field: year first
        (["[01.02.26, 10:00:00 AM] A: x", "[1.13.26, 10:00:00 AM] A: y"], (2026, 1, 2)),
    ],
)
def test_day_or_month_first_is_decided_from_the_file(
    lines: list[str], first_day: tuple[int, int, int]
) -> None:
    found = messages(plain(("\n".join(lines) + "\n").encode()))
    assert found[0].sent_at.date() == datetime(*first_day).date()


def test_a_late_date_decides_the_order_of_the_earlier_ones() -> None:
    early = [f"0{day}/0{month}/2026, 10:00 - Alex: hello" for month in range(1, 4) for day in range(1, 10)]
    found = messages(
        plain(("\n".join([*early, "25/03/2026, 10:00 - Sam Decoy: fine thanks"]) + "\n").encode())
    )
    assert found[1].sent_at.date() == datetime(2026, 1, 2).date()  # "02/01" is 2 January
    assert found[-1].sent_at.date() == datetime(2026, 3, 25).date()


def test_clocks_going_forward_and_back_in_amsterdam() -> None:
    found = messages(plain(fixture("dst_amsterdam.txt")))
    assert [m.sent_at.astimezone(UTC) for m in found] == [
        utc(2026, 3, 29, 0, 59),  # 01:59 CET
        utc(
            2026, 3, 29, 1, 30
        ),  # 02:30 does not exist: read with the offset before (+01:00), i.e. 03:30 CEST
        utc(2026, 3, 29, 1, 1),  # 03:01 CEST
        utc(2026, 10, 24, 23, 59),  # 01:59 CEST
        utc(2026, 10, 25, 0, 30),  # 02:30 happens twice: the first (CEST, +02:00)
        utc(2026, 10, 25, 2, 0),  # 03:00 CET
    ]


def test_every_time_across_both_clock_changes_is_what_local_time_gives() -> None:
    times = [
        start + timedelta(seconds=433 * step)
        for start in (datetime(2026, 3, 28, 22, 0), datetime(2026, 10, 24, 22, 0))
        for step in range(70)
    ]
    data = "".join(f"[{time:%d/%m/%Y, %H:%M:%S}] Alex: hello\n" for time in times).encode()
    found = messages(plain(data))
    expected = [local_time(time, AMSTERDAM) for time in times]
    assert [(m.sent_at.astimezone(UTC), m.sent_at.utcoffset()) for m in found] == [
        (e.astimezone(UTC), e.utcoffset()) for e in expected
    ]
    assert {m.sent_at.utcoffset() for m in found} == {timedelta(hours=1), timedelta(hours=2)}


def test_zip_from_ios_lists_the_photo_it_holds() -> None:
    photo = "00000012-PHOTO-2026-03-02-10-00-00.jpg"
    export = zipped({"_chat.txt": fixture("ios_en.txt"), photo: PHOTO})
    found = messages(export)
    assert [(m.source, m.media) for m in found if m.media] == [("_chat.txt: line 4", (photo,))]
    assert found[0].source == "_chat.txt: line 1"
    with export.open(found[3].media[0]) as member:
        assert member.read() == PHOTO


def test_zip_from_android_lists_present_media_and_ignores_absent_ones() -> None:
    chat = "WhatsApp Chat with Alex.txt"
    found = messages(zipped({chat: fixture("android_en_gb.txt"), "IMG-20260301-WA0001.jpg": PHOTO}))
    by_source = {m.source: m for m in found}
    assert by_source[f"{chat}: line 10"].media == ("IMG-20260301-WA0001.jpg",)
    assert by_source[f"{chat}: line 11"].media == ()  # VID-…mp4 is named but not in the archive
    assert by_source[f"{chat}: line 11"].text == "VID-20260320-WA0002.mp4 (file attached)"
    assert [m.source for m in found if m.media] == [f"{chat}: line 10"]


def test_zip_from_dutch_android_in_a_folder_with_a_caption() -> None:
    chat = "WhatsApp-chat met Alex/WhatsApp-chat met Alex.txt"
    photo = "WhatsApp-chat met Alex/IMG-20260301-WA0001.jpg"
    found = messages(zipped({chat: fixture("android_nl.txt"), photo: PHOTO, "notes.txt": b"shopping list\n"}))
    (with_media,) = [m for m in found if m.media]
    assert (with_media.source, with_media.media) == (f"{chat}: line 4", (photo,))
    assert with_media.text == "IMG-20260301-WA0001.jpg (bestand bijgevoegd)\nkijk eens"


def test_zip_ignores_text_files_that_are_not_chats() -> None:
    export = zipped(
        {
            "00000020-notes.txt": b"hello, this is a document\n",
            "00000021-latin1.txt": "caf\u00e9".encode("latin-1"),
            "_chat.txt": fixture("ios_nl.txt"),
        }
    )
    assert messages(export)[1].source == "_chat.txt: line 2"


def test_zip_with_two_chats_needs_the_chat_named() -> None:
    members = {
        "WhatsApp Chat with Alex.txt": fixture("android_en_gb.txt"),
        "WhatsApp Chat with Sam.txt": fixture("android_nl.txt"),
    }
    with pytest.raises(ImportRefused) as refused:
        read(zipped(members), zone=AMSTERDAM)
    assert refused.value.field == "chat"
    assert "WhatsApp Chat with Alex.txt" in refused.value.message
    assert "WhatsApp Chat with Sam.txt" in refused.value.message

    picked = messages(zipped(members), chat="WhatsApp Chat with Sam.txt")
    assert (
        picked[1].source == "WhatsApp Chat with Sam.txt: line 2" and picked[1].text == "hallo, hoe gaat het?"
    )

    with pytest.raises(ImportRefused) as refused:
        read(zipped(members), zone=AMSTERDAM, chat="WhatsApp Chat with Kim.txt")
    assert refused.value.field == "chat"


def test_zip_without_a_chat_is_refused() -> None:
    with pytest.raises(ImportRefused) as refused:
        read(zipped({"IMG-20260301-WA0001.jpg": PHOTO, "notes.txt": b"hello\n"}), zone=AMSTERDAM)
    assert refused.value.field == "file"


def test_damaged_zip_member_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("_chat.txt", fixture("ios_en.txt"))
    damaged = buffer.getvalue().replace(b"see you later", b"see you LATER")  # the CRC no longer matches
    with pytest.raises(ImportRefused) as refused:
        list(read(ExportFile(io.BytesIO(damaged)), zone=AMSTERDAM))
    assert refused.value.field == "file" and "cannot be unpacked" in refused.value.message


def test_telegram_json_given_as_whatsapp_is_refused() -> None:
    telegram = b'{\n "name": "Alex",\n "type": "personal_chat",\n "id": 1,\n "messages": [\n  {"id": 1,'
    telegram += (
        b' "type": "message", "date": "2026-03-01T10:00:00", "from": "Alex", "text": "hello"}\n ]\n}\n'
    )
    with pytest.raises(ImportRefused) as refused:
        read(plain(telegram), zone=AMSTERDAM)
    assert refused.value.field == "file" and "not a WhatsApp chat export" in refused.value.message


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(ImportRefused, match="not a WhatsApp chat export"):
        read(plain(b"\n\n"), zone=AMSTERDAM)


def test_a_header_beyond_the_first_fifty_lines_is_not_looked_for() -> None:
    data = ("a note\n" * 50 + "01/03/2026, 10:00 - Alex: hello\n").encode()
    with pytest.raises(ImportRefused, match="not a WhatsApp chat export"):
        read(plain(data), zone=AMSTERDAM)


def test_text_before_the_first_message_is_refused() -> None:
    data = b"\n\na note\n01/03/2026, 10:00 - Alex: hello\n"
    with pytest.raises(ImportRefused, match="line 3 is not a message"):
        list(read(plain(data), zone=AMSTERDAM))


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(ImportRefused, match="not UTF-8") as refused:
        list(read(plain(b"01/03/2026, 10:00 - Alex: caf\xe9\n"), zone=AMSTERDAM))
    assert refused.value.field == "file"


def test_invalid_utf8_later_in_the_file_is_refused_while_reading() -> None:
    data = fixture("android_en_gb.txt") + b"21/03/2026, 10:00 - Alex: caf\xe9\n"
    with pytest.raises(ImportRefused, match="not UTF-8"):
        list(read(plain(data), zone=AMSTERDAM))


def test_an_overlong_line_is_refused() -> None:
    data = ("01/03/2026, 10:00 - Alex: hello\n" + "x" * 300 + "\n").encode()
    with pytest.raises(ImportRefused, match="line 2 is longer than 200") as refused:
        list(read(plain(data, limits=Limits(max_line_chars=200)), zone=AMSTERDAM))
    assert refused.value.field == "file"


@pytest.mark.parametrize(
    ("data", "stamp"),
    [
        ("01-03-2026 10:00 - Sam Decoy: hi\n31-02-2026 10:00 - Alex: hello\n", "31-02-2026 10:00"),
        ("[13/03/2026, 10:00:00] Sam: hi\n[13/03/2026, 24:10:00] Alex: hello\n", "13/03/2026, 24:10:00"),
        ("3/14/26, 10:00 AM - Sam Decoy: hi\n3/14/26, 13:05 PM - Alex: hello\n", "3/14/26, 13:05 PM"),
        ("14/03/2026, 10:00 - Sam Decoy: hi\n14/03/2026, 10:61 - Alex: hello\n", "14/03/2026, 10:61"),
        ("[13/03/2026, 10:00:00] Sam: hi\n[13/03/2026, 10:00:75] Alex: hello\n", "13/03/2026, 10:00:75"),
    ],
)
def test_a_date_that_does_not_exist_is_refused_naming_the_line(data: str, stamp: str) -> None:
    with pytest.raises(ImportRefused) as refused:
        list(read(plain(data.encode()), zone=AMSTERDAM))
    assert refused.value.field == "file"
    assert refused.value.message == f"line 2: the date {stamp!r} does not exist"


def test_contradicting_date_orders_are_refused() -> None:
    data = b"13/02/2026, 10:00 - Alex: hello\n02/13/2026, 10:00 - Alex: hello\n"
    with pytest.raises(ImportRefused, match="line 2: the date"):
        list(read(plain(data), zone=AMSTERDAM))


def test_messages_stream_one_by_one() -> None:
    data = fixture("android_nl.txt") + b"31-03-2026 10:00 - Alex: fine thanks\n30-02-2026 10:00 - Alex: x\n"
    stream = read(plain(data), zone=AMSTERDAM)
    assert isinstance(stream, Iterator) and not isinstance(stream, list)
    assert next(stream).source == "line 1"  # yielded before the impossible date further on is reached
    with pytest.raises(ImportRefused, match="line 12"):
        list(stream)
