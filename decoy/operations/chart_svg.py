"""Charts of an operation drawn on the server as SVG: the drawing primitives and styles, and the contacts
and messages per day in the operation's zone (the timeline is in timeline_svg).

No script and no inline style (the CSP forbids both): shapes carry classes that decoy.css styles, and a
``fill`` attribute only where a pattern is referenced, so that states differ by pattern, shape and words as
well as by colour. Every text goes through markupsafe, which escapes handles and references as recorded.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from datetime import date, timedelta

from babel.dates import format_skeleton
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup

from .charts import Day

WIDTH = 960
#: How each state is drawn: (pattern, tone). Patterns tell the states apart without colour.
AUTHORIZATION_STYLE = {
    "valid": ("solid", "ok"),
    "expiring": ("stripes", "warn"),
    "not_yet_valid": ("dots", "warn"),
    "lapsed": ("cross", "bad"),
    "superseded": ("stripes", "muted"),
    "withdrawn": ("dots", "bad"),
}
PROFILE_STYLE = {
    "active": ("solid", "ok"),
    "pending_approval": ("dots", "warn"),
    "suspended": ("cross", "bad"),
    "retired": ("stripes", "muted"),
    "draft": ("dots", "muted"),
}
#: Reviews are marks of a shape per status.
REVIEW_MARK = {
    "done": ("circle", "ok"),
    "pending": ("diamond", "warn"),
    "overdue": ("triangle", "bad"),
    "superseded": ("square", "muted"),
}
SERIES_STYLE = {"messages": ("solid", "brand"), "contacts": ("stripes", "brand")}
#: The badge tone of each state in the tables beside the charts: the charts' own tones.
TONES = {
    state: tone
    for styles in (AUTHORIZATION_STYLE, PROFILE_STYLE, REVIEW_MARK)
    for state, (_pattern, tone) in styles.items()
}


# --- what the charts show -------------------------------------------------------------------------------




def day_label(day: date, skeleton: str = "yMMMEd") -> str:
    """A calendar day in the reader's locale (``yMMMEd``: "Sun, Mar 29, 2026", "zo 29 mrt 2026")."""
    return str(format_skeleton(skeleton, day, locale=get_locale() or "en"))


