"""What a notice says: the operation's name never after the same word, and a reminder's time left as it
was when the notice was made, with the due time (in English and in Dutch)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlmodel import col, select

from decoy.db import session_scope
from decoy.models import Notification, OutboxEmail, Review, User
from decoy.reviews.notifications import body, subject
from tests.decoy.reviews.support import build_team

DUE = {"due_local": "2026-03-04 10:00 CET", "timezone": "Europe/Amsterdam",
       "due_at": "2026-03-04T09:00:00+00:00"}
#: A notice of each kind that names an operation, with what its text needs.
NAMED = {
    "reminder_7d": {"review_kind": "periodic", **DUE, "link": "/reviews/1"},
    "reminder_1d": {"review_kind": "triggered", "trigger": "flagged_message", "contact_id": 3,
                    "flag": "decoy_initiated", **DUE, "link": "/reviews/1"},
    "escalation": {"review_kind": "before_expiry", "due_local": "2026-03-04 10:00 CET",
                   "timezone": "Europe/Amsterdam", "link": "/reviews/1"},
    "suspension": {"rule": "authorization_lapsed", "profiles": 2, "link": "/operations/1/reviews"},
    "capture_session_open": {"hours": 12, "capture_session_id": 4, "operated_by": "AB1234",
                             "started_local": "2026-03-02 10:00 CET", "timezone": "Europe/Amsterdam",
                             "link": "/profiles/1/contacts"},
    "safeguarding_opened": {"cause": "real_minor", "case_id": 5, "contact_id": 3,
                            "due_local": "2026-03-03 10:00 CET", "link": "/contacts/3#safeguarding"},
    "safeguarding_overdue": {"cause": "presumed_victim", "case_id": 5, "contact_id": 3,
                             "due_local": "2026-03-03 10:00 CET", "link": "/contacts/3#safeguarding"},
}
#: "operation Operation Harbour", "operatie Operation Harbour": the word before the name repeats it.
REPEATED = re.compile(r"\b(operation|operatie)\W+Operation Harbour", re.IGNORECASE)


@pytest.mark.parametrize("locale", ["en", "nl"])
@pytest.mark.parametrize("kind", sorted(NAMED))
def test_the_name_of_an_operation_is_not_preceded_by_the_same_word(app: Any, kind: str, locale: str) -> None:
    params = {"operation": "Operation Harbour", **NAMED[kind]}
    with app.app_context(), force_locale(locale):
        title, text = subject(kind, params), body(kind, params)
    assert "Operation Harbour" in title and "Operation Harbour" in text
    assert not REPEATED.search(title), title
    assert not REPEATED.search(text), text


def test_a_reminder_states_the_time_left_when_it_was_made(team: Any, auth: Any, clock: Any) -> None:
    team.run()  # the reviews exist; the first is a month away, so nothing is reminded yet
    with team.app.app_context(), session_scope(team.app) as session:
        review = session.exec(select(Review).order_by(col(Review.due_at))).first()
        assert review is not None and review.due_at - clock.now() > timedelta(days=7)
    # The scheduler was down through the start of the 7-day window: the reminder is made 2 days before.
    clock.set(review.due_at - timedelta(days=2))
    team.run()
    local = review.due_at.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%Y-%m-%d %H:%M %Z")
    expected = f"Review due in 2 days ({local}): Operation Lantern"
    with team.app.app_context(), session_scope(team.app) as session:
        key = f"reminder_7d:{review.id}"
        assert len(session.exec(select(Notification).where(Notification.key == key)).all()) == 3
    for username in ("sam", "sol", "lena"):
        answer = team.api("GET", "/notifications", username).get_json()
        assert [item["subject"] for item in answer["items"] if item["kind"] == "reminder_7d"] == [expected]
    # Read half a day later, the notice still says what was left when it was made (and when it is due).
    clock.advance(hours=12)
    answer = team.api("GET", "/notifications", "sam").get_json()
    assert [item["subject"] for item in answer["items"]] == [expected]
    auth.login("sam")
    assert expected in team.client.get("/notifications").get_data(as_text=True)


def test_a_reminder_made_hours_before_says_hours(
    app_factory: Any, client: Any, factory: Any, clock: Any
) -> None:
    team = build_team(app_factory(), client, factory)
    team.app = app_factory(SMTP_URL="smtp://127.0.0.1:9")  # e-mails are queued, not sent
    team.run()
    with team.app.app_context(), session_scope(team.app) as session:
        review = session.exec(select(Review).order_by(col(Review.due_at))).first()
        assert review is not None
        dutch = session.exec(select(User).where(User.username == "sol")).one()
        dutch.locale = "nl"
        session.add(dutch)
    clock.set(review.due_at - timedelta(hours=5))
    team.run()
    with team.app.app_context(), session_scope(team.app) as session:
        mails = {row.recipient: row for row in session.exec(select(OutboxEmail)).all()}
    local = review.due_at.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%Y-%m-%d %H:%M %Z")
    assert mails["sam@example.test"].subject == f"Review due in 5 hours ({local}): Operation Lantern"
    assert mails["sol@example.test"].subject == f"Toetsing over 5 uur ({local}): Operation Lantern"
    assert "van “Operation Lantern”" in mails["sol@example.test"].body
    assert "of “Operation Lantern”" in mails["sam@example.test"].body
