"""The legal maxima of an order, per legal basis: how long it may run, how long each extension may run,
within how many days an urgent oral order is put in writing, and whether the advice and the consent
references are required, each with its source.

The table ships as ``legal_maxima.json`` beside this module. A force overrides or adds bases in
``legal-maxima.json`` in its data directory: an entry there replaces the shipped entry with the same key,
whole. A basis is found in an order's free-text legal basis by its article ("art. 126j Sv" is 126j); an
order that names several bases is held to the strictest of them; one that names none of the table's
bases to the ``default`` entry.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _

from ..errors import InvalidInput, RuleViolation

SHIPPED_NAME = "legal_maxima.json"
OVERRIDE_NAME = "legal-maxima.json"
DEFAULT_KEY = "default"
MAX_FILE_BYTES = 1024 * 1024
#: An article of the code of criminal procedure as a legal basis names it: "126j", "126 h", "126gg".
_ARTICLE = re.compile(r"\b(\d{2,3})\s?([a-z]{1,2})?\b", re.IGNORECASE)
_KEY = re.compile(r"^[0-9]{2,3}[a-z]{0,2}$|^default$")


class MaximaError(Exception):
    """The table cannot be used (the message names the file and the problem)."""


@dataclass(frozen=True)
class Maximum:
    """The rules of one legal basis."""

    key: str
    title: str
    max_months: int | None
    extension_months: int | None
    written_order_days: int
    advice_required: bool
    consent_required: bool
    source: str

    def describe(self) -> dict[str, Any]:
        """The rule as recorded with an order's registration."""
        return {
            "basis": self.key,
            "max_months": self.max_months,
            "extension_months": self.extension_months,
            "written_order_days": self.written_order_days,
            "advice_required": self.advice_required,
            "consent_required": self.consent_required,
            "source": self.source,
        }


def _entry(key: str, value: Any, source: str) -> Maximum:
    if not _KEY.match(key):
        raise MaximaError(f"{source}: {key!r} is not an article such as 126j, nor 'default'")
    if not isinstance(value, dict):
        raise MaximaError(f"{source}: the entry {key!r} is not an object")

    def months(name: str) -> int | None:
        found = value.get(name)
        if found is None:
            return None
        if type(found) is not int or not 1 <= found <= 120:
            raise MaximaError(f"{source}: {key}.{name} must be a whole number of months (1–120) or null")
        return found

    days = value.get("written_order_days", 3)
    if type(days) is not int or not 1 <= days <= 30:
        raise MaximaError(f"{source}: {key}.written_order_days must be a whole number of days (1–30)")
    flags = {name: value.get(name, False) for name in ("advice_required", "consent_required")}
    for name, flag in flags.items():
        if type(flag) is not bool:
            raise MaximaError(f"{source}: {key}.{name} must be true or false")
    text = {name: value.get(name, "") for name in ("title", "source")}
    for name, found in text.items():
        if not isinstance(found, str) or len(found) > 2000:
            raise MaximaError(f"{source}: {key}.{name} must be text of at most 2000 characters")
    if not text["source"].strip():
        raise MaximaError(f"{source}: {key}.source must name where the rule comes from")
    return Maximum(
        key=key, title=text["title"], max_months=months("max_months"),
        extension_months=months("extension_months"), written_order_days=days,
        advice_required=flags["advice_required"], consent_required=flags["consent_required"],
        source=text["source"],
    )


def _bases(raw: bytes, source: str) -> dict[str, Maximum]:
    if len(raw) > MAX_FILE_BYTES:
        raise MaximaError(f"{source}: the file is larger than {MAX_FILE_BYTES} bytes")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MaximaError(f"{source}: not UTF-8 JSON: {error}") from error
    bases = data.get("bases") if isinstance(data, dict) else None
    if not isinstance(bases, dict):
        raise MaximaError(f"{source}: the file needs an object 'bases'")
    return {key.lower(): _entry(key.lower(), value, source) for key, value in bases.items()}