def _label(text: str, limit: int = 30) -> str:
    """Recorded text fit for a chart label: control and direction-changing characters dropped, cut short."""
    shown = "".join(char for char in text if unicodedata.category(char) not in ("Cc", "Cf"))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _n(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _ticks(first: date, last: date, most: int = 10) -> list[tuple[date, str]]:
    """Days to mark on an axis from ``first`` to ``last``: every day, Mondays, months or years."""
    span = (last - first).days
    if span < most:
        return [
            (first + timedelta(days=n), day_label(first + timedelta(days=n), "MMMd")) for n in range(span + 1)
        ]
    if span < most * 7:
        mondays = (first + timedelta(days=n) for n in range(span + 1))
        return [(day, day_label(day, "MMMd")) for day in mondays if day.weekday() == 0]
    months = [date(year, month, 1) for year in range(first.year, last.year + 1) for month in range(1, 13)]
    months = [month for month in months if first <= month <= last]
    for every in (1, 2, 3, 6):
        chosen = [month for month in months if (month.month - 1) % every == 0]
        if len(chosen) <= most:
            return [(month, day_label(month, "yMMM")) for month in chosen]
    years = [month for month in months if month.month == 1]
    every = math.ceil(len(years) / most)
    return [(year, day_label(year, "y")) for year in years if year.year % every == 0]


def _scale(peak: int) -> tuple[int, int]:
    """The top of a count axis at or above ``peak``, and its step (1, 2 or 5 times a power of ten)."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            step = power * factor
            if math.ceil(peak / step) <= 4:
                return max(1, math.ceil(peak / step)) * step, step
        power *= 10


def _defs(chart_id: str, styles: Iterable[tuple[str, str]]) -> Markup:
    """The fill patterns the chart uses: stripes, cross-hatching and dots in a tone."""
    parts = []
    for pattern, tone in sorted(set(styles)):
        if pattern == "solid":
            continue
        if pattern == "dots":
            inner = Markup(
                '<rect width="8" height="8" class="bg-{0}"/><circle cx="4" cy="4" r="1.8" class="solid-{0}"/>'
            )
        else:
            inner = Markup(
                '<rect width="8" height="8" class="bg-{0}"/>'
                '<line x1="0" y1="0" x2="0" y2="8" class="ink-{0}"/>'
            )
            if pattern == "cross":
                inner += Markup('<line x1="0" y1="0" x2="8" y2="0" class="ink-{0}"/>')
        parts.append(
            Markup('<pattern id="{0}-{1}-{2}" width="8" height="8" patternUnits="userSpaceOnUse"{3}>').format(
                chart_id, pattern, tone, Markup(' patternTransform="rotate(45)"') if pattern != "dots" else ""
            )
            + inner.format(tone)
            + Markup("</pattern>")
        )
    return Markup("<defs>{}</defs>").format(Markup("").join(parts)) if parts else Markup("")


def _paint(chart_id: str, style: tuple[str, str]) -> Markup:
    """The attributes that fill a shape in a style (CSS for solid tones, a pattern reference otherwise)."""
    pattern, tone = style
    if pattern == "solid":
        return Markup(' class="solid-{}"').format(tone)
    return Markup(' class="edge-{1}" fill="url(#{0}-{2}-{1})"').format(chart_id, tone, pattern)


def _rect(
    chart_id: str, style: tuple[str, str], x: float, y: float, width: float, height: float, title: str = ""
) -> Markup:
    tip = Markup("<title>{}</title>").format(title) if title else Markup("")
    return Markup('<rect x="{}" y="{}" width="{}" height="{}"{}>{}</rect>').format(
        _n(x), _n(y), _n(max(width, 1)), _n(height), _paint(chart_id, style), tip
    )


def _text(x: float, y: float, words: str, css: str = "", anchor: str = "start") -> Markup:
    return Markup('<text x="{}" y="{}" class="{}" text-anchor="{}">{}</text>').format(
        _n(x), _n(y), css, anchor, words
    )


def _tick_label(x: float, y: float, words: str) -> Markup:
    """A date under the axis, centred on its tick, or ending at the chart's right edge rather than cut off."""
    half = len(words) * 3.5
    if x + half > WIDTH - 4:
        return _text(WIDTH - 4, y, words, anchor="end")
    return _text(x, y, words, anchor="middle")


def _mark(shape: str, tone: str, x: float, y: float, title: str = "") -> Markup:
    """A review's mark: circle (done), diamond (pending), triangle (overdue) or square (superseded)."""
    tip = Markup("<title>{}</title>").format(title) if title else Markup("")
    if shape == "circle":
        return Markup('<circle cx="{}" cy="{}" r="6" class="mark solid-{}">{}</circle>').format(
            _n(x), _n(y), tone, tip
        )
    if shape == "square":
        return _polygon(
            [(x - 5, y - 5), (x + 5, y - 5), (x + 5, y + 5), (x - 5, y + 5)], f"mark solid-{tone}", tip
        )
    if shape == "triangle":
        return _polygon([(x, y - 8), (x + 8, y + 6), (x - 8, y + 6)], f"mark solid-{tone}", tip)
    return _polygon([(x, y - 8), (x + 7, y), (x, y + 8), (x - 7, y)], f"mark hollow-{tone}", tip)


def _polygon(points: list[tuple[float, float]], css: str, tip: Markup) -> Markup:
    corners = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
    return Markup('<polygon points="{}" class="{}">{}</polygon>').format(corners, css, tip)


def _svg(chart_id: str, height: float, title: str, description: str, body: list[Markup]) -> Markup:
    head = Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{0}" viewBox="0 0 {1} {2}" role="img" '
        'aria-labelledby="{0}-title {0}-desc"><title id="{0}-title">{3}</title><desc id="{0}-desc">{4}</desc>'
    ).format(chart_id, WIDTH, _n(height), title, description)
    return head + Markup("").join(body) + Markup("</svg>")


