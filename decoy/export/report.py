"""The readable PDF reports of a bundle: a proces-verbaal of the operation and one per conversation.

Counterpart text is hostile: it is escaped for reportlab's paragraph markup and its invisible or control
characters are shown as markers, so nothing a counterpart wrote can format or hide text in the report.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import cache
from itertools import chain
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    Preformatted,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ..evidence.display import visible_plain as visible

TABLE_ROWS = 40
#: A message's text is laid out in pieces of at most this many lines and characters, each its own table
#: row, so that no row is taller than a page (a row cannot split) whatever a counterpart sent: even with
#: every character as wide as the font size (about 34 to a line of the text column), a piece takes at most
#: 20 + 600 / 34 < 40 lines, where a page holds about 60.
PIECE_LINES = 20
PIECE_CHARS = 600
FLAG_COLOUR = colors.HexColor("#8a1111")
FLAG_BACKGROUND = colors.HexColor("#fde8e8")


@cache
def _fonts() -> dict[str, ParagraphStyle]:
    folder = Path(__file__).resolve().parent.parent / "static" / "fonts"
    for name, file in (
        ("DecoySans", "DejaVuSans.ttf"),
        ("DecoySans-Bold", "DejaVuSans-Bold.ttf"),
        ("DecoyMono", "DejaVuSansMono.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    pdfmetrics.registerFontFamily(
        "DecoySans",
        normal="DecoySans",
        bold="DecoySans-Bold",
        italic="DecoySans",
        boldItalic="DecoySans-Bold",
    )
    base = ParagraphStyle("base", fontName="DecoySans", fontSize=9.5, leading=12.5)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
        "h1": ParagraphStyle(
            "h1", parent=base, fontName="DecoySans-Bold", fontSize=16, leading=20, spaceAfter=6
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName="DecoySans-Bold",
            fontSize=12.5,
            leading=16,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "h3": ParagraphStyle(
            "h3",
            parent=base,
            fontName="DecoySans-Bold",
            fontSize=10.5,
            leading=14,
            spaceBefore=6,
            spaceAfter=2,
        ),
        "flag": ParagraphStyle("flag", parent=base, fontName="DecoySans-Bold", textColor=FLAG_COLOUR),
        "mono": ParagraphStyle("mono", parent=base, fontName="DecoyMono", fontSize=7.5, leading=9.5),
    }


def text(value: object) -> str:
    """Hostile text made safe for a reportlab Paragraph: visible markers, then markup escaped."""
    shown = visible("" if value is None else str(value))
    return escape(shown).replace("\n", "<br/>")


def when(value: str | None, zone: ZoneInfo) -> str:
    """An RFC 3339 time shown in the operation's zone with its offset."""
    if not value:
        return "—"
    local = datetime.fromisoformat(value).astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M:%S %Z (UTC%z)")


