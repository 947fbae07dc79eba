"""The retention schedule: how long a contact's data is kept, per contact category and, for a suspect, per
case outcome, counted from an event (the category was set, the operation was closed, the outcome became
final), each rule with its source.

The schedule ships as ``retention_schedule.json`` beside this module. A force overrides or adds rules in
``retention-schedule.json`` in its data directory: an entry there replaces the shipped entry with the same
key (``non_suspect``, ``suspect:acquitted``…), whole. Decoy refuses to start with a file it cannot use.
A suspect with an outcome follows ``suspect:<outcome>`` when there is one, else ``suspect``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context

from ..models import CASE_OUTCOMES, CATEGORIES

SHIPPED_NAME = "retention_schedule.json"
OVERRIDE_NAME = "retention-schedule.json"
MAX_FILE_BYTES = 1024 * 1024
#: What a rule's period counts from.
EVENTS = ("categorised", "operation_closed", "outcome")
KEYS = (*CATEGORIES, *(f"suspect:{outcome}" for outcome in CASE_OUTCOMES))


class ScheduleError(Exception):
    """The schedule cannot be used (the message names the file and the problem)."""


@dataclass(frozen=True)
class Rule:
    """How long the data of one category (and outcome) is kept, and from when."""

    key: str
    months: int | None
    start: str
    source: str


def _rule(key: str, value: Any, source: str) -> Rule:
    if key not in KEYS:
        raise ScheduleError(f"{source}: {key!r} is not a category or suspect:<outcome> ({', '.join(KEYS)})")
    if not isinstance(value, dict):
        raise ScheduleError(f"{source}: the rule {key!r} is not an object")
    months = value.get("months")
    if months is not None and (type(months) is not int or not 1 <= months <= 1200):
        raise ScheduleError(f"{source}: {key}.months must be a whole number of months (1–1200) or null")
    start = value.get("from")
    if start not in EVENTS:
        raise ScheduleError(f"{source}: {key}.from must be one of {', '.join(EVENTS)}")
    if start == "outcome" and not key.startswith("suspect"):
        raise ScheduleError(f"{source}: {key}.from: only a suspect has a case outcome")
    text = value.get("source")
    if not isinstance(text, str) or not text.strip() or len(text) > 2000:
        raise ScheduleError(
            f"{source}: {key}.source must name where the rule comes from (at most 2000 characters)"
        )
    return Rule(key=key, months=months, start=start, source=text.strip())


def _rules(raw: bytes, source: str) -> dict[str, Rule]:
    if len(raw) > MAX_FILE_BYTES:
        raise ScheduleError(f"{source}: the file is larger than {MAX_FILE_BYTES} bytes")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ScheduleError(f"{source}: not UTF-8 JSON: {error}") from error
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, dict):
        raise ScheduleError(f"{source}: the file needs an object 'rules'")
    return {key: _rule(key, value, source) for key, value in rules.items()}


def load_schedule(data_dir: str | Path | None) -> dict[str, Rule]:
    """The shipped schedule, with the data directory's rules in place of the shipped ones."""
    raw = resources.files(__package__).joinpath(SHIPPED_NAME).read_bytes()
    schedule = _rules(raw, f"{__package__}/{SHIPPED_NAME} (shipped)")
    if data_dir is not None:
        path = Path(data_dir) / OVERRIDE_NAME
        try:
            override = path.read_bytes()
        except FileNotFoundError:
            override = None
        except OSError as error:
            raise ScheduleError(f"{path}: cannot be read: {error.strerror or error}") from error
        if override is not None:
            schedule.update(_rules(override, str(path)))
    missing = [category for category in CATEGORIES if category not in schedule]
    if missing:
        raise ScheduleError(f"the retention schedule has no rule for {', '.join(missing)}")
    return schedule


def current_schedule() -> dict[str, Rule]:
    """The schedule of the current application (its data directory's overrides applied)."""
    return load_schedule(current_app.config.get("DATA_DIR") if has_app_context() else None)


def rule_for(category: str, outcome: str | None, schedule: dict[str, Rule]) -> Rule:
    """The rule a contact of ``category`` (a suspect with ``outcome``) is kept under."""
    if category == "suspect" and outcome is not None and f"suspect:{outcome}" in schedule:
        return schedule[f"suspect:{outcome}"]
    return schedule[category]
