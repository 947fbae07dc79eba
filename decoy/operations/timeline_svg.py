"""The timeline of an operation drawn as SVG: authorizations as validity bars, reviews as marks on their due
dates, each profile's states as bars, and a line for now (primitives and styles from chart_svg)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from ..clock import localtime
from . import labels
from .chart_svg import (
    AUTHORIZATION_STYLE,
    PROFILE_STYLE,
    REVIEW_MARK,
    WIDTH,
    _defs,
    _label,
    _legend,
    _legend_swatch,
    _mark,
    _n,
    _rect,
    _svg,
    _text,
    _tick_label,
    _ticks,
    day_label,
)
from .charts import Lane, Timeline

LEFT = 230


class _Drawing:
    """The lanes of one timeline, drawn top to bottom: ``y`` is where the next lane starts."""

    def __init__(self, line: Timeline, zone_name: str, chart_id: str) -> None:
        self.line, self.zone_name, self.chart_id = line, zone_name, chart_id
        first, last = line.bounds()
        pad = max((last - first) * 0.02, timedelta(hours=12))
        self.start, self.end = first - pad, last + pad
        self.lanes: list[Markup] = []
        self.y = 24.0

    def at(self, moment: datetime) -> float:
        """The x coordinate of a moment."""
        right = WIDTH - 16
        return LEFT + (moment - self.start) / (self.end - self.start) * (right - LEFT)

    def heading(self, words: str) -> None:
        self.lanes.append(_text(8, self.y + 14, words, "heading"))
        self.y += 22

    def bars(self, lane: Lane, note: str, style_of: dict[str, tuple[str, str]], words_of: Any) -> None:
        """One lane of state bars, each with its words inside when they fit and in its tooltip."""
        y, line = self.y, self.line
        self.lanes.append(Markup('<g class="lane"><title>{}</title>').format(f"{lane.label} · {note}"))
        self.lanes.append(_text(8, y + 13, _label(lane.label), "lane-label"))
        self.lanes.append(_text(8, y + 27, note, "small"))
        for span in lane.spans:
            x0, x1 = self.at(span.start), self.at(span.end or line.now)
            words = words_of(span.state)
            until = localtime(span.end, self.zone_name) if span.end else _("now")
            tip = f"{lane.label}: {words}, {localtime(span.start, self.zone_name)} – {until}"
            style = style_of.get(span.state, ("solid", "muted"))
            self.lanes.append(_rect(self.chart_id, style, x0, y + 6, x1 - x0, 20, tip))
            if x1 - x0 > len(words) * 6.6 + 8:
                self.lanes.append(_text(x0 + 4, y + 20, words, "on-bar"))
        self.lanes.append(Markup("</g>"))
        self.y += 34

    def reviews(self) -> None:
        """The reviews' lane: a mark per review on its due date, shaped by its status."""
        line, y = self.line, self.y
        overdue = sum(1 for deadline in line.reviews if deadline.status == "overdue")
        note = ngettext("%(num)d review", "%(num)d reviews", len(line.reviews))
        self.lanes.append(_text(8, y + 13, _("Due dates"), "lane-label"))
        summary = note + (", " + _("%(count)d overdue", count=overdue) if overdue else "")
        self.lanes.append(_text(8, y + 27, summary, "small"))
        for deadline in line.reviews:
            shape, tone = REVIEW_MARK.get(deadline.status, ("square", "muted"))
            tip = _(
                "%(kind)s under %(reference)s, due %(due)s: %(status)s",
                kind=labels.review_kind(deadline.kind),
                reference=deadline.reference,
                due=localtime(deadline.at, self.zone_name),
                status=labels.review_status(deadline.status),
            )
            if deadline.decision:
                tip += f" ({labels.decision(deadline.decision)})"
            self.lanes.append(_mark(shape, tone, self.at(deadline.at), y + 16, tip))
        self.y += 34

    def grid(self) -> list[Markup]:
        """Day lines with their labels, and the line for now."""
        zone = ZoneInfo(self.zone_name)
        body: list[Markup] = []
        for tick, words in _ticks(self.start.astimezone(zone).date(), self.end.astimezone(zone).date()):
            midnight = datetime.combine(tick, time(), zone)
            if not self.start <= midnight <= self.end:
                continue
            x = self.at(midnight)
            grid_line = Markup('<line x1="{0}" y1="20" x2="{0}" y2="{1}" class="grid"/>')
            body.append(grid_line.format(_n(x), _n(self.y)))
            body.append(_tick_label(x, self.y + 16, words))
        return body

    def now_line(self) -> list[Markup]:
        now = self.at(self.line.now)
        return [
            Markup('<line x1="{0}" y1="14" x2="{0}" y2="{1}" class="now"/>').format(_n(now), _n(self.y)),
            _text(now, 11, _("now"), "now-label", "middle"),
        ]

    def legend_items(self) -> list[tuple[Markup, str]]:
        """A legend entry for every state the timeline shows, and one for the line of now."""
        line = self.line
        items = [
            (_legend_swatch(self.chart_id, style), labels.authorization_status(state))
            for state, style in AUTHORIZATION_STYLE.items()
            if any(lane.status == state for lane in line.authorizations)
        ]
        items += [
            (_mark(*REVIEW_MARK[state], 9, 6), labels.review_status(state))
            for state in REVIEW_MARK
            if any(deadline.status == state for deadline in line.reviews)
        ]
        items += [
            (_legend_swatch(self.chart_id, style), labels.profile_status(state))
            for state, style in PROFILE_STYLE.items()
            if any(span.state == state for lane in line.profiles for span in lane.spans)
        ]
        items.append((Markup('<line x1="9" y1="-2" x2="9" y2="14" class="now"/>'), _("now")))
        return items


