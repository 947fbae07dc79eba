"""Decoy's own JSON Lines export, for capture tools that are not a platform's own export.

One JSON object per line (UTF-8, lines of at most ``Limits.max_line_chars`` characters), in the order
the messages were sent, oldest first::

    {"decoy_export": 1, "platform": "examplechat", "chat": "Alex", "tool": "capture-tool 2.1"}
    {"id": "m-1001", "sent_at": "2026-03-01T13:00:00+01:00", "from": "Alex", "text": "hello, how are you"}
    {"id": "m-1002", "sent_at": "2026-03-01T13:01:10+01:00", "from": "Sam Decoy", "text": "fine thanks"}
    {"id": "m-1003", "sent_at": "2026-03-01T13:02:00+01:00", "kind": "system", "text": "Missed call"}
    {"id": "m-1004", "sent_at": "2026-03-01T13:05:00+01:00", "from": "Alex", "attachments": ["media/1.jpg"]}

The first line may be a header (it is the one with ``decoy_export``, the format's version, 1).
Every other line is a message: ``id`` (required: the tool's or the platform's id, unique in the file,
at most 255 characters), ``sent_at`` (required: RFC 3339 with an offset), ``from`` (the author's name
as shown; absent or null: unknown), ``text`` (default ""), ``kind`` ("message", the default, or
"system": a line the platform wrote), ``attachments`` (archive member names). Any other key, a repeated
id, a time without an offset, or a time earlier than the line before refuses the file. Blank lines are
skipped. The file is uploaded as it is, or zipped with its attachments (the .jsonl at the ZIP's root).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from .exports import MESSAGE, SYSTEM, ExportedMessage, ExportFile, ImportRefused, read_lines

__all__ = ["VERSION", "read"]

VERSION = 1
HEADER_KEYS = frozenset({"decoy_export", "platform", "chat", "tool"})
MESSAGE_KEYS = frozenset({"id", "sent_at", "from", "text", "kind", "attachments"})
MAX_ID_CHARS = 255
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")
_KINDS = {"message": MESSAGE, "system": SYSTEM}


def read(export: ExportFile, *, zone: ZoneInfo, chat: str | None = None) -> Iterator[ExportedMessage]:
    """The file's messages, in the file's order (which must be oldest first); ``zone`` is unused."""
    member = _jsonl_member(export) if export.is_archive else None
    label = f"{member}: " if member else ""
    stream: IO[bytes] = export.open(member) if member else export.open_plain()
    seen: dict[str, int] = {}
    previous: ExportedMessage | None = None
    try:
        for number, value in _values(stream, export, label, chat or None):
            message = _message(value, f"{label}line {number}", export)
            _check_unique(message.platform_id or "", number, seen, label)
            if previous is not None and message.sent_at < previous.sent_at:
                raise ImportRefused("file", f"{message.source}: sent_at is earlier than on {previous.source}")
            previous = message
            yield message
    finally:
        if member:
            stream.close()


def _values(stream: IO[bytes], export: ExportFile, label: str, chat: str | None) -> Iterator[tuple[int, Any]]:
    """The message lines' JSON values with their line numbers; the header, if any, checked and left out."""
    first = True
    for number, line in read_lines(stream, max_chars=export.limits.max_line_chars):
        if not line.strip():
            continue
        value = _parse(line, number, label, first)
        if first and isinstance(value, dict) and "decoy_export" in value:
            _check_header(value, number, label, chat)
        elif first and not (isinstance(value, dict) and "id" in value and "sent_at" in value):
            raise ImportRefused(
                "file", f"not a Decoy JSON Lines export: {label}line {number} is not a message"
            )
        else:
            yield number, value
        first = False


def _jsonl_member(export: ExportFile) -> str:
    """The archive's one .jsonl file at its root."""
    found = sorted(name for name in export.members() if "/" not in name and name.endswith(".jsonl"))
    if len(found) == 1:
        return found[0]
    if found:
        raise ImportRefused("file", f"the archive holds several .jsonl files at its root: {', '.join(found)}")
    raise ImportRefused("file", "not a Decoy JSON Lines export: the archive holds no .jsonl file at its root")


def _parse(line: str, number: int, label: str, first: bool) -> Any:
    """One line's JSON value; a repeated key in an object, NaN or Infinity refuse the file."""
    try:
        return _DECODER.decode(line)
    except json.JSONDecodeError as error:
        lead = "not a Decoy JSON Lines export: " if first else ""
        raise ImportRefused(
            "file", f"{lead}{label}line {number} is not valid JSON ({error.msg} at column {error.colno})"
        ) from error
    except _Unreadable as error:
        raise ImportRefused("file", f"{label}line {number} {error}") from error
    except RecursionError as error:
        raise ImportRefused("file", f"{label}line {number} nests too deeply") from error


