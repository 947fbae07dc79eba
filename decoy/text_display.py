"""Showing hostile text: control, bidirectional and invisible characters made visible, never obeyed.

Storage keeps every character verbatim; only what a person reads is transformed, so that a right-to-left
override or a zero-width space cannot disguise what a counterpart wrote.
"""

from __future__ import annotations

import unicodedata

#: Characters that change how surrounding text is shown without being visible themselves.
INVISIBLE = {
    0x200B,
    0x200C,
    0x200D,
    0x200E,
    0x200F,
    0x2028,
    0x2029,
    0x202A,
    0x202B,
    0x202C,
    0x202D,
    0x202E,
    0x2060,
    0x2061,
    0x2062,
    0x2063,
    0x2064,
    0x2066,
    0x2067,
    0x2068,
    0x2069,
    0xFEFF,
    0x00AD,
    0x034F,
    0x180E,
    0x061C,
}


def marker(character: str) -> str:
    """The visible stand-in for an invisible or control character, e.g. ⟨U+202E⟩."""
    return f"\u27e8U+{ord(character):04X}\u27e9"


def visible(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with control and invisible characters replaced by visible markers."""
    out = []
    for character in text:
        code = ord(character)
        if keep_newlines and character in "\n\t":
            out.append(character)
        elif code in INVISIBLE or unicodedata.category(character) in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            out.append(marker(character))
        else:
            out.append(character)
    return "".join(out)
