"""Showing times: every screen shows time in the operation's zone, in the user's locale format."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import format_datetime


def zone(name: str | None = None) -> ZoneInfo:
    """The zone ``name``, or the configured default (Europe/Amsterdam)."""
    return ZoneInfo(name or current_app.config["TIMEZONE"])


def localtime(moment: datetime | None, zone_name: str | None = None, with_zone: bool = True) -> str:
    """Format an aware datetime in the given (or default) zone and the current locale."""
    if moment is None:
        return "—"
    local = moment.astimezone(zone(zone_name))
    text = format_datetime(local, "yyyy-MM-dd HH:mm:ss", rebase=False)
    return f"{text} {local.strftime('%Z')}" if with_zone else str(text)


def init_app(app: Flask) -> None:
    """Register the template filters."""
    app.add_template_filter(localtime, "localtime")
