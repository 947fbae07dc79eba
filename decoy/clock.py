"""The one source of time: every part of Decoy asks the clock, so tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app, has_app_context


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
