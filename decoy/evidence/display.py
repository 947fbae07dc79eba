"""Showing hostile text: escaped, with invisible and direction-changing characters made visible.

Storage keeps every character verbatim; only the display replaces control characters (C0, C1),
bidirectional overrides and isolates, zero-width and other format characters with a visible marker
such as ⟨U+202E⟩, so that a transcript reads the same for the officer as the bytes a court receives.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from ..clock import with_offset

#: What each flag means, shown beside its name on every screen.
FLAG_TEXTS = {
    "outside_authorization": _l("no valid authorization at the platform time"),
    "profile_not_active": _l("the profile was not active (suspended, retired or never approved)"),
    "decoy_initiated": _l("the decoy wrote first and the authorization does not allow it"),
    "officer_not_named": _l("recorded by an officer the authorization does not name"),
    "platform_not_permitted": _l("the authorization does not permit this platform"),
    "differs_from_export": _l("typed by hand; the platform's export gives another text"),
    "missing_from_export": _l("typed by hand; the platform's export does not hold it"),
    "decoy_raised_first": _l("the decoy raised a topic first (sex, a meeting, payment or images)"),
    "persona_age_inconsistent": _l("the decoy stated an age other than the persona's"),
    "operation_closed": _l("recorded after the operation was closed"),
}

#: A flag's short name in words, for badges, notices and lists (its key appears only in the API and exports).
FLAG_NAMES = {
    "outside_authorization": _l("Outside the authorization"),
    "profile_not_active": _l("Profile not active"),
    "decoy_initiated": _l("Decoy wrote first"),
    "officer_not_named": _l("Officer not named in the order"),
    "platform_not_permitted": _l("Platform not permitted"),
    "differs_from_export": _l("Differs from the export"),
    "missing_from_export": _l("Missing from the export"),
    "decoy_raised_first": _l("Decoy raised a topic first"),
    "persona_age_inconsistent": _l("Persona's age inconsistent"),
    "operation_closed": _l("After the operation closed"),
}

#: Shown as themselves: line breaks and tabs lay the text out but hide nothing.
KEPT = frozenset("\n\t")
_ASCII_HIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@lru_cache(maxsize=4096)
def is_hidden(character: str) -> bool:
    """Whether a character would be invisible or would change how the text around it is shown."""
    if character in KEPT:
        return False
    return unicodedata.category(character) in {"Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"}


def marker(character: str) -> str:
    """The visible stand-in of a hidden character."""
    return f"⟨U+{ord(character):04X}⟩"


def visible(text: str | None) -> Markup:
    """Escaped HTML of ``text`` with every hidden character replaced by a marked-up visible stand-in."""
    if not text:
        return Markup("")
    if text.isascii() and not _ASCII_HIDDEN.search(text):
        return escape(text)
    parts: list[str] = []
    plain_from = 0
    for position, character in enumerate(text):
        if is_hidden(character):
            parts.append(str(escape(text[plain_from:position])))
            parts.append(
                f'<span class="hidden-char" title="U+{ord(character):04X}">{marker(character)}</span>'
            )
            plain_from = position + 1
    parts.append(str(escape(text[plain_from:])))
    return Markup("".join(parts))  # noqa: S704 - every piece of text above went through escape()


def visible_plain(text: str | None) -> str:
    """``text`` with hidden characters replaced by plain-text markers (for titles and exports)."""
    return "".join(marker(c) if is_hidden(c) else c for c in (text or ""))


def flag_text(name: str) -> str:
    """The explanation of a flag in the user's language."""
    text = FLAG_TEXTS.get(name)
    return "" if text is None else str(text)


def flag_name(name: str) -> str:
    """A flag's short name in the user's language (an unknown flag in words made from its key)."""
    if ":" in name:  # a flag about a topic, as triggered reviews name it: ``decoy_raised_first:<topic>``
        from ..initiative.views import topic_text

        flag, topic = name.split(":", 1)
        return f"{flag_name(flag)} ({topic_text(topic)})"
    text = FLAG_NAMES.get(name)
    return name.replace("_", " ") if text is None else str(text)


def platform_time(moment: datetime, offset_minutes: int) -> str:
    """The platform's own time, with the offset it gave, as RFC 3339."""
    return with_offset(moment, offset_minutes).isoformat()