def pieces(value: str) -> list[str]:
    """Hostile text in pieces that each fit on a page, made safe for a Paragraph (see :func:`text`).

    Lines longer than PIECE_CHARS are cut into runs of PIECE_CHARS characters (a word with no space is
    then wrapped by the paragraph at the column's edge); a piece ends after PIECE_LINES lines or once it
    holds PIECE_CHARS characters. Nothing is dropped: joined, the pieces are the whole text.
    """
    shown = visible(value)
    lines: list[str] = []
    for line in shown.split("\n"):
        lines.extend(line[start : start + PIECE_CHARS] for start in range(0, max(len(line), 1), PIECE_CHARS))
    result: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        if current and (len(current) >= PIECE_LINES or size + len(line) > PIECE_CHARS):
            result.append("<br/>".join(escape(part) for part in current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    result.append("<br/>".join(escape(part) for part in current))
    return result


def _table(rows: list[list[Any]], widths: list[float], header: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9eef3")))
    table.setStyle(TableStyle(style))
    return table


def _p(value: str, style: str = "body") -> Paragraph:
    return Paragraph(value, _fonts()[style])


def _flags(flags: list[str]) -> Paragraph:
    if not flags:
        return _p("—")
    return _p("FLAGGED: " + ", ".join(escape(flag) for flag in flags), "flag")


class LazyStory(list):  # type: ignore[type-arg]
    """A platypus story filled from an iterator as the document consumes it, so memory stays flat.

    reportlab's build loop takes flowables from the front of the list; this list tops itself up
    from ``source`` whenever it is asked for its length or its first item.
    """

    def __init__(self, source: Iterable[Any]) -> None:
        super().__init__()
        self._source = iter(source)

    def _fill(self) -> None:
        while super().__len__() < 4:
            item = next(self._source, None)
            if item is None:
                return
            super().append(item)

    def __len__(self) -> int:
        self._fill()
        return super().__len__()

    def __getitem__(self, index: Any) -> Any:
        self._fill()
        return super().__getitem__(index)


def conversation(
    contact: dict[str, Any], messages: Iterable[dict[str, Any]], zone: ZoneInfo
) -> Iterator[Any]:
    """Flowables of one conversation: header and every message with both times, officer and flags."""
    yield _p(f"Contact {contact['id']}: {text(contact['counterpart'])}", "h3")
    yield _p(
        f"First seen {when(contact['first_seen_at'], zone)}; recorded by {text(contact['recorded_by'])}."
    )
    if contact["flags"]:
        yield _flags(contact["flags"])
    width = A4[0] - 30 * mm
    header = [_p("<b>#</b>"), _p("<b>Direction, times, officer</b>"), _p("<b>Text and attachments</b>")]
    rows: list[list[Any]] = [header]
    flagged_rows: list[int] = []

    def close_table() -> Table:
        # Tables of bounded length: reportlab splits a long table across pages in quadratic time.
        table = _table(rows, [12 * mm, 52 * mm, width - 64 * mm])
        for row in flagged_rows:
            table.setStyle(TableStyle([("BACKGROUND", (0, row), (-1, row), FLAG_BACKGROUND)]))
        return table

    for message in messages:
        if len(rows) > TABLE_ROWS:
            yield close_table()
            rows = [header]
            flagged_rows = []
        number = len(rows)
        direction = "incoming" if message["direction"] == "in" else "outgoing (decoy)"
        meta = (
            f"{direction}<br/>platform: {escape(message['sent_at'])}<br/>"
            f"local: {when(message['sent_at'], zone)}<br/>recorded: {when(message['recorded_at'], zone)}"
            f"<br/>by {text(message['recorded_by'])}"
        )
        if message["corrects"]:
            meta += f"<br/>corrects message {message['corrects']}"
        parts = pieces(message["body"]) if message["body"] else ["<i>(empty)</i>"]
        for attachment in message["attachments"]:
            parts[-1] += (
                f"<br/><font size=7>attachment {escape(attachment['sha256'])} "
                f"({attachment['size']} bytes, {escape(attachment['media_type'])})</font>"
            )
        first: list[Any] = [_p(parts[0])]
        if message["flags"]:
            first.append(_flags(message["flags"]))
        rows.append([_p(str(message["id"]), "small"), _p(meta, "small"), first])
        if message["flags"]:
            flagged_rows.append(number)
        for index, part in enumerate(parts[1:], start=2):
            if len(rows) > TABLE_ROWS:
                yield close_table()
                rows = [header]
                flagged_rows = []
            label = f"{message['id']}<br/>({index}/{len(parts)})"
            rows.append([_p(label, "small"), _p(f"message {message['id']}, continued", "small"), _p(part)])
    yield close_table()


def _document(story: Iterable[Any], title: str) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=title,
        author="Decoy",
        invariant=True,
    )

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("DecoySans", 7.5)
        canvas.drawString(15 * mm, 8 * mm, f"{title} — page {doc.page}")
        canvas.restoreState()

    document.build(LazyStory(story), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def contact_report(contact: dict[str, Any], messages: list[dict[str, Any]], zone: ZoneInfo) -> bytes:
    """The PDF transcript of one conversation."""
    _fonts()
    heading = [
        _p(f"Transcript of contact {contact['id']}", "h1"),
        _p(f"Times in {escape(str(zone))}; the platform's own time is shown with its offset.", "small"),
        Spacer(0, 4 * mm),
    ]
    return _document(
        chain(heading, conversation(contact, messages, zone)), f"Decoy transcript, contact {contact['id']}"
    )


def operation_report(
    *,
    operation: dict[str, Any],
    authorizations: list[dict[str, Any]],
    profiles: list[dict[str, Any]],
    contacts: list[dict[str, Any]],
    reviews: list[dict[str, Any]],
    checkpoint_note: str,
    public_key: str,
    entries: int,
    zone: ZoneInfo,
) -> bytes:
    """The proces-verbaal-like report of the whole operation."""
    _fonts()
    width = A4[0] - 30 * mm
    members = ", ".join(
        f"{text(member['username'])} ({escape(', '.join(member['roles']))})"
        for member in operation["members"]
    )
    story: list[Any] = [
        _p(f"Evidence report — operation {text(operation['name'])}", "h1"),
        _p(
            f"Operation id {operation['id']}, team {text(operation['team'])}, "
            f"status {escape(operation['status'])}. "
            f"Exported {when(operation['exported_at'], zone)} by {text(operation['exported_by'])}. "
            f"All times in {escape(str(zone))} unless marked as the platform's time."
        ),
        _p("Members: " + (members or "—")),
        _p("Authorizations", "h2"),
        *_authorization_tables(authorizations, zone, width),
        _p("Decoy profiles", "h2"),
        _profile_table(profiles, zone, width),
        _p("Reviews", "h2"),
        _review_table(reviews, zone, width) if reviews else _p("No reviews recorded."),
        _p("Conversations", "h2"),
    ]
    if not contacts:
        story.append(_p("No contacts recorded."))
    conversations = chain.from_iterable(
        chain(conversation(contact, contact["messages"], zone), [Spacer(0, 4 * mm)]) for contact in contacts
    )
    closing = [
        _p("Integrity statement", "h2"),
        _p(
            f"This bundle holds {entries} audit entries of this operation, each with an RFC 9162 "
            "inclusion proof against the signed checkpoint below. Any change to a file, an entry or "
            "the checkpoint is detected by "
            "<font face='DecoyMono'>python -m audit verify</font> (see VERIFY.md)."
        ),
        Preformatted(checkpoint_note, _fonts()["mono"]),
        _p("Public key of the log:"),
        Preformatted(public_key, _fonts()["mono"]),
    ]
    return _document(
        chain(story, conversations, closing), f"Decoy evidence report, operation {operation['id']}"
    )


def _authorization_tables(authorizations: list[dict[str, Any]], zone: ZoneInfo, width: float) -> list[Any]:
    """One table of terms per authorization; a long term continues on further rows."""
    flowables: list[Any] = []
    for a in authorizations:
        limits: list[tuple[str, list[str]]] = [
            ("Reference", pieces(a["reference"])),
            ("Kind", [escape(a["kind"])]),
            ("Authority / issuer", pieces(f"{a['authority']} / {a['issuer_name']}")),
            ("Legal basis", pieces(a["legal_basis"])),
            ("Offence", pieces(a["offence"])),
            ("Valid", [f"{when(a['valid_from'], zone)} until {when(a['valid_until'], zone)}"]),
            ("Review interval", [f"{a['review_interval_days']} days"]),
            ("Platforms", pieces(", ".join(a["platforms"]))),
            ("Decoy may initiate contact", ["yes" if a["may_initiate_contact"] else "no"]),
            ("Maximum profiles", [str(a["max_profiles"])]),
            ("Named officers", pieces(", ".join(a["officers"]) or "—")),
            ("Persona constraints", pieces(a["persona_constraints"])),
            ("Conditions", pieces(a["conditions"])),
            ("Supersedes", [str(a["supersedes_id"] or "—") + (" (superseded)" if a["superseded"] else "")]),
            (
                "Order documents",
                ["<br/>".join(f"{escape(d['kind'])}: {escape(d['sha256'])}" for d in a["documents"]) or "—"],
            ),
        ]
        rows = [
            [_p(key if number == 0 else "", "small"), _p(piece)]
            for key, parts in limits
            for number, piece in enumerate(parts)
        ]
        flowables.append(KeepTogether(_table(rows, [45 * mm, width - 45 * mm], header=False)))
        flowables.append(Spacer(0, 3 * mm))
    return flowables


def _profile_table(profiles: list[dict[str, Any]], zone: ZoneInfo, width: float) -> Any:
    """Each profile with its status, then one row per transition (a reason may be long)."""
    rows: list[list[Any]] = [[_p("<b>Profile</b>"), _p("<b>Status and history</b>")]]
    for profile in profiles:
        rows.append(
            [
                _p(
                    f"{profile['id']}: {text(profile['platform'])} / {text(profile['handle'])}<br/>"
                    f"authorization {profile['authorization_id']}"
                ),
                _p(f"<b>{escape(profile['status'])}</b>", "small"),
            ]
        )
        for h in profile["history"]:
            change = (
                f"{when(h['at'], zone)}: {escape(h['from'] or '—')} → {escape(h['to'])} by {text(h['actor'])}"
            )
            parts = pieces(h["reason"]) if h["reason"] else [""]
            rows.append([_p(""), _p(change + (": " + parts[0] if parts[0] else ""), "small")])
            rows.extend([_p(""), _p(part, "small")] for part in parts[1:])
    return _table(rows, [60 * mm, width - 60 * mm])


def _review_table(reviews: list[dict[str, Any]], zone: ZoneInfo, width: float) -> Any:
    """Each review with its due date and decision; a long rationale continues on further rows."""
    rows = [[_p("<b>Review</b>"), _p("<b>Due</b>"), _p("<b>Decision</b>")]]
    for review in reviews:
        decision = review.get("decision") or {}
        outcome = escape(str(decision.get("decision", review.get("status", ""))))
        parts = pieces(f"{decision.get('rationale', '')} {decision.get('decided_by', '')}".strip()) or [""]
        rows.append(
            [
                _p(f"{review['id']}: {escape(str(review.get('kind', '')))}"),
                _p(when(review.get("due_at"), zone)),
                _p(f"{outcome} {parts[0]}"),
            ]
        )
        rows.extend([_p(""), _p(""), _p(part)] for part in parts[1:])
    return _table(rows, [40 * mm, 45 * mm, width - 85 * mm])
