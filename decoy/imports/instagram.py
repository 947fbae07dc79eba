"""Instagram's messages from Meta's "Download your information", in JSON: one thread of ``message_N.json``.

An export holds a folder per conversation ("thread"): ``your_instagram_activity/messages/inbox/<thread>/``
(``messages/inbox/<thread>/`` in older exports; ``message_requests`` instead of ``inbox`` for a request
not yet accepted), with ``message_1.json``, ``message_2.json``, ... Each file is
``{"participants": [{"name"}], "messages": [...], "title", "thread_path", ...}``; message_1.json holds
the newest messages and every file lists its messages newest first. The reader goes from the
highest-numbered file down to message_1.json and yields each file's messages oldest first (by
``timestamp_ms``, the file's order kept between equal times), so that the whole thread comes out oldest
first. One file's message list is in memory at a time (Meta caps a file's size; ijson reads it); a
plain upload is a single message_N.json.

Meta writes text as UTF-8 bytes read back as Latin-1 ("cafÃ©" for "café"); names, texts and titles are
decoded back where the string is such a sequence, and kept as written otherwise (see ``fix_text``).
Times are milliseconds since 1970 in UTC. The export has no message ids.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import IO, Any
from zoneinfo import ZoneInfo

import ijson  # type: ignore[import-untyped]

from .exports import MESSAGE, SYSTEM, ExportedMessage, ExportFile, ImportRefused

__all__ = ["fix_text", "read"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_THREAD_FILE = re.compile(
    r"(?P<prefix>(?:[^/]+/)*?)(?P<box>messages/(?:inbox|message_requests))/(?P<name>[^/]+)"
    r"/message_(?P<number>[1-9][0-9]*)\.json"
)
_ACTIVITY = "your_instagram_activity/"
#: The keys of a message that list its files (each ``{"uri": ...}``), and the one that holds a single file.
_MEDIA_LISTS = ("photos", "videos", "audio_files", "gifs", "files")
_MEDIA_SINGLE = ("sticker",)
#: Lines Instagram writes for a call (English export): on their own, or after a participant's name.
_CALL_LINE = re.compile(
    r"(?i)(?:(?:audio|video) (?:call|chat) ended|missed (?:an? )?(?:audio|video) (?:call|chat)"
    r"|call ended|missed call)\.?"
)
_CALL_BY = re.compile(
    r"(?i)(?P<who>.+?) (?:started|missed|joined|ended|left) (?:an?|the) (?:audio|video) (?:call|chat)\.?"
)
_READ_ERRORS = (ijson.JSONError, zipfile.BadZipFile, EOFError, OSError)
_LISTED = 30


@dataclass(frozen=True)
class _Thread:
    """A conversation's folder in the archive: its name as Meta writes thread_path, and its files."""

    path: str
    folder: str
    #: The file names, oldest (highest-numbered) first.
    files: tuple[str, ...]
    #: Where the export's root is, for the media ``uri`` (relative to it): one or two candidates.
    roots: tuple[str, ...]


@dataclass(frozen=True)
class _File:
    """What a message needs of its file: who takes part, and where its media are."""

    participants: frozenset[str]
    roots: tuple[str, ...]
    archive: ExportFile | None


def fix_text(value: str) -> str:
    """Meta's text decoded back: a string whose characters are the Latin-1 reading of UTF-8 bytes is
    read as UTF-8 ("cafÃ©" becomes "café"); any other string (one with a character beyond U+00FF, or
    whose bytes are not UTF-8) is returned as it is."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def read(export: ExportFile, *, zone: ZoneInfo, chat: str | None = None) -> Iterator[ExportedMessage]:
    """The messages of one thread, oldest first (``zone`` is unused: every time here is in UTC)."""
    if export.is_archive:
        thread = _select(_threads(export), chat or None, export)
        members: tuple[str | None, ...] = thread.files
        roots = thread.roots
    else:
        members, roots = (None,), ("",)
        if chat:
            _check_plain_chat(export, chat)
    previous: tuple[int, str] | None = None
    for member in members:
        timed = _file_messages(export, member, roots)
        if timed and previous is not None and timed[0][0] < previous[0]:
            raise ImportRefused(
                "file",
                f"{timed[0][1].source} is older than {previous[1]}: the thread's files are not in order",
            )
        if timed:
            previous = (timed[-1][0], timed[-1][1].source)
        yield from (message for _, message in timed)


def _threads(export: ExportFile) -> list[_Thread]:
    """The archive's threads, each with its message_N.json files (refused when one is missing)."""
    found: dict[str, dict[int, str]] = {}
    prefixes: dict[str, str] = {}
    for name in export.members():
        match = _THREAD_FILE.fullmatch(name)
        if match:
            folder = name.rsplit("/", 1)[0]
            found.setdefault(folder, {})[int(match["number"])] = name
            prefixes[folder] = match["prefix"]
    if not found:
        raise ImportRefused("file", _no_threads(export))
    threads = []
    for folder, numbers in sorted(found.items()):
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        if missing:
            raise ImportRefused("file", f"the thread {folder} lacks message_{missing[0]}.json")
        prefix = prefixes[folder]
        roots = tuple(dict.fromkeys((prefix.removesuffix(_ACTIVITY), prefix)))
        files = tuple(numbers[n] for n in sorted(numbers, reverse=True))
        threads.append(_Thread(folder[len(prefix) + len("messages/") :], folder, files, roots))
    return threads


