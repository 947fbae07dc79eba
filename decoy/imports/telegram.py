"""Telegram Desktop's "Export chat history" in machine-readable JSON: ``result.json``, plain or zipped.

Two layouts exist. Exporting one chat writes ``{"name", "type", "id", "messages": [...]}``; exporting
the whole account writes ``{"about", "personal_information", ..., "chats": {"list": [{"name",
"type", "id", "messages": [...]}, ...]}}``, from which the ``chat`` argument (a chat's name or its id
as result.json writes it) selects one. Messages are listed oldest first, as Telegram writes them.

The file is streamed with ijson: one message is in memory at a time. A whole-account export is read
twice: a first pass notes each chat's name, id and number of messages (and checks the whole file is
valid JSON); the second builds only the selected chat's messages.

A ``"service"`` element (a call, a pinned message, a member added) is a SYSTEM line whose text is its
action followed by its other fields as written.

Times: ``date_unixtime`` (seconds since 1970 in UTC, written as a string) is used where present;
older exports have only ``date``, the exporting computer's wall-clock time without an offset, which is
read in the caller's zone (``zone_assumed``). Media paths are relative to result.json's folder; they
become the archive's member names, and only those present in the archive are kept.
"""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

import ijson  # type: ignore[import-untyped]

from .exports import MESSAGE, SYSTEM, ExportedMessage, ExportFile, ImportRefused, local_time

__all__ = ["read"]

