"""The kind the law names for an order registered as ``written_order`` before those names existed.

Migration 0015 gave such orders the law's kind where their issuing authority says which it is, and kept
the registered kind beside them; the verifiers accept the new kind only where this rule, applied to the
authority as recorded, gives it. The rule never guesses: an authority that names neither issuer, or
both, keeps ``written_order``. (The migration holds a frozen copy of these words; a test keeps the two
the same.)
"""

from __future__ import annotations

LEGACY_KIND = "written_order"
#: What in an issuing authority names the public prosecutor, and what names the examining judge.
PROSECUTOR = (
    "officier van justitie", "openbaar ministerie", "public prosecutor", "prosecution service",
    "arrondissementsparket", "landelijk parket", "functioneel parket",
)
JUDGE = (
    "rechter-commissaris", "rechter commissaris", "examining judge", "examining magistrate",
    "investigating judge",
)


def law_kind(registered_kind: str, authority: str) -> str | None:
    """The kind the migration gives an order registered with ``registered_kind`` by ``authority``, or
    None where it keeps its kind."""
    if registered_kind != LEGACY_KIND:
        return None
    text = authority.lower()
    prosecutor = any(word in text for word in PROSECUTOR)
    judge = any(word in text for word in JUDGE)
    if prosecutor and not judge:
        return "ovj_order"
    if judge and not prosecutor:
        return "rc_authorisation"
    return None


def kind_problem(registered_kind: str, shown_kind: str, authority: str) -> str | None:
    """Why an order shown with ``shown_kind`` cannot have been registered with ``registered_kind``."""
    if shown_kind == registered_kind:
        return None
    if law_kind(registered_kind, authority) == shown_kind:
        return None
    return (
        f"its kind is {shown_kind!r} but it was registered as {registered_kind!r}, and no rule of "
        "migration 0015 maps one to the other"
    )
