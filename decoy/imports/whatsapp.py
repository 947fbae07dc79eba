"""WhatsApp's own "Export chat" file: the chat text of an Android or iOS phone, plain or in its ZIP.

WhatsApp writes one message per header line, oldest first; a line that does not begin with a header
continues the message above it. The two layouts:

* Android: ``14-03-2026 10:00 - Alex: hello`` (a ``dd/mm/yyyy,``, ``m/d/yy,`` or ``dd.mm.yy,`` date in
  other locales, ``10:00 AM`` in 12-hour locales, with a normal or narrow no-break space); a header
  without ``Name: `` is a line WhatsApp wrote itself (a member added, the encryption notice).
* iOS: ``[14/03/2026, 10:00:00] Alex: hello`` (``[14-03-2026 10:00:00]`` or ``[3/14/26, 10:00:00 AM]``
  in other locales); the line often begins with U+200E and WhatsApp's own notices appear as if sent
  by the chat's name.

Times carry no offset: they are the phone's wall clock, read in the zone the caller gives (see
``exports.local_time`` for the hour that repeats and the hour that does not exist). The day/month order
is decided from the file's headers (see ``_order_of``). Text is kept verbatim, the marks WhatsApp
inserts included, except the blank lines that end a message; only a sender's name loses its direction
marks. Media named in a message ("<attached: …>", "… (file attached)") are listed when the ZIP holds
them; a named file that is absent is no error.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from decoy.imports.exports import (
    MESSAGE,
    SYSTEM,
    ExportedMessage,
    ExportFile,
    ImportRefused,
    local_time,
    read_lines,
)

__all__ = [
    "ATTACHED_WORDS",
    "DELETED_PHRASES",
    "DIRECTION_MARKS",
    "FILE_ATTACHED_WORDS",
    "HEADER_WINDOW",
    "MISSED_CALL_HINTS",
    "MISSED_CALL_PHRASES",
    "NOTICE_PREFIXES",
    "read",
]

#: A file is read as a WhatsApp chat only if one of its first this many non-empty lines is a header.
HEADER_WINDOW = 50

#: The direction marks WhatsApp writes around names and phone numbers; removed from a sender's name only.
DIRECTION_MARKS = "\u200e\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

#: WhatsApp's own notices, recognised by how they begin (a party's message would not begin so).
NOTICE_PREFIXES: tuple[str, ...] = (
    "Messages and calls are end-to-end encrypted",
    "Messages to this chat and calls are now secured with end-to-end encryption",
    "Messages you send to this chat and calls are now secured with end-to-end encryption",
    "Messages to this group are now secured with end-to-end encryption",
    "Your security code with ",
    "You blocked this contact.",
    "You unblocked this contact.",
    "Berichten en gesprekken worden end-to-end versleuteld",
    "Berichten en gesprekken zijn end-to-end versleuteld",
    "Berichten die naar deze chat worden verzonden en gesprekken zijn nu beveiligd met end-to-end",
    "Uw oproepen en berichten zijn beveiligd met end-to-end",
    "Uw beveiligingscode voor ",
    "Je beveiligingscode voor ",
)

#: A deleted message, as the whole text (a final full stop allowed).
DELETED_PHRASES: tuple[str, ...] = (
    "This message was deleted",
    "You deleted this message",
    "Dit bericht is verwijderd",
    "Je hebt dit bericht verwijderd",
    "U hebt dit bericht verwijderd",
)

#: A missed call, as the whole text or followed by ", " and one of MISSED_CALL_HINTS.
MISSED_CALL_PHRASES: tuple[str, ...] = (
    "Missed voice call",
    "Missed video call",
    "Missed group voice call",
    "Missed group video call",
    "Gemist spraakgesprek",
    "Gemist videogesprek",
    "Gemiste spraakoproep",
    "Gemiste video-oproep",
)

#: What iOS writes after a missed call ("Missed voice call, Tap to call back").
MISSED_CALL_HINTS: tuple[str, ...] = (
    "Tap to call back",
    "Click to call back",
    "Tik om terug te bellen",
    "Klik om terug te bellen",
)

#: iOS names a file sent with the message as ``<attached: NAME>`` (Dutch ``<bijgevoegd: NAME>``).
ATTACHED_WORDS: tuple[str, ...] = ("attached", "bijgevoegd")
#: Android names it as ``NAME (file attached)`` (Dutch ``NAME (bestand bijgevoegd)``).
FILE_ATTACHED_WORDS: tuple[str, ...] = ("file attached", "bestand bijgevoegd")

_DATE = r"(\d{1,4})([./-])(\d{1,2})\2(\d{1,4}),? "
_TIME = r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[ \u202f\u00a0]?([AaPp])\.?[Mm]\.?)?"
_IOS = re.compile(r"[\u200e\u200f]?\[" + _DATE + _TIME + r"\] ")
_ANDROID = re.compile(r"[\u200e\u200f]?" + _DATE + _TIME + r" [-\u2013] ")
_MEDIA = re.compile(
    r"<(?:" + "|".join(map(re.escape, ATTACHED_WORDS)) + r"): ([^<>\n]+)>$"
    r"|^(.+?) \((?:" + "|".join(map(re.escape, FILE_ATTACHED_WORDS)) + r")\)$",
    re.MULTILINE,
)
_MARKS = dict.fromkeys(map(ord, DIRECTION_MARKS))
_STRIP = DIRECTION_MARKS + " \u200f"


def _alternatives(phrases: tuple[str, ...]) -> str:
    return "(?:" + "|".join(map(re.escape, phrases)) + ")"


#: A text WhatsApp writes itself: a notice by how it begins, a deleted message as the whole text (a final
#: full stop allowed), a missed call as the whole text or followed by ", " and a hint.
_SYSTEM = re.compile(
    f"[{_STRIP}]*(?:{_alternatives(NOTICE_PREFIXES)}"
    f"|(?:{_alternatives(DELETED_PHRASES)}|{_alternatives(MISSED_CALL_PHRASES)}"
    f"(?:, [{_STRIP}]*{_alternatives(MISSED_CALL_HINTS)})?)\\.?[{_STRIP}]*\\Z)"
)
#: What reading a damaged ZIP member raises (a bad CRC, a broken deflate stream, a cut-off member).
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError)
#: Every second into an hour, as a duration: a header's time is its hour's start plus one of these.
_INTO_HOUR = tuple(timedelta(seconds=second) for second in range(3600))
#: Where year, month and day stand among a header's three date fields, per order.
_ORDERS = {"dmy": (2, 1, 0), "mdy": (2, 0, 1), "ymd": (0, 1, 2)}


def read(export: ExportFile, *, zone: ZoneInfo, chat: str | None = None) -> Iterator[ExportedMessage]:
    """The messages of a WhatsApp export, in file order, read lazily.

    The chat text is found and the layout and date order decided before this returns, so a file that
    is not a WhatsApp export (or a ZIP whose chat is ambiguous) is refused by the call itself; a line
    that is not UTF-8, longer than the limit, or a date that does not exist is refused while iterating.
    ``chat`` picks the chat text of a ZIP holding several by its file name; a plain file ignores it.
    """
    member = _chat_member(export, chat)
    order, header = _scan(export, member)
    return _Reader(export, member, header, order, zone).messages()


class _Unreadable(ImportRefused):
    """A ZIP member that cannot be unpacked (as opposed to one that is no chat)."""


@contextmanager
def _lines(export: ExportFile, member: str | None) -> Iterator[Iterator[tuple[int, str]]]:
    """The numbered lines of the chat text: the plain upload, or a ZIP member opened afresh."""
    if member is None:
        with closing(read_lines(export.open_plain(), max_chars=export.limits.max_line_chars)) as lines:
            yield lines
        return
    try:
        with (
            export.open(member) as stream,
            closing(read_lines(stream, max_chars=export.limits.max_line_chars)) as lines,
        ):
            yield lines
    except _ZIP_ERRORS as error:
        raise _Unreadable(
            "file", f"the archive member {member[:200]!r} cannot be unpacked: {error}"
        ) from error


def _header_of(line: str) -> re.Pattern[str] | None:
    """The layout whose header begins ``line``: iOS, Android, or None."""
    if _IOS.match(line):
        return _IOS
    if _ANDROID.match(line):
        return _ANDROID
    return None


def _looks_like_chat(export: ExportFile, member: str) -> bool:
    """Whether one of the first HEADER_WINDOW non-empty lines of ``member`` is a WhatsApp header."""
    try:
        with _lines(export, member) as lines:
            seen = 0
            for _number, line in lines:
                if line.strip():
                    if _header_of(line):
                        return True
                    seen += 1
                    if seen >= HEADER_WINDOW:
                        return False
    except _Unreadable:
        raise
    except ImportRefused:  # not UTF-8, or a line beyond the limit: a sent document, not the chat
        return False
    return False


def _chat_member(export: ExportFile, chat: str | None) -> str | None:
    """The ZIP member holding the chat text (None for a plain upload): the one ``.txt`` that is a chat."""
    if not export.is_archive:
        return None
    chats = [
        name for name in export.members() if name.lower().endswith(".txt") and _looks_like_chat(export, name)
    ]
    listing = ", ".join(repr(name) for name in chats[:20]) + (", …" if len(chats) > 20 else "")
    if not chats:
        raise ImportRefused("file", "the archive holds no WhatsApp chat text (a .txt file with messages)")
    if chat:
        picked = [name for name in chats if chat in (name, posixpath.basename(name))]
        if len(picked) == 1:
            return picked[0]
        raise ImportRefused("chat", f"the archive holds no single chat named {chat!r}; its chats: {listing}")
    if len(chats) > 1:
        raise ImportRefused("chat", f"the archive holds several chats; choose one by file name: {listing}")
    return chats[0]


def _order_of(match: re.Match[str]) -> str | None:
    """The date order one header proves: year first, a first field over 12, or a second over 12.

    The rule over a file: a four-digit first field means year-month-day; otherwise the first header
    whose first field exceeds 12 makes the file day-first, or whose second field exceeds 12 makes it
    month-first. When no header decides (every day of the chat is the 12th of a month or earlier), a
    12-hour clock (AM/PM) makes it month-first, as in the US locale, and a 24-hour clock day-first. A
    header that contradicts the order chosen is then a date that does not exist, and refuses the file.
    """
    first, second = match.group(1), match.group(3)
    if len(first) == 4:
        return "ymd"
    if int(first) > 12:
        return "dmy"
    if int(second) > 12:
        return "mdy"
    return None


def _scan(export: ExportFile, member: str | None) -> tuple[str, re.Pattern[str]]:
    """A first pass: the layout, from the first header line, and the date order (see ``_order_of``)."""
    header: re.Pattern[str] | None = None
    first: re.Match[str] | None = None
    with _lines(export, member) as lines:
        seen = 0
        for _number, line in lines:
            if header is None:
                if not line.strip():
                    continue
                seen += 1
                header = _header_of(line)
                if header is None:
                    if seen >= HEADER_WINDOW:
                        break
                    continue
            match = header.match(line)
            if match is None:
                continue
            first = first or match
            order = _order_of(match)
            if order:
                return order, header
    if header is None or first is None:
        window = f"none of its first {HEADER_WINDOW} non-empty lines is a message header"
        raise ImportRefused("file", f"this is not a WhatsApp chat export: {window}")
    return ("mdy" if first.group(8) else "dmy"), header


class _Reader:
    """The second pass over one chat text: header lines start messages, other lines continue them."""

    def __init__(
        self, export: ExportFile, member: str | None, header: re.Pattern[str], order: str, zone: ZoneInfo
    ) -> None:
        self.export = export
        self.member = member
        self.header = header
        self.fields = _ORDERS[order]
        self.zone = zone
        self.label = f"{member}: line " if member else "line "
        self.folder = posixpath.dirname(member) if member else ""
        self.senders: dict[str, str] = {}
        #: The last header's fields and time, and the last hour's fields and start (headers repeat them).
        self.last: tuple[tuple[str | None, ...], datetime] = ((), datetime.min)
        self.hour: tuple[tuple[str | None, ...], datetime] = ((), datetime.min)

    def messages(self) -> Iterator[ExportedMessage]:
        """Each message once its last line is read (the next header, or the end of the file)."""
        match_header = self.header.match
        with _lines(self.export, self.member) as lines:
            start = 0
            found: re.Match[str] | None = None
            parts: list[str] = []
            for number, line in lines:
                match = match_header(line)
                if match is not None:
                    if found is not None:
                        yield self._message(start, found, parts)
                    start, found, parts = number, match, [line[match.end() :]]
                elif found is not None:
                    parts.append(line)
                elif line.strip():
                    raise ImportRefused(
                        "file", f"{self.label}{number} is not a message and precedes the first"
                    )
            if found is not None:
                yield self._message(start, found, parts)

    def _message(self, number: int, match: re.Match[str], parts: list[str]) -> ExportedMessage:
        """The message a header and its continuation lines make; blank lines ending it are dropped."""
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        name, colon, first = parts[0].partition(": ")
        sender = self._sender(name) if colon else None
        parts[0] = first if colon else name
        text = parts[0] if len(parts) == 1 else "\n".join(parts)
        # Positional, in the dataclass's field order: the keyword form costs a third more per message.
        return ExportedMessage(
            sender,
            self._sent_at(number, match),
            text,
            f"{self.label}{number}",
            SYSTEM if sender is None or _SYSTEM.match(text) else MESSAGE,
            None,
            self._media(text) if self.member is not None else (),
            True,
        )

    def _sender(self, name: str) -> str:
        """The name as written, without WhatsApp's direction marks (the first few hundred names cached)."""
        clean = self.senders.get(name)
        if clean is None:
            clean = name.translate(_MARKS)
            if len(self.senders) < 500:
                self.senders[name] = clean
        return clean

    def _sent_at(self, number: int, match: re.Match[str]) -> datetime:
        """The header's time: its hour's start, read in the zone, plus its minutes and seconds.

        An aware time plus a duration is wall-clock arithmetic that keeps ``fold=0``, so the sum is the
        very value ``local_time`` gives for the whole time, in the hours the clocks change included.
        A date or time that does not exist refuses the file.
        """
        groups = match.groups()
        if groups == self.last[0]:
            return self.last[1]
        minutes, seconds = int(groups[5]), int(groups[6] or 0)
        hour = groups[:5] + groups[7:]  # the date's fields, the hour and AM/PM
        try:
            if minutes > 59 or seconds > 59:
                raise ValueError(minutes, seconds)
            if hour != self.hour[0]:
                self.hour = (hour, self._hour_start(hour))
        except ValueError:
            stamp = match.group(0).strip(_STRIP + "[]-\u2013 ")
            raise ImportRefused("file", f"{self.label}{number}: the date {stamp!r} does not exist") from None
        sent_at = self.hour[1] + _INTO_HOUR[minutes * 60 + seconds]
        self.last = (groups, sent_at)
        return sent_at

    def _hour_start(self, hour: tuple[str | None, ...]) -> datetime:
        """The start of a header's hour, its date's fields in the file's order; ValueError if none exists."""
        first, _separator, second, third, hours, half = hour
        year, month, day = ((first, second, third)[index] for index in self.fields)
        if (
            not (year and month and day and hours)
            or len(year) not in (2, 4)
            or len(month) > 2
            or len(day) > 2
        ):
            raise ValueError(year)
        clock = int(hours)
        if half:
            if not 1 <= clock <= 12:
                raise ValueError(hours)
            clock = clock % 12 + (12 if half in "Pp" else 0)
        naive = datetime(int(year) + (2000 if len(year) == 2 else 0), int(month), int(day), clock)
        return local_time(naive, self.zone)

    def _media(self, text: str) -> tuple[str, ...]:
        """The archive members the text names as sent files; a name the archive lacks is left out."""
        if ">" not in text and ")" not in text:
            return ()
        found: list[str] = []
        for match in _MEDIA.finditer(text):
            name = (match.group(1) or match.group(2)).strip(_STRIP)
            path = posixpath.join(self.folder, name)
            if path not in found and self.export.has(path):
                found.append(path)
        return tuple(found)