class _Unreadable(ValueError):
    """A line that is JSON to Python's parser but not to this format (a repeated key, NaN)."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        keys = [key for key, _ in pairs]
        raise _Unreadable(f"names the key {next(k for k in keys if keys.count(k) > 1)!r} twice")
    return result


def _constant(name: str) -> Any:
    raise _Unreadable(f"holds {name}, which is not a JSON number")


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_constant)


def _check_header(header: dict[str, Any], number: int, label: str, chat: str | None) -> None:
    """The header: version 1, text values, no other keys; its ``chat`` (if any) must be the one asked for."""
    where = f"{label}line {number}"
    _no_unknown_keys(header, HEADER_KEYS, where)
    version = header["decoy_export"]
    if type(version) is not int:
        raise ImportRefused("file", f"{where}: decoy_export is not a number")
    if version != VERSION:
        raise ImportRefused("file", f"{where}: decoy_export {version} is not a version this Decoy reads (1)")
    for key in ("platform", "chat", "tool"):
        if key in header and not isinstance(header[key], str):
            raise ImportRefused("file", f"{where}: {key} is not text")
    named = header.get("chat")
    if chat is not None and named is not None and chat != named:
        raise ImportRefused("chat", f"this file holds only the chat {named!r}")


def _no_unknown_keys(value: dict[str, Any], known: frozenset[str], where: str) -> None:
    if value.keys() <= known:
        return
    unknown = [key for key in value if key not in known]
    if unknown:
        raise ImportRefused("file", f"{where} has unknown keys: {', '.join(repr(key) for key in unknown)}")


def _message(value: Any, where: str, export: ExportFile) -> ExportedMessage:
    """One message line."""
    if not isinstance(value, dict):
        raise ImportRefused("file", f"{where} is not a JSON object")
    _no_unknown_keys(value, MESSAGE_KEYS, where)
    platform_id = value.get("id")
    if not isinstance(platform_id, str) or not platform_id:
        raise ImportRefused(
            "file", f"{where}: id is missing" if platform_id is None else f"{where}: id is not text"
        )
    if len(platform_id) > MAX_ID_CHARS:
        raise ImportRefused("file", f"{where}: id is longer than {MAX_ID_CHARS} characters")
    sender, text = value.get("from"), value.get("text", "")
    if sender is not None and not isinstance(sender, str):
        raise ImportRefused("file", f"{where}: from is not text")
    if not isinstance(text, str):
        raise ImportRefused("file", f"{where}: text is not text")
    kind = value.get("kind", "message")
    kind = _KINDS.get(kind) if isinstance(kind, str) else None
    if kind is None:
        raise ImportRefused("file", f"{where}: kind is not 'message' or 'system'")
    attachments = value.get("attachments")
    media = () if attachments is None or attachments == [] else _attachments(attachments, where, export)
    return ExportedMessage(sender, _time(value.get("sent_at"), where), text, where, kind, platform_id, media)


def _time(value: Any, where: str) -> datetime:
    """``sent_at``: RFC 3339 with an offset, kept with that offset."""
    if value is None:
        raise ImportRefused("file", f"{where}: sent_at is missing")
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ImportRefused(
            "file", f"{where}: sent_at is not an RFC 3339 time with an offset: {str(value)[:40]!r}"
        )
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError as error:
        raise ImportRefused("file", f"{where}: sent_at is not a valid time: {value!r}") from error


def _attachments(value: Any, where: str, export: ExportFile) -> tuple[str, ...]:
    """The attachments' member names: each must be in the ZIP uploaded with the file."""
    if not isinstance(value, list):
        raise ImportRefused("file", f"{where}: attachments is not a list")
    for index, name in enumerate(value):
        if not isinstance(name, str):
            raise ImportRefused("file", f"{where}: attachments[{index}] is not text")
        if not export.has(name):
            missing = "is not in the archive" if export.is_archive else "needs a ZIP holding it with the file"
            raise ImportRefused("file", f"{where}: attachments[{index}] {name[:200]!r} {missing}")
    return tuple(dict.fromkeys(value))


def _check_unique(platform_id: str, number: int, seen: dict[str, int], label: str) -> None:
    if platform_id in seen:
        raise ImportRefused(
            "file", f"{label}line {number}: id {platform_id[:100]!r} is already on line {seen[platform_id]}"
        )
    seen[platform_id] = number