def load_table(data_dir: str | Path | None) -> dict[str, Maximum]:
    """The shipped table, with the data directory's entries in place of the shipped ones."""
    raw = resources.files(__package__).joinpath(SHIPPED_NAME).read_bytes()
    table = _bases(raw, f"{__package__}/{SHIPPED_NAME} (shipped)")
    if data_dir is not None:
        path = Path(data_dir) / OVERRIDE_NAME
        try:
            override = path.read_bytes()
        except FileNotFoundError:
            override = None
        except OSError as error:
            raise MaximaError(f"{path}: cannot be read: {error.strerror or error}") from error
        if override is not None:
            table.update(_bases(override, str(path)))
    if DEFAULT_KEY not in table:
        raise MaximaError("the table of legal maxima has no 'default' entry")
    return table


def current_table() -> dict[str, Maximum]:
    """The table of the current application (its data directory's overrides applied)."""
    return load_table(current_app.config.get("DATA_DIR") if has_app_context() else None)


def bases_named(legal_basis: str, table: dict[str, Maximum]) -> list[Maximum]:
    """The table's bases a free-text legal basis names (by article), in the order it names them."""
    found: list[Maximum] = []
    for number, letters in _ARTICLE.findall(legal_basis):
        key = (number + (letters or "")).lower()
        if key in table and table[key] not in found:
            found.append(table[key])
    return found


def rule_for(legal_basis: str, table: dict[str, Maximum] | None = None) -> Maximum:
    """The rules an order on ``legal_basis`` is held to: the strictest of the bases it names, or the
    default when it names none of them."""
    table = table if table is not None else current_table()
    named = bases_named(legal_basis, table)
    if not named:
        return table[DEFAULT_KEY]
    if len(named) == 1:
        return named[0]

    def least(values: list[int | None]) -> int | None:
        bounded = [value for value in values if value is not None]
        return min(bounded) if bounded else None

    return Maximum(
        key="+".join(item.key for item in named),
        title="; ".join(item.title for item in named),
        max_months=least([item.max_months for item in named]),
        extension_months=least([item.extension_months for item in named]),
        written_order_days=min(item.written_order_days for item in named),
        advice_required=any(item.advice_required for item in named),
        consent_required=any(item.consent_required for item in named),
        source=" | ".join(item.source for item in named),
    )


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months later (the month's last day where it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    following = datetime(year + month // 12, month % 12 + 1, 1)
    last_day = (following - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def require_within(
    maximum: Maximum, *, valid_from: datetime, valid_until: datetime, extension: bool, article: str
) -> None:
    """Refuse (409, naming the rule and its source) an order or extension longer than its basis allows."""
    months = maximum.extension_months if extension else maximum.max_months
    if months is None:
        return
    latest = add_months(valid_from, months)
    if valid_until <= latest:
        return
    what = _("an extension") if extension else _("an order")
    raise RuleViolation(
        _(
            "%(what)s under %(article)s may run at most %(months)s months: from %(start)s until %(latest)s "
            "at the latest (%(source)s)",
            what=what, article=article, months=months, start=valid_from.isoformat(),
            latest=latest.isoformat(), source=maximum.source,
        ),
        field="valid_until",
    )


def require_references(
    maximum: Maximum, *, advice_reference: str, consent_reference: str, article: str
) -> None:
    """Refuse (400, naming the field and the rule) an order without a reference its basis requires."""
    for needed, given, field, what in (
        (maximum.advice_required, advice_reference, "advice_reference", _("the advice")),
        (maximum.consent_required, consent_reference, "consent_reference", _("the consent")),
    ):
        if needed and not given:
            raise InvalidInput(
                _(
                    "an order under %(article)s needs the reference of %(what)s (%(source)s)",
                    article=article, what=what, source=maximum.source,
                ),
                field=field,
            )
