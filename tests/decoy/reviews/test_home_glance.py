"""The legal officer's home at one glance: a count per kind of decision, each linking to its list, and the
last verification of the audit log."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from decoy.db import session_scope
from decoy.integrity.checkpoints import run_verification
from decoy.models import Review


def tiles(html: str) -> dict[str, tuple[int, str]]:
    """The glance's tiles: what they count, with the count and the list they link to."""
    section = html.split('class="glance"')[1].split("</section>")[0]
    pattern = r'<a href="(#[\w-]+)"><span class="count">(\d+)</span> <span class="what">([^<]+)</span>'
    found = re.findall(pattern, section)
    return {what: (int(count), target) for target, count, what in found}


def test_the_glance_counts_what_needs_a_decision_and_links_to_it(team: Any, auth: Any, clock: Any) -> None:
    team.run()
    with team.app.app_context(), session_scope(team.app) as session:
        first, second = session.exec(select(Review).order_by(col(Review.due_at)).limit(2)).all()
    clock.set(first.due_at + timedelta(hours=1))
    team.run()
    clock.set(second.due_at - timedelta(days=3))
    auth.login("lena")
    html = team.client.get("/").get_data(as_text=True)
    shown = tiles(html)
    assert shown["review overdue"] == (1, "#reviews-attention")
    assert shown["review due within 7 days"] == (1, "#reviews-attention")
    assert shown["safeguarding cases open"] == (0, "#safeguarding-cases")
    assert shown["suspects to notify"][0] == 0
    assert 'id="reviews-attention"' in html
    assert "Last verification of the audit log" in html and "none yet" in html
    auth.logout()
    auth.login("sam")
    assert 'class="glance"' not in team.client.get("/").get_data(as_text=True)


def test_the_glance_shows_the_last_verification(team: Any, auth: Any) -> None:
    with team.app.app_context():
        run = run_verification(team.app, trigger="manual", actor="test")
    auth.login("lena")
    html = team.client.get("/").get_data(as_text=True)
    line = html.split('class="last-verification"')[1].split("</p>")[0]
    assert f"intact: {run.entries} entries" in line and 'href="/integrity/"' in line
