"""The sections of the end report (decoy.orders.end_report), each a list of flowables built from rows read
by the report: officers by verbalisant code only (rule 9), every stored text neutralised by the PDF
primitives of decoy.export.pdf, kinds, states and flags in the words the evidence report uses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer

from ..export.pdf import TABLE_ROWS, flags_paragraph, para, pieces, table, text, when
from ..export.report import word
from ..models import (
    Authorization,
    AuthorizationWithdrawal,
    Lead,
    Profile,
    ProfileTransition,
    Review,
    ReviewDecision,
)
from ..reviews.services import status_of

WIDTH = A4[0] - 30 * mm

#: An authorization's kind in words (the report is in English; ``written_order`` predates the law's kinds).
KINDS = {
    "ovj_order": "order of the public prosecutor",
    "rc_authorisation": "authorisation of the examining judge",
    "urgent_oral_order": "urgent oral order",
    "court_ruling": "court ruling",
    "written_order": "written order (registered before the law's kinds)",
}

#: An undecided review's status at the closing in words.
UNDECIDED = {
    "pending": "due after the closing",
    "overdue": "overdue at the closing",
    "superseded": "its order was replaced by an extension",
}

#: Account id and moment → the verbalisant code the officer had then (decoy.export.proces_verbaal).
Names = Callable[[int | None, datetime | None], str]


@dataclass(frozen=True)
class ContactSummary:
    """One contact as the report lists it: its messages counted, its flags and those of its messages."""

    id: int
    profile_id: int
    counterpart: str
    first_seen_at: datetime
    incoming: int
    outgoing: int
    notices: int
    flags: list[str]
    message_flags: list[str]
    flagged_messages: int


def at(moment: datetime | None, zone: ZoneInfo) -> str:
    """A stored UTC moment shown in the operation's zone (``—`` when there is none)."""
    return when(None if moment is None else moment.isoformat(), zone)


def facts(rows: Sequence[tuple[str, list[str]]]) -> Any:
    """A two-column table of labelled facts; a long value continues on further rows (a row cannot split)."""
    cells = [
        [para(label if number == 0 else "", "small"), para(piece)]
        for label, parts in rows
        for number, piece in enumerate(parts or [""])
    ]
    return table(cells, [45 * mm, WIDTH - 45 * mm], header=False)


def bounded(header: list[Any], rows: list[list[Any]], widths: list[float]) -> list[Any]:
    """Tables of at most TABLE_ROWS rows each (reportlab splits a long table in quadratic time)."""
    starts = range(0, len(rows), TABLE_ROWS)
    return [table([header, *rows[start : start + TABLE_ROWS]], widths) for start in starts]


def kept(heading: Any, blocks: list[list[Any]]) -> list[Any]:
    """Each block on one page where it fits, ``heading`` with the first (no heading alone at the foot of a
    page); never a KeepTogether inside another, which would always start a new page."""
    if not blocks:
        return [heading]
    first, *rest = blocks
    return [KeepTogether([heading, *first]), *(KeepTogether(block) for block in rest)]


def bold(*labels: str) -> list[Any]:
    """A header row."""
    return [para(f"<b>{escape(label)}</b>", "small") for label in labels]


def authorizations_section(
    authorizations: Sequence[Authorization],
    withdrawals: dict[int, AuthorizationWithdrawal],
    names: Names,
    zone: ZoneInfo,
) -> list[Any]:
    """Each order's terms that bound the operation, whether a later one replaced it, and its withdrawal."""
    heading = para("Authorizations", "h2")
    if not authorizations:
        return [KeepTogether([heading, para("No authorizations recorded.")])]
    blocks: list[list[Any]] = []
    successors = {a.supersedes_id: a for a in authorizations if a.supersedes_id is not None}
    for authorization in authorizations:
        newer = successors.get(authorization.id or 0)
        withdrawn = withdrawals.get(authorization.id or 0)
        rows: list[tuple[str, list[str]]] = [
            ("Reference", pieces(authorization.reference)),
            ("Kind", [escape(KINDS.get(authorization.kind, word(authorization.kind)))]),
            ("Issued by", pieces(f"{authorization.authority} / {authorization.issuer_name or '—'}")),
            ("Legal basis", pieces(authorization.legal_basis)),
            ("Valid from", [at(authorization.valid_from, zone)]),
            ("Valid until", [at(authorization.valid_until, zone)]),
            ("Superseded", [f"yes, by {text(newer.reference)}" if newer else "no"]),
        ]
        if withdrawn is None:
            rows.append(("Withdrawn", ["no"]))
        else:
            by = names(withdrawn.withdrawn_by, withdrawn.recorded_at)
            rows.append(("Withdrawn", [
                f"<b>yes</b>, effective {at(withdrawn.effective_at, zone)}; recorded "
                f"{at(withdrawn.recorded_at, zone)} by {text(by)}"
            ]))
            rows.append(("Reason of withdrawal", pieces(withdrawn.reason)))
        blocks.append([facts(rows), Spacer(0, 3 * mm)])
    return kept(heading, blocks)


