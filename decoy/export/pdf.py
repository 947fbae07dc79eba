"""PDF building blocks of the reports: fonts served by Decoy, hostile text made safe and laid out in pieces
that fit a page, tables, and a story that streams into the document.

Counterpart text is hostile: it is escaped for reportlab's paragraph markup and its invisible or control
characters are shown as markers, so nothing a counterpart wrote can format or hide text in the report.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from ..evidence.display import flag_name, flag_text
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
def styles() -> dict[str, ParagraphStyle]:
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


def table(rows: list[list[Any]], widths: list[float], header: bool = True) -> Table:
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


def para(value: str, style: str = "body") -> Paragraph:
    return Paragraph(value, styles()[style])


def flags_paragraph(flags: list[str]) -> Paragraph:
    """A message's flags in words (the report is in English, whoever asked for the export)."""
    if not flags:
        return para("—")
    with force_locale("en"):
        words = [f"{flag_name(f)} ({flag_text(f)})" if flag_text(f) else flag_name(f) for f in flags]
    return para("FLAGGED: " + "; ".join(escape(word) for word in words), "flag")


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


def document(story: Iterable[Any], title: str, page_word: str = "page") -> bytes:
    """The PDF of ``story``; each page's footer shows ``title`` and its number after ``page_word``."""
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
        canvas.drawString(15 * mm, 8 * mm, f"{title} — {page_word} {doc.page}")
        canvas.restoreState()

    document.build(LazyStory(story), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
