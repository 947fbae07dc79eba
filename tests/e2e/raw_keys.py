"""The stored keys that a page must never show as such: flags, kinds, states, topics, categories, classes,
causes and outcomes are words in the reader's language on every screen; the key belongs to the API.

Only keys with an underscore are listed: ``pending_approval`` can only be a key, whereas ``active`` is also
an ordinary word of a sentence. The keys are read from the code that defines them, so a new one is checked
without listing it here.
"""

from __future__ import annotations

import enum
import re

from decoy import models
from decoy.evidence.category_views import CATEGORY_WORDS
from decoy.evidence.display import FLAG_NAMES, FLAG_TEXTS
from decoy.initiative.views import TOPIC_TEXTS
from decoy.models.disclosure import CLASSES
from decoy.models.safeguarding import OPENING_CATEGORIES
from decoy.retention.views import OUTCOME_WORDS
from decoy.reviews.schemas import TRIGGERS
from decoy.safeguarding.views import ACTION_WORDS, CAUSE_WORDS, STATUS_WORDS

#: Keys the labels of decoy/operations/labels.py translate (statuses and kinds derived, not stored).
DERIVED = ("not_yet_valid", "before_expiry", "written_order", "urgent_oral_order", "in_progress")


def _enum_values() -> set[str]:
    found: set[str] = set()
    for value in vars(models).values():
        if isinstance(value, type) and issubclass(value, enum.Enum):
            found.update(str(member.value) for member in value)
    return found


RAW_KEYS = frozenset(
    key for key in (
        _enum_values() | set(FLAG_NAMES) | set(FLAG_TEXTS) | set(TOPIC_TEXTS) | set(CATEGORY_WORDS)
        | set(CLASSES) | set(OPENING_CATEGORIES) | set(OUTCOME_WORDS) | set(TRIGGERS) | set(ACTION_WORDS)
        | set(CAUSE_WORDS) | set(STATUS_WORDS) | set(DERIVED)
    )
    if "_" in key
)
_PATTERN = re.compile(
    r"(?<![\w-])(" + "|".join(sorted((re.escape(k) for k in RAW_KEYS), key=len, reverse=True)) + r")(?![\w-])"
)


def raw_keys_in(text: str) -> list[str]:
    """The stored keys shown as such in a page's visible text, each once, in order of appearance."""
    return list(dict.fromkeys(found.group(1) for found in _PATTERN.finditer(text)))