def profiles_section(
    profiles: Sequence[Profile],
    references: dict[int, str],
    history: dict[int, list[ProfileTransition]],
    actor: Callable[[str, datetime], str],
    zone: ZoneInfo,
) -> list[Any]:
    """Each profile with its status at closing and every change of status: from, to, when, by whom."""
    heading = para("Decoy profiles", "h2")
    if not profiles:
        return [KeepTogether([heading, para("No profiles recorded.")])]
    blocks: list[list[Any]] = []
    header = bold("From", "To", "When", "By", "Reason")
    widths = [30 * mm, 30 * mm, 56 * mm, 26 * mm, WIDTH - 142 * mm]
    for profile in profiles:
        title = para(
            f"Profile {profile.id}: {text(profile.platform)} / {text(profile.handle)} — status "
            f"<b>{escape(word(profile.status))}</b>; under authorization "
            f"{text(references.get(profile.authorization_id, str(profile.authorization_id)))}", "h3")
        rows: list[list[Any]] = []
        for change in history.get(profile.id or 0, []):
            parts = pieces(change.reason) if change.reason else ["—"]
            rows.append([
                para(escape(word(change.from_status)) if change.from_status else "—", "small"),
                para(escape(word(change.to_status)), "small"),
                para(at(change.at, zone), "small"),
                para(text(actor(change.actor, change.at)), "small"),
                para(parts[0], "small"),
            ])
            rows += [[para(""), para(""), para(""), para(""), para(part, "small")] for part in parts[1:]]
        first, *more = bounded(header, rows, widths) or [para("No changes of status recorded.")]
        blocks += [[title, first], *([part] for part in more)]
    return kept(heading, blocks)


def contacts_section(
    contacts: Sequence[ContactSummary], profiles: dict[int, Profile], zone: ZoneInfo
) -> list[Any]:
    """Each contact: its counterpart (shown literally, never interpreted), the profile it reached, when it
    was first seen, its messages counted by direction, and its flags and its messages' flags in words."""
    heading = para("Contacts", "h2")
    if not contacts:
        return [KeepTogether([heading, para("No contacts recorded.")])]
    rows: list[list[Any]] = []
    for contact in contacts:
        profile = profiles.get(contact.profile_id)
        reached = (
            f"{contact.profile_id}: {text(profile.platform)} / {text(profile.handle)}" if profile
            else str(contact.profile_id)
        )
        counted = f"in {contact.incoming}<br/>out {contact.outgoing}"
        if contact.notices:
            counted += f"<br/>platform notices {contact.notices}"
        flags: list[Any] = []
        if contact.flags:
            flags += [para("Contact:", "small"), flags_paragraph(contact.flags)]
        if contact.message_flags:
            many = "message" if contact.flagged_messages == 1 else "messages"
            flags += [
                para(f"{contact.flagged_messages} {many}:", "small"), flags_paragraph(contact.message_flags)
            ]
        rows.append([
            para(f"{contact.id}: {text(contact.counterpart)}"),
            para(reached, "small"),
            para(at(contact.first_seen_at, zone), "small"),
            para(counted, "small"),
            flags or [flags_paragraph([])],
        ])
    header = bold("Contact", "Profile", "First seen", "Messages", "Flags")
    tables = bounded(header, rows, [42 * mm, 28 * mm, 36 * mm, 18 * mm, WIDTH - 124 * mm])
    return kept(heading, [[part] for part in tables])


def reviews_section(
    reviews: Sequence[Review],
    decisions: dict[int, ReviewDecision],
    references: dict[int, str],
    superseded: set[int],
    closed_at: datetime,
    names: Names,
    zone: ZoneInfo,
) -> list[Any]:
    """Each legal review: its kind and order, when it was due, and the decision with its rationale and who
    made it; an undecided one with its status at the closing."""
    heading = para("Reviews", "h2")
    if not reviews:
        return [KeepTogether([heading, para("No reviews recorded.")])]
    rows: list[list[Any]] = []
    for review in reviews:
        decided = decisions.get(review.id or 0)
        kind = escape(word(review.kind)) + (f" ({text(word(review.trigger))})" if review.trigger else "")
        kind += f"<br/>order {text(references.get(review.authorization_id, str(review.authorization_id)))}"
        if decided is None:
            status = status_of(review, None, closed_at, review.authorization_id in superseded)
            outcome, parts = f"not decided: {escape(UNDECIDED.get(status, word(status)))}", ["—"]
        else:
            outcome = (
                f"<b>{escape(word(decided.decision))}</b>, {at(decided.decided_at, zone)}, "
                f"by {text(names(decided.decided_by, decided.decided_at))}"
            )
            parts = pieces(decided.rationale) or ["—"]
        rows.append([
            para(f"{review.id}: {kind}", "small"),
            para(at(review.due_at, zone), "small"),
            para(outcome, "small"),
            para(parts[0], "small"),
        ])
        rows += [[para(""), para(""), para(""), para(part, "small")] for part in parts[1:]]
    header = bold("Review", "Due", "Decision", "Rationale")
    tables = bounded(header, rows, [32 * mm, 40 * mm, 50 * mm, WIDTH - 122 * mm])
    return kept(heading, [[part] for part in tables])


def leads_section(leads: Sequence[Lead], names: Names, zone: ZoneInfo) -> list[Any]:
    """Each lead passed to another unit or agency, with the SHA-256 of what was sent."""
    heading = para("Leads passed on", "h2")
    if not leads:
        return [KeepTogether([heading, para("No leads passed on.")])]
    blocks: list[list[Any]] = []
    for lead in leads:
        by = names(lead.passed_by, lead.passed_at)
        rows: list[tuple[str, list[str]]] = [
            ("Lead", [f"{lead.id}, passed {at(lead.passed_at, zone)} by {text(by)}"]),
            ("Recipient", pieces(lead.recipient)),
            ("Legal basis", pieces(lead.legal_basis)),
            ("TLP label", [text(lead.tlp)]),
            ("SHA-256", [f"<font face='DecoyMono' size='8'>{text(lead.sha256)}</font>"]),
            ("Description", pieces(lead.description)),
        ]
        blocks.append([facts(rows), Spacer(0, 3 * mm)])
    return kept(heading, blocks)