def timeline_chart(line: Timeline, zone_name: str, chart_id: str = "timeline-chart") -> Markup:
    """Authorizations as validity bars, reviews as marks on their due dates, profiles as bars per state."""
    if line.empty:
        return Markup("")
    drawing = _Drawing(line, zone_name, chart_id)
    styles = [AUTHORIZATION_STYLE.get(lane.status, ("solid", "muted")) for lane in line.authorizations]
    styles += [
        PROFILE_STYLE.get(span.state, ("solid", "muted")) for lane in line.profiles for span in lane.spans
    ]
    if line.authorizations:
        drawing.heading(_("Authorizations"))
        for lane in line.authorizations:
            status = labels.authorization_status(lane.status)
            drawing.bars(lane, status, AUTHORIZATION_STYLE, labels.authorization_status)
    if line.reviews:
        drawing.heading(_("Reviews"))
        drawing.reviews()
    if line.profiles:
        drawing.heading(_("Profiles"))
        for lane in line.profiles:
            note = f"{lane.platform} · {labels.profile_status(lane.status)}"
            drawing.bars(lane, note, PROFILE_STYLE, labels.profile_status)
    body = [_defs(chart_id, styles), *drawing.grid(), *drawing.lanes, *drawing.now_line()]
    legend, used = _legend(drawing.y + 30, drawing.legend_items())
    body.extend(legend)
    first, last = line.bounds()
    zone = ZoneInfo(zone_name)
    description = _(
        "Authorizations: %(authorizations)s; reviews: %(reviews)s (overdue: %(overdue)s); profiles: "
        "%(profiles)s. From %(start)s to %(end)s. The tables below give every date.",
        authorizations=len(line.authorizations),
        reviews=len(line.reviews),
        overdue=sum(1 for deadline in line.reviews if deadline.status == "overdue"),
        profiles=len(line.profiles),
        start=day_label(first.astimezone(zone).date()),
        end=day_label(last.astimezone(zone).date()),
    )
    title = _("Timeline of authorizations, reviews and profile states")
    return _svg(chart_id, drawing.y + 34 + used, title, description, body)
