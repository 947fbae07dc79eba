"""What every export reader yields and how it reads the uploaded file: plain, or a ZIP read with limits.

A reader (one module per format) takes an ExportFile and yields ExportedMessage values in the order of
the platform's time, oldest first, without holding the whole file in memory. Anything wrong with the
file is an ImportRefused naming the request field it concerns (``file``, ``decoy_name``, ``chat``,
``timezone``), which the API answers with a 400; nothing is stored for a refused file.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import IO, BinaryIO
from zoneinfo import ZoneInfo

__all__ = [
    "ExportFile",
    "ExportedMessage",
    "ImportRefused",
    "Limits",
    "local_time",
    "read_lines",
]

#: A message's kinds: a party's message, or a line the platform wrote itself (an encryption notice, a
#: deleted message, a missed call, a member joining), which belongs to neither party.
MESSAGE = "message"
SYSTEM = "system"


class ImportRefused(ValueError):
    """The file (or a field of the request) cannot be imported; nothing is stored."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ExportedMessage:
    """One event of the exported conversation, as the export states it.

    ``sender`` is the name the export gives the author (None where it names nobody); a ``kind`` of
    SYSTEM is a line the platform wrote (an encryption notice, "this message was deleted", a missed
    call), which is recorded as such and never as a message of either party; ``source`` says where
    in the file the event is ("line 12", "messages[3]", "message_2.json: messages[17]"); ``media`` are
    the archive members the message refers to (paths inside the ZIP, as ExportFile.open takes them);
    ``zone_assumed`` is true when the export's time carried no offset and was read in the caller's zone.
    """

    sender: str | None
    sent_at: datetime
    text: str
    source: str
    kind: str = MESSAGE
    platform_id: str | None = None
    media: tuple[str, ...] = ()
    zone_assumed: bool = False


@dataclass(frozen=True)
class Limits:
    """How much an export may hold: checked before anything is read or stored."""

    #: The sum of the ZIP members' uncompressed sizes.
    max_uncompressed: int = 8 * 1024**3
    #: A member's uncompressed size over its compressed size (a zip bomb compresses far better).
    max_ratio: int = 200
    max_members: int = 100_000
    #: The longest line of a text export, in characters (a message may span lines).
    max_line_chars: int = 1_000_000


class ExportFile:
    """The uploaded file: the export itself, or a ZIP of it with its media.

    A ZIP is checked as a whole when opened: a member named with ``..``, an absolute path or a drive,
    more members than the limit, declared sizes beyond the limits, or a member compressed beyond the
    ratio limit refuse the file before anything is read from it.
    """

    def __init__(self, stream: BinaryIO, *, filename: str = "", limits: Limits | None = None) -> None:
        self.stream = stream
        self.filename = filename
        self.limits = limits or Limits()
        self.archive: zipfile.ZipFile | None = None
        self._members: dict[str, zipfile.ZipInfo] = {}
        stream.seek(0)
        if zipfile.is_zipfile(stream):
            stream.seek(0)
            try:
                self.archive = zipfile.ZipFile(stream)
            except (zipfile.BadZipFile, OSError, ValueError) as error:
                raise ImportRefused("file", f"the ZIP archive cannot be read: {error}") from error
            self._check_archive(self.archive)
        stream.seek(0)

    def _check_archive(self, archive: zipfile.ZipFile) -> None:
        infos = archive.infolist()
        if len(infos) > self.limits.max_members:
            raise ImportRefused("file", f"the archive holds more than {self.limits.max_members} files")
        total = 0
        for info in infos:
            name = info.filename
            if not safe_member_name(name):
                raise ImportRefused("file", f"the archive holds a file with an unsafe name: {name[:200]!r}")
            if info.flag_bits & 0x1:
                raise ImportRefused("file", "the archive is encrypted")
            total += info.file_size
            if total > self.limits.max_uncompressed:
                raise ImportRefused("file", "the archive unpacks to more than the import limit")
            if info.file_size > max(info.compress_size, 1) * self.limits.max_ratio:
                raise ImportRefused("file", f"the member {name[:200]!r} is compressed beyond the limit")
            if not info.is_dir():
                self._members[name] = info

    @property
    def is_archive(self) -> bool:
        return self.archive is not None

    def members(self) -> list[str]:
        """The archive's file names (an empty list for a plain file)."""
        return list(self._members)

    def has(self, name: str) -> bool:
        return name in self._members

    def open(self, name: str) -> IO[bytes]:
        """A member of the archive, as a binary stream; KeyError when there is none by that name.

        zipfile stops at the member's declared size and checks its CRC at the end, so a member cannot
        unpack to more than the sizes checked when the archive was opened.
        """
        if self.archive is None or name not in self._members:
            raise KeyError(name)
        return self.archive.open(self._members[name])

    def open_plain(self) -> BinaryIO:
        """The uploaded file itself, from its start (a plain, not zipped, export)."""
        self.stream.seek(0)
        return self.stream

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def safe_member_name(name: str) -> bool:
    """Whether a ZIP member's name stays inside the archive: relative, no ``..``, no drive or backslash."""
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return False
    if len(name) > 1 and name[1] == ":":
        return False
    return ".." not in PurePosixPath(name).parts


def read_lines(
    stream: IO[bytes], *, field: str = "file", max_chars: int = 1_000_000
) -> Iterator[tuple[int, str]]:
    """The lines of a UTF-8 text (a byte-order mark is dropped), numbered from 1, without their ends.

    A line longer than ``max_chars`` or bytes that are not UTF-8 refuse the file.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline=None)
    number = 0
    try:
        while True:
            line = text.readline(max_chars + 1)
            if not line:
                return
            number += 1
            if len(line) > max_chars and not line.endswith("\n"):
                raise ImportRefused(field, f"line {number} is longer than {max_chars} characters")
            yield number, line.rstrip("\n")
    except UnicodeDecodeError as error:
        raise ImportRefused(field, f"the file is not UTF-8 text (after line {number})") from error
    finally:
        text.detach()


def local_time(naive: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time without an offset, read in ``zone``.

    On the night the clocks go back, an hour repeats: such a time is read as the first of the two
    (``fold=0``, daylight saving time). On the night they go forward, an hour does not exist: such a
    time is read with the offset before the change, which places it where the clock would have shown
    it one hour later. docs/evidence-logging.md states both for the defence.
    """
    return naive.replace(tzinfo=zone, fold=0)
