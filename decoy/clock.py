"""The one source of time, and of time formatting: the injectable clock, RFC 3339 and local display."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_app_context
from flask_babel import gettext

from .errors import InvalidInput

#: The moments a client may name: anything else is a typo or a probe, not a platform's time.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until moved; for tests and reproducible runs."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """Return the frozen time."""
        return self._now

    def set(self, moment: datetime) -> None:
        """Move the clock to ``moment``."""
        self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move the clock forward by ``delta`` (or timedelta keyword arguments)."""
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now


_default = SystemClock()


def get_clock() -> SystemClock | FrozenClock:
    """Return the application's clock, or the system clock outside an application."""
    if has_app_context():
        clock = current_app.extensions.get("clock")
        if clock is not None:
            return clock  # type: ignore[no-any-return]
    return _default


def now() -> datetime:
    """Return the current time from the injectable clock (aware, UTC)."""
    return get_clock().now()


# --- RFC 3339 ------------------------------------------------------------------------------------------


def parse_rfc3339(value: object) -> datetime:
    """An RFC 3339 timestamp with an explicit offset, kept on the result; ValueError says what is wrong.

    The messages complete a sentence that starts with the field's name.
    """
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("must be an RFC 3339 timestamp string")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError("is not an RFC 3339 timestamp") from error
    if "T" not in text.upper() or parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("needs a date, a time and an offset (e.g. 2026-03-01T14:05:00+01:00)")
    if not EARLIEST <= parsed <= LATEST:
        raise ValueError("is out of range")
    return parsed


def parse_timestamp(value: object, field: str) -> datetime:
    """Parse an RFC 3339 timestamp typed into ``field``; InvalidInput naming the field when it is not one."""
    try:
        return parse_rfc3339(value)
    except ValueError as error:
        raise InvalidInput(f"{field} {error}", field=field) from error


#: A time typed into a form: date and time (seconds optional), then optionally the offset the platform
#: showed. "T" or a space between date and time; "Z" for UTC.
_TYPED_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)"
    r"\s*(?P<offset>[zZ]|[+-]\d{2}:?\d{2})?$"
)


def parse_typed_time(value: object, zone_name: str) -> datetime:
    """A time typed into a form, in one pattern: ``2026-03-01 14:05``, with seconds if wanted, and with the
    offset the platform showed (``2026-03-01 14:05 +01:00``) or without it, in which case it is read in
    ``zone_name`` (the operation's zone) and gets that zone's offset at that moment. ValueError, in words for
    the person at the form, when the text is not such a time, or when it falls in the hour a change of
    summer time skips or repeats (then the offset must be given)."""
    example = gettext("Enter the time as on the platform, like 2026-03-01 14:05 or 2026-03-01 14:05:30, "
                      "and add the offset it showed, like +01:00, if it is not the operation's zone's.")
    text = value.strip() if isinstance(value, str) else ""
    found = _TYPED_TIME.match(text) if len(text) <= 40 else None
    if found is None:
        raise ValueError(example)
    offset = found["offset"] or ""
    if offset in ("z", "Z"):
        offset = "+00:00"
    elif offset and ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    try:
        parsed = datetime.fromisoformat(f"{found['date']}T{found['time']}{offset}")
    except ValueError as error:
        raise ValueError(example) from error
    if not offset:
        local = zone(zone_name)
        first = parsed.replace(tzinfo=local, fold=0)
        second = parsed.replace(tzinfo=local, fold=1)
        if first.utcoffset() != second.utcoffset():
            raise ValueError(gettext(
                "%(time)s happens twice or not at all in %(zone)s because of the change of summer time: "
                "add the offset the platform showed, like +01:00 or +02:00.", time=text, zone=zone_name))
        parsed = first
    if not EARLIEST <= parsed <= LATEST:
        raise ValueError(example)
    return parsed


def parse_typed_timestamp(value: object, zone_name: str, field: str) -> datetime:
    """Parse a time typed into the form field ``field`` (see :func:`parse_typed_time`); InvalidInput naming
    the field, in words for the person at the form, when it is not one."""
    try:
        return parse_typed_time(value, zone_name)
    except ValueError as error:
        raise InvalidInput(str(error), field=field) from error


def parse_optional_typed_timestamp(value: str | None, zone_name: str, field: str) -> datetime | None:
    """As :func:`parse_typed_timestamp`, for a field that may be left empty: None when nothing is typed."""
    text = (value or "").strip()
    return parse_typed_timestamp(text, zone_name, field) if text else None


def typed_time(moment: datetime, zone_name: str) -> str:
    """A moment in the pattern :func:`parse_typed_time` reads, in ``zone_name``, with its offset."""
    local = moment.astimezone(zone(zone_name)).replace(microsecond=0)
    return local.strftime("%Y-%m-%d %H:%M:%S ") + local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]


def with_offset(moment: datetime, minutes: int) -> datetime:
    """A UTC moment shown at a stored offset."""
    return moment.astimezone(timezone(timedelta(minutes=minutes)))


def rfc3339(moment: datetime | None) -> str | None:
    """RFC 3339 text with the moment's offset (UTC moments end in +00:00, never Z)."""
    return None if moment is None else moment.isoformat()


def rfc3339_utc(moment: datetime | None) -> str | None:
    """RFC 3339 text in UTC, whatever zone the value in hand carries."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


# --- showing times on screens: the operation's zone, the user's locale ---------------------------------


def zone(name: str | None = None) -> ZoneInfo:
    """The zone ``name``, or the configured default (Europe/Amsterdam)."""
    return ZoneInfo(name or current_app.config["TIMEZONE"])


def localtime(moment: datetime | None, zone_name: str | None = None, with_zone: bool = True) -> str:
    """An aware datetime in the given (or default) zone as ``2026-03-01 14:05:00 CET``: the same digits and
    order in every language Decoy speaks, so that times read alike on every page, e-mail and PDF."""
    if moment is None:
        return "—"
    local = moment.astimezone(zone(zone_name))
    return local.strftime("%Y-%m-%d %H:%M:%S %Z" if with_zone else "%Y-%m-%d %H:%M:%S")


def init_app(app: Flask) -> None:
    """Register the template filters."""
    app.add_template_filter(localtime, "localtime")