def _no_threads(export: ExportFile) -> str:
    if any(
        re.search(r"messages/(?:inbox|message_requests)/[^/]+/message_\d+\.html$", n)
        for n in export.members()
    ):
        return (
            "not an Instagram message export in JSON: the archive holds Meta's HTML export; request the "
            "download again choosing the JSON format"
        )
    return "not an Instagram message export: the archive holds no messages/inbox/<thread>/message_1.json"


def _select(threads: list[_Thread], chat: str | None, export: ExportFile) -> _Thread:
    """The thread ``chat`` names (its folder name, its thread_path, or its title); the only one without."""
    if chat is None:
        if len(threads) == 1:
            return threads[0]
        raise ImportRefused(
            "chat", f"the export holds {len(threads)} conversations; choose one: {_listing(threads)}"
        )
    matches = [t for t in threads if chat in (t.path, t.path.rsplit("/", 1)[1], t.folder)]
    if not matches:
        matches = [t for t in threads if _top_text(export, t.files[-1], "title") == chat]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ImportRefused(
            "chat", f"several conversations are named {chat!r}; give one of: {_listing(matches)}"
        )
    raise ImportRefused("chat", f"the export holds no conversation {chat!r}; it holds: {_listing(threads)}")


def _listing(threads: list[_Thread]) -> str:
    shown = ", ".join(t.path for t in threads[:_LISTED])
    return shown + (f" and {len(threads) - _LISTED} more" if len(threads) > _LISTED else "")


def _check_plain_chat(export: ExportFile, chat: str) -> None:
    """A single uploaded file holds one conversation: ``chat`` must be its title or thread_path."""
    _participants(export, None, "")  # an Instagram file at all
    title = _top_text(export, None, "title")
    path = _top_text(export, None, "thread_path")
    if chat not in (title, path, (path or "").rsplit("/", 1)[-1]):
        raise ImportRefused("chat", f"this file holds only the conversation {title!r} ({path})")


def _open(export: ExportFile, member: str | None) -> IO[bytes]:
    return export.open_plain() if member is None else export.open(member)


def _top_text(export: ExportFile, member: str | None, key: str) -> str | None:
    """A top-level text of a file (its title, its thread_path), decoded; None where there is none."""
    value = _top_value(export, member, key)
    return fix_text(value) if isinstance(value, str) else None


def _top_value(export: ExportFile, member: str | None, key: str) -> Any:
    """A top-level value of a file (None where there is none): ijson skips everything before it."""
    stream = _open(export, member)
    try:
        return next(ijson.items(stream, key), None)
    except _READ_ERRORS as error:
        raise ImportRefused("file", f"{_json_error(error)} in {member or 'the file'}") from error
    finally:
        if member is not None:
            stream.close()


def _json_error(error: Exception) -> str:
    """ijson's or the archive's complaint, first line only (yajl appends a copy of the text around it)."""
    if isinstance(error, ijson.IncompleteJSONError) and "premature EOF" in str(error):
        return "the file ends early (truncated JSON)"
    if isinstance(error, ijson.JSONError):
        message = error.args[0] if error.args else error
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        return f"invalid JSON ({str(message).splitlines()[0].strip().rstrip('.')})"
    return f"the archive member cannot be read ({error})"


def _file_messages(
    export: ExportFile, member: str | None, roots: tuple[str, ...]
) -> list[tuple[int, ExportedMessage]]:
    """One file's messages with their timestamps, oldest first."""
    label = f"{member}: " if member else ""
    participants = _participants(export, member, label)
    context = _File(participants, roots, export if export.is_archive else None)
    timed = [
        _message(raw, f"{label}messages[{index}]", context)
        for index, raw in _raw_messages(export, member, label)
    ]
    return sorted(reversed(timed), key=itemgetter(0))


