"""The words pages show for stored status and kind values (translated through an explicit mapping)."""

from __future__ import annotations

from flask_babel import gettext as _


def operation_status(status: str) -> str:
    """An operation's status in the reader's language."""
    labels = {
        "planned": _("planned"),
        "active": _("active"),
        "suspended": _("suspended"),
        "closed": _("closed"),
    }
    return labels.get(status, status)


def profile_status(status: str | None) -> str:
    """A decoy profile's status in the reader's language ("—" for none)."""
    if not status:
        return "—"
    labels = {
        "draft": _("draft"),
        "pending_approval": _("pending approval"),
        "active": _("active"),
        "suspended": _("suspended"),
        "retired": _("retired"),
    }
    return labels.get(status, status)


def document_kind(kind: str) -> str:
    """The kind of an authorization's document."""
    labels = {"order": _("order"), "written_order": _("written order")}
    return labels.get(kind, kind)


def role(name: str) -> str:
    """A role's name in the reader's language."""
    labels = {
        "detective": _("detective"),
        "supervisor": _("supervisor"),
        "legal": _("legal officer"),
        "admin": _("administrator"),
    }
    return labels.get(name, name)


def roles(names: object) -> str:
    """Several roles, sorted by their stored name, joined by commas."""
    return ", ".join(role(str(name)) for name in sorted(names))  # type: ignore[call-overload]


def transition_reason(reason: str) -> str:
    """The reason of a profile's status change: the words the system records are translated, text typed
    by a person (a suspension's reason) or recorded by the scheduler is shown as recorded."""
    labels = {"proposed": _("proposed"), "approved": _("approved")}
    return labels.get(reason, reason)


def authorization_status(status: str) -> str:
    """The words for an authorization status (badges and charts show colour or pattern and these words)."""
    words = {
        "valid": _("valid"),
        "expiring": _("expiring within 14 days"),
        "lapsed": _("lapsed"),
        "not_yet_valid": _("not yet valid"),
        "superseded": _("superseded"),
        "withdrawn": _("withdrawn"),
    }
    return words.get(status, status)


def authorization_kind(kind: str) -> str:
    """An authorization's kind as the law names it, in the reader's language."""
    words = {
        "ovj_order": _("order of the public prosecutor"),
        "rc_authorisation": _("authorisation of the examining judge"),
        "urgent_oral_order": _("urgent oral order"),
        "court_ruling": _("court ruling on the method"),
        "written_order": _("written order (registered before the kinds the law names)"),
    }
    return words.get(kind, kind)


def age_range(low: int | None, high: int | None) -> str:
    """An order's range of the persona's age (rule 11), both bounds inclusive: "13–15", "13 or older",
    "15 or younger", or "—" when the order sets none."""
    if low is not None and high is not None:
        return f"{low}–{high}"
    if low is not None:
        return str(_("%(age)s or older", age=low))
    if high is not None:
        return str(_("%(age)s or younger", age=high))
    return "—"


def review_status(status: str) -> str:
    """A review's derived status in the reader's language."""
    words = {
        "pending": _("pending"),
        "overdue": _("overdue"),
        "done": _("done"),
        "superseded": _("superseded"),
    }
    return words.get(status, status)


def review_kind(kind: str) -> str:
    """Why a review exists, in the reader's language."""
    words = {
        "periodic": _("periodic review"),
        "before_expiry": _("review before expiry"),
        "triggered": _("triggered review"),
    }
    return words.get(kind, kind)


def decision(name: str) -> str:
    """A review decision in the reader's language."""
    words = {
        "continue": _("continue"),
        "amend": _("amend"),
        "suspend": _("suspend"),
        "terminate": _("terminate"),
    }
    return words.get(name, name)