RESULT = "result.json"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The keys of a message whose value names a file of the export (relative to result.json's folder).
_MEDIA_KEYS = ("photo", "file", "thumbnail", "contact_vcard")
#: The keys of a service message that are not details of its action.
_SERVICE_COMMON = frozenset(
    {"id", "type", "date", "date_unixtime", "edited", "edited_unixtime", "actor", "actor_id", "action"}
    | {"text", "text_entities", "from_id", "to_id", "width", "height", *_MEDIA_KEYS}
)
_LISTED = 30


@dataclass(frozen=True)
class _Chat:
    """A chat of the export, as its first pass saw it."""

    name: str | None
    id: str | None
    messages: int = 0


@dataclass(frozen=True)
class _Reading:
    """What a message needs besides itself: the zone for times without an offset, and where media are."""

    zone: ZoneInfo
    folder: str
    archive: ExportFile | None


@dataclass(frozen=True)
class _Place:
    """Where the selected chat's messages are: the ijson prefix, how many to skip and take, the source."""

    prefix: str
    source: str
    skip: int = 0
    take: int | None = None


def read(export: ExportFile, *, zone: ZoneInfo, chat: str | None = None) -> Iterator[ExportedMessage]:
    """The messages of the export's chat (the one ``chat`` names in a whole-account export), oldest first."""
    member = _result_member(export) if export.is_archive else None
    label = f"{member}: " if member else ""
    with _open(export, member) as stream:
        place = _place(_survey(stream, label), chat or None)
    folder = member[: -len(RESULT)] if member else ""
    reading = _Reading(zone, folder, export if export.is_archive else None)
    with _open(export, member) as stream:
        for index, raw in _items(stream, place, label):
            yield _message(raw, f"{label}{place.source}[{index}]", reading)


def _result_member(export: ExportFile) -> str:
    """The archive's result.json: at its root or in one top folder (as Telegram Desktop names it)."""
    found = [name for name in export.members() if name == RESULT or _in_top_folder(name, RESULT)]
    if len(found) == 1:
        return found[0]
    if found:
        raise ImportRefused("file", f"the archive holds several Telegram exports: {', '.join(sorted(found))}")
    if any(name.rsplit("/", 1)[-1] == "messages.html" for name in export.members()):
        raise ImportRefused(
            "file",
            "not a Telegram chat export in JSON: the archive holds Telegram's HTML export; export the chat "
            "again choosing 'Machine-readable JSON'",
        )
    raise ImportRefused("file", "not a Telegram chat export: the archive holds no result.json")


def _in_top_folder(name: str, base: str) -> bool:
    folder, _, rest = name.partition("/")
    return bool(folder) and rest == base


@contextlib.contextmanager
def _open(export: ExportFile, member: str | None) -> Iterator[IO[bytes]]:
    """The export's JSON from its start: the archive member, or the plain upload (left open)."""
    if member is None:
        yield export.open_plain()
        return
    with export.open(member) as stream:
        yield stream


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


_READ_ERRORS = (ijson.JSONError, zipfile.BadZipFile, EOFError, OSError)


def _survey(stream: IO[bytes], label: str) -> _Chat | list[_Chat]:
    """The layout: a single chat (its name and id), or every chat of a whole-account export."""
    events = ijson.parse(stream)
    subject = label[:-2] or "the file"
    try:
        first = next(events, None)
    except _READ_ERRORS as error:
        raise ImportRefused("file", f"not a Telegram chat export: {subject} is not JSON") from error
    if first is None or first[1] != "start_map":
        raise ImportRefused("file", f"not a Telegram chat export: {subject} does not hold a JSON object")
    top: dict[str, Any] = {}
    where = "the start of the file"
    try:
        for prefix, event, value in events:
            if prefix == "" and event == "map_key":
                where = value
                if value == "messages":
                    if next(events)[1] != "start_array":
                        raise ImportRefused("file", f"{label}messages is not a list")
                    return _single(top, label)
                if value == "chats":
                    return _account(events, label)
            elif prefix in ("name", "type", "id"):
                top[prefix] = value
    except _READ_ERRORS as error:
        raise ImportRefused("file", f"{_json_error(error)} at {label}{where}") from error
    raise ImportRefused("file", f"not a Telegram chat export: {subject} has neither messages nor chats")


def _single(top: dict[str, Any], label: str) -> _Chat:
    """A one-chat export, known by the name, type and id Telegram Desktop writes before its messages."""
    if "id" not in top or "type" not in top:
        subject = label[:-2] or "the file"
        raise ImportRefused(
            "file", f"not a Telegram chat export: {subject} has messages but no chat type and id before them"
        )
    return _Chat(_name(top.get("name")), _id_text(top["id"]))


def _account(events: Iterator[tuple[str, str, Any]], label: str) -> list[_Chat]:
    """The chats of a whole-account export: their names, ids and numbers of messages (to the file's end)."""
    chats: list[dict[str, Any]] = []
    where, inside = "chats", False
    try:
        for prefix, event, value in events:
            if prefix == "chats.list.item.messages.item":
                if event != "map_key":
                    inside = event in ("start_map", "start_array")
                    chats[-1]["messages"] += event not in ("end_map", "end_array")
            elif prefix == "chats.list.item" and event == "start_map":
                chats.append({"name": None, "id": None, "messages": 0})
            elif prefix in ("chats.list.item.name", "chats.list.item.id") and chats:
                chats[-1][prefix.rsplit(".", 1)[1]] = value
            elif prefix == "" and event == "map_key":
                where = value
    except _READ_ERRORS as error:
        if chats and where == "chats":
            where = f"chats.list[{len(chats) - 1}].messages[{chats[-1]['messages'] - inside}]"
        raise ImportRefused("file", f"{_json_error(error)} at {label}{where}") from error
    return [_Chat(_name(c["name"]), _id_text(c["id"]), c["messages"]) for c in chats]


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _id_text(value: Any) -> str | None:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _place(layout: _Chat | list[_Chat], chat: str | None) -> _Place:
    """Where the chat to import is: the single chat (checked against ``chat``), or the one ``chat`` names."""
    if isinstance(layout, _Chat):
        if chat is not None and chat not in (layout.name, layout.id):
            raise ImportRefused("chat", f"this export holds only the chat {_describe(layout)}")
        return _Place("messages.item", "messages")
    index = _select(layout, chat)
    skip = sum(c.messages for c in layout[:index])
    return _Place(
        "chats.list.item.messages.item", f"chats.list[{index}].messages", skip, layout[index].messages
    )


def _select(chats: list[_Chat], chat: str | None) -> int:
    """The index of the chat named (or numbered) ``chat``; without ``chat``, of the export's only chat."""
    if not chats:
        raise ImportRefused("file", "the Telegram export holds no chats")
    if chat is None:
        if len(chats) == 1:
            return 0
        raise ImportRefused("chat", f"the export holds {len(chats)} chats; choose one: {_listing(chats)}")
    matches = [k for k, c in enumerate(chats) if chat in (c.name, c.id)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        listed = _listing([chats[k] for k in matches])
        raise ImportRefused("chat", f"several chats are named {chat!r}; give the id of one: {listed}")
    raise ImportRefused(
        "chat", f"the export holds no chat named or numbered {chat!r}; it holds: {_listing(chats)}"
    )


def _describe(chat: _Chat) -> str:
    name = repr(chat.name) if chat.name is not None else "(no name)"
    return f"{name} (id {chat.id})"


def _listing(chats: list[_Chat]) -> str:
    shown = ", ".join(_describe(c) for c in chats[:_LISTED])
    return shown + (f" and {len(chats) - _LISTED} more" if len(chats) > _LISTED else "")


def _items(stream: IO[bytes], place: _Place, label: str) -> Iterator[tuple[int, Any]]:
    """The selected chat's raw messages with their indices, as ijson builds them one at a time."""
    count = 0
    try:
        items = ijson.items(stream, place.prefix, use_float=True)
        for _ in range(place.skip):
            next(items)
        for raw in items:
            if place.take is not None and count >= place.take:
                return
            yield count, raw
            count += 1
    except _READ_ERRORS as error:
        raise ImportRefused("file", f"{_json_error(error)} at {label}{place.source}[{count}]") from error
    except StopIteration as error:  # the file changed between the two passes
        raise ImportRefused(
            "file", f"the export changed while it was read ({label}{place.source})"
        ) from error


def _message(raw: Any, source: str, reading: _Reading) -> ExportedMessage:
    """One message of result.json as an ExportedMessage (a service message as a SYSTEM line).

    The common case (a message with ``date_unixtime`` and a plain text) takes the shortest path.
    """
    if type(raw) is not dict:
        raise ImportRefused("file", f"{source} is not an object")
    kind = raw.get("type")
    if kind == "message":
        sender, text = raw.get("from"), raw.get("text")
        if type(text) is not str:
            text = _text(raw, source)
    elif kind == "service":
        sender, text = raw.get("actor"), _service_text(raw, source)
    else:
        raise ImportRefused("file", _unknown_type(kind, source))
    if sender is not None and type(sender) is not str:
        raise ImportRefused("file", f"{source}.{'from' if kind == 'message' else 'actor'} is not text")
    platform_id = raw.get("id")
    if type(platform_id) is not int:
        raise ImportRefused("file", f"{source}.id is not a number")
    unix = raw.get("date_unixtime")
    if type(unix) is str and unix.isascii() and unix.isdigit() and len(unix) < 12:
        sent_at, assumed = datetime.fromtimestamp(int(unix), UTC), False
    else:
        sent_at, assumed = _time(raw, source, reading.zone)
    media = () if reading.archive is None else _media(raw, reading.folder, reading.archive, source)
    kind = MESSAGE if kind == "message" else SYSTEM
    return ExportedMessage(sender, sent_at, text, source, kind, str(platform_id), media, assumed)


def _unknown_type(kind: Any, source: str) -> str:
    if kind == "unsupported":
        return (
            f"{source} is a message Telegram Desktop could not export (type 'unsupported'); update "
            "Telegram Desktop and export the chat again"
        )
    return f"{source}.type is not 'message' or 'service'"


def _time(raw: dict[str, Any], where: str, zone: ZoneInfo) -> tuple[datetime, bool]:
    """The message's time: ``date_unixtime`` (UTC) where present, else ``date`` read in ``zone``."""
    unix = raw.get("date_unixtime")
    if unix is not None:
        if isinstance(unix, str) and unix.isascii() and unix.isdigit():
            unix = int(unix)
        if not isinstance(unix, int) or isinstance(unix, bool) or unix < 0:
            raise ImportRefused("file", f"{where}.date_unixtime is not a number")
        try:
            return _EPOCH + timedelta(seconds=unix), False
        except OverflowError as error:
            raise ImportRefused("file", f"{where}.date_unixtime is out of range") from error
    date = raw.get("date")
    if not isinstance(date, str):
        raise ImportRefused("file", f"{where} has no date" if date is None else f"{where}.date is not text")
    try:
        parsed = datetime.fromisoformat(date)
    except ValueError as error:
        raise ImportRefused("file", f"{where}.date is not a date and time: {date[:40]!r}") from error
    if parsed.tzinfo is not None:
        return parsed, False
    return local_time(parsed, zone), True


def _text(raw: dict[str, Any], where: str) -> str:
    """The message's text: ``text`` (a string, or a list of strings and entities), joined verbatim."""
    key = "text" if "text" in raw else "text_entities"
    value = raw.get(key, "")
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise ImportRefused("file", f"{where}.{key} is not text or a list")
    parts = []
    for k, part in enumerate(value):
        if isinstance(part, dict):
            part = part.get("text")
        if not isinstance(part, str):
            raise ImportRefused("file", f"{where}.{key}[{k}] is not text or an entity with text")
        parts.append(part)
    return "".join(parts)


def _service_text(raw: dict[str, Any], where: str) -> str:
    """A service message as a line: its action ("phone_call" reads "Phone call"), then its other fields
    as written, e.g. "Phone call (duration_seconds: 42, discard_reason: hangup)"."""
    action = raw.get("action")
    if action is None and isinstance(raw.get("information_text"), str):
        label, details = raw["information_text"], ""
    else:
        if not isinstance(action, str):
            raise ImportRefused("file", f"{where}.action is not text")
        label = action.replace("_", " ").capitalize()
        details = ", ".join(
            f"{key}: {_detail(value)}" for key, value in raw.items() if _is_detail(key, value)
        )
    text = _text(raw, where)
    return (f"{label} ({details})" if details else label) + (f"\n{text}" if text else "")


def _is_detail(key: str, value: Any) -> bool:
    if key in _SERVICE_COMMON or isinstance(value, dict):
        return False
    return not isinstance(value, list) or all(not isinstance(item, dict | list) for item in value)


def _detail(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_detail(item) for item in value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _media(raw: dict[str, Any], folder: str, export: ExportFile, where: str) -> tuple[str, ...]:
    """The archive members the message names; a skipped file's note ("(File not included...)") is none."""
    found = []
    for key in _MEDIA_KEYS:
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ImportRefused("file", f"{where}.{key} is not text")
        if export.has(folder + value) and folder + value not in found:
            found.append(folder + value)
    return tuple(found)
