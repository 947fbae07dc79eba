"""The iCalendar feed of a person's review deadlines (RFC 5545), with a VTIMEZONE for every zone used.

Written by hand so that the running application needs no calendar library: escaped text, lines folded
at 75 octets, CRLF endings, and for each operation's zone the transitions computed from the zone data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from ..operations import labels

PRODID = "-//Decoy//Review deadlines//EN"
EVENT_MINUTES = 30


@dataclass
class Deadline:
    """One review deadline as the feed shows it."""

    review_id: int
    kind: str
    status: str
    due_at: datetime
    operation: str
    timezone: str
    link: str


def escape(text: str) -> str:
    """Escape a TEXT value."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets, never inside a character."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, current, size, limit = [], [], 0, 75
    for character in line:
        width = len(character.encode())
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, 74  # continuation lines begin with a space
        current.append(character)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _local(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _offset(delta: timedelta | None) -> str:
    seconds = int((delta or timedelta(0)).total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours:02d}{rest // 60:02d}"


def transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """The UTC instants between ``start`` and ``end`` at which the zone's offset changes."""
    found = []
    day = start
    while day < end:
        following = day + timedelta(days=1)
        if day.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            low, high = day, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(high.replace(microsecond=0))
        day = following
    return found


def vtimezone(name: str, first: datetime, last: datetime) -> list[str]:
    """A VTIMEZONE covering ``first``..``last`` (a year either side), one observance per transition."""
    zone = ZoneInfo(name)
    start = datetime(first.year - 1, 1, 1, tzinfo=UTC)
    end = datetime(last.year + 2, 1, 1, tzinfo=UTC)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{name}"]
    begin_local = start.astimezone(zone)
    observances = [(start, begin_local.utcoffset(), begin_local)]
    for instant in transitions(zone, start, end):
        observances.append(
            (instant, (instant - timedelta(seconds=1)).astimezone(zone).utcoffset(), instant.astimezone(zone))
        )
    for instant, before, after in observances:
        component = "DAYLIGHT" if after.dst() else "STANDARD"
        wall = (instant + (before or timedelta(0))).replace(tzinfo=None)
        lines += [
            f"BEGIN:{component}",
            f"DTSTART:{_local(wall)}",
            f"TZOFFSETFROM:{_offset(before)}",
            f"TZOFFSETTO:{_offset(after.utcoffset())}",
            f"TZNAME:{escape(after.tzname() or name)}",
            f"END:{component}",
        ]
    lines.append("END:VTIMEZONE")
    return lines


def render(deadlines: Iterable[Deadline], *, now: datetime, host: str, base_url: str) -> str:
    """The whole feed as text with CRLF line endings."""
    items = list(deadlines)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(_('Decoy review deadlines'))}",
    ]
    zones: dict[str, list[datetime]] = {}
    for item in items:
        zones.setdefault(item.timezone, []).append(item.due_at)
    for name, moments in sorted(zones.items()):
        lines += vtimezone(name, min(moments), max(moments))
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    for item in items:
        zone = ZoneInfo(item.timezone)
        local = item.due_at.astimezone(zone)
        end = (item.due_at + timedelta(minutes=EVENT_MINUTES)).astimezone(zone)
        kind = labels.review_kind(item.kind)
        summary = _("%(kind)s due: %(operation)s", kind=kind, operation=item.operation)
        if item.status == "overdue":
            summary = _("OVERDUE") + " — " + summary
        description = _(
            "%(kind)s of “%(operation)s”, due %(due)s (%(zone)s). Status: %(status)s.",
            kind=kind,
            operation=item.operation,
            due=local.strftime("%Y-%m-%d %H:%M %Z"),
            zone=item.timezone,
            status=item.status,
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:review-{item.review_id}@{escape(host)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;TZID={item.timezone}:{_local(local)}",
            f"DTEND;TZID={item.timezone}:{_local(end)}",
            f"SUMMARY:{escape(summary)}",
            f"DESCRIPTION:{escape(description + ' ' + base_url + item.link)}",
            f"URL:{base_url}{item.link}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