def _participants(export: ExportFile, member: str | None, label: str) -> frozenset[str]:
    """The file's participants' names, which also tell an Instagram message file from anything else."""
    subject = member or "the file"
    stream = _open(export, member)
    try:
        found = next(ijson.items(stream, "participants"), None)
    except _READ_ERRORS as error:
        raise ImportRefused("file", f"not an Instagram message export: {subject} is not JSON") from error
    finally:
        if member is not None:
            stream.close()
    if not isinstance(found, list):
        raise ImportRefused("file", f"not an Instagram message export: {subject} has no participants")
    names = set()
    for index, participant in enumerate(found):
        name = participant.get("name") if isinstance(participant, dict) else None
        if not isinstance(name, str):
            raise ImportRefused("file", f"{label}participants[{index}].name is not text")
        names.add(fix_text(name))
    return frozenset(names)


def _raw_messages(export: ExportFile, member: str | None, label: str) -> list[tuple[int, Any]]:
    """The file's messages as written, with their indices (the whole file is checked to be valid JSON)."""
    found: list[tuple[int, Any]] = []
    stream = _open(export, member)
    try:
        for raw in ijson.items(stream, "messages.item", use_float=True):
            found.append((len(found), raw))
    except _READ_ERRORS as error:
        raise ImportRefused("file", f"{_json_error(error)} at {label}messages[{len(found)}]") from error
    finally:
        if member is not None:
            stream.close()
    if not found and not isinstance(_top_value(export, member, "messages"), list):
        raise ImportRefused("file", f"{label or 'the file: '}messages is not a list")
    return found


def _message(raw: Any, where: str, context: _File) -> tuple[int, ExportedMessage]:
    """One message of the file, with its timestamp (for ordering)."""
    if not isinstance(raw, dict):
        raise ImportRefused("file", f"{where} is not an object")
    sender, content = _optional_text(raw, "sender_name", where), _optional_text(raw, "content", where)
    stamp = raw.get("timestamp_ms")
    if stamp is None:
        raise ImportRefused("file", f"{where} has no timestamp_ms")
    if type(stamp) is not int:
        raise ImportRefused("file", f"{where}.timestamp_ms is not a number")
    try:
        sent_at = _EPOCH + timedelta(milliseconds=stamp)
    except OverflowError as error:
        raise ImportRefused("file", f"{where}.timestamp_ms is out of range") from error
    media = _media(raw, where, context)
    text = _with_share_link(raw, content or "", where)
    kind = SYSTEM if not media and _is_call(raw, sender, content, context.participants) else MESSAGE
    if kind == SYSTEM and not text:
        text = f"call_duration: {raw['call_duration']}"
    return stamp, ExportedMessage(sender, sent_at, text, where, kind, None, media, False)


def _optional_text(raw: dict[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ImportRefused("file", f"{where}.{key} is not text")
    return fix_text(value)


def _is_call(
    raw: dict[str, Any], sender: str | None, content: str | None, participants: frozenset[str]
) -> bool:
    """A call's line: it has ``call_duration``, or its whole text is one of the call lines Instagram writes
    ("Video chat ended", "Missed audio call", "<participant> started a video chat", ...)."""
    if isinstance(raw.get("call_duration"), int | float):
        return True
    if content is None:
        return False
    if _CALL_LINE.fullmatch(content):
        return True
    match = _CALL_BY.fullmatch(content)
    return match is not None and match["who"] in participants | {sender, "You"}


def _with_share_link(raw: dict[str, Any], text: str, where: str) -> str:
    """The text, followed on its own line by a shared post's link when the text does not hold it already."""
    share = raw.get("share")
    if share is None:
        return text
    link = share.get("link") if isinstance(share, dict) else None
    if link is None:
        return text
    if not isinstance(link, str):
        raise ImportRefused("file", f"{where}.share.link is not text")
    if link in text:
        return text
    return f"{text}\n{link}" if text else link


def _media(raw: dict[str, Any], where: str, context: _File) -> tuple[str, ...]:
    """The archive members the message's files name (their ``uri``, relative to the export's root)."""
    found: list[str] = []
    for key in (*_MEDIA_LISTS, *_MEDIA_SINGLE):
        value = raw.get(key)
        if value is None:
            continue
        entries = [value] if key in _MEDIA_SINGLE else value
        if not isinstance(entries, list):
            raise ImportRefused("file", f"{where}.{key} is not a list")
        for index, entry in enumerate(entries):
            place = f"{where}.{key}" if key in _MEDIA_SINGLE else f"{where}.{key}[{index}]"
            uri = entry.get("uri") if isinstance(entry, dict) else None
            if not isinstance(uri, str):
                raise ImportRefused("file", f"{place}.uri is not text")
            member = _member(uri, context)
            if member is not None and member not in found:
                found.append(member)
    return tuple(found)


def _member(uri: str, context: _File) -> str | None:
    if context.archive is None:
        return None
    for root in context.roots:
        if context.archive.has(root + uri):
            return root + uri
    return None