def _legend(y: float, items: list[tuple[Markup, str]]) -> tuple[list[Markup], float]:
    """Swatches with their words, wrapped into rows; returns the parts and the height used."""
    parts, x, row = [], 8.0, 0
    for swatch, words in items:
        wide = 30 + len(words) * 6.6
        if x + wide > WIDTH - 8 and x > 8:
            x, row = 8.0, row + 1
        top = y + row * 20
        parts.append(Markup('<g transform="translate({},{})">{}</g>').format(_n(x), _n(top), swatch))
        parts.append(_text(x + 22, top + 10, words))
        x += wide + 12
    return parts, (row + 1) * 20


def activity_chart(days: list[Day], chart_id: str = "activity-chart") -> Markup:
    """Messages per day above, new contacts per day below, on one axis of days; empty when there are none."""
    if not days:
        return Markup("")
    first, last = days[0].day, days[-1].day
    first = min(first, last - timedelta(days=6))
    count = (last - first).days + 1
    left, right = 64, WIDTH - 16
    slot = (right - left) / count
    gap = slot * 0.15 if slot >= 4 else 0
    body: list[Markup] = [_defs(chart_id, SERIES_STYLE.values())]
    panels = (
        ("messages", _("Messages per day (corrections not counted)"), 150),
        ("contacts", _("New contacts per day"), 100),
    )
    y = 8.0
    for key, heading, height in panels:
        body.append(_rect(chart_id, SERIES_STYLE[key], left, y + 3, 14, 10))
        body.append(_text(left + 20, y + 12, heading, "heading"))
        bottom = y + 24 + height
        peak, step = _scale(max(getattr(day, key) for day in days))
        for value in range(0, peak + 1, step):
            level = bottom - value / peak * height
            body.append(
                Markup('<line x1="{}" y1="{}" x2="{}" y2="{}" class="grid"/>').format(
                    left, _n(level), right, _n(level)
                )
            )
            body.append(_text(left - 6, level + 4, format_decimal(value), anchor="end"))
        for day in days:
            value = getattr(day, key)
            if value:
                words = (
                    ngettext("%(num)d message", "%(num)d messages", value)
                    if key == "messages"
                    else ngettext("%(num)d new contact", "%(num)d new contacts", value)
                )
                tall = value / peak * height
                x = left + (day.day - first).days * slot + gap
                body.append(
                    _rect(
                        chart_id,
                        SERIES_STYLE[key],
                        x,
                        bottom - tall,
                        slot - 2 * gap,
                        tall,
                        f"{day_label(day.day)}: {words}",
                    )
                )
        body.append(
            Markup('<line x1="{}" y1="{}" x2="{}" y2="{}" class="axis"/>').format(
                left, _n(bottom), right, _n(bottom)
            )
        )
        y = bottom + 14
    for tick, words in _ticks(first, last):
        x = left + ((tick - first).days + 0.5) * slot
        body.append(
            Markup('<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" class="tick"/>').format(
                _n(x), _n(y - 14), _n(y - 8)
            )
        )
        body.append(_tick_label(x, y + 6, words))
    busiest = max(days, key=lambda day: (day.messages, day.contacts))
    description = _(
        "From %(first)s to %(last)s. Messages: %(messages)s; new contacts: %(contacts)s; days with activity: "
        "%(active)s. Most messages on one day: %(most)s, on %(busiest)s. The table below gives every day.",
        first=day_label(days[0].day),
        last=day_label(days[-1].day),
        messages=format_decimal(sum(day.messages for day in days)),
        contacts=format_decimal(sum(day.contacts for day in days)),
        active=format_decimal(len(days)),
        most=format_decimal(busiest.messages),
        busiest=day_label(busiest.day),
    )
    return _svg(chart_id, y + 16, _("Contacts and messages per day"), description, body)


def _legend_swatch(chart_id: str, style: tuple[str, str]) -> Markup:
    return _rect(chart_id, style, 0, 0, 18, 12)
