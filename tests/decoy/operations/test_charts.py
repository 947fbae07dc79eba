"""The operation's charts: contacts and messages per local day (exact across DST changes), the timeline of
authorizations, reviews and profile states, their table alternatives, escaping and need to know."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select

from decoy.db import session_scope
from decoy.evidence import services as evidence
from decoy.models import Contact, Message, Operation
from decoy.operations import charts
from decoy.operations import services as operations
from decoy.reviews.passes import review_pass
from tests.factories import actor_for, make_authorization, make_operation, make_profile

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
HOSTILE = "<script>alert(1)</script>"
NUMBERS = r'<td class="number">(\d+)</td><td class="number">(\d+)</td>'
ROW = re.compile(r'<tr data-day="(\d{4}-\d\d-\d\d)">.*?' + NUMBERS, re.S)
TOTAL = re.compile(r'<tfoot><tr><th scope="row">Total</th>' + NUMBERS)


def utc(*parts: int) -> datetime:
    """A moment in UTC."""
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def record(app: Any, profile_id: int, first_seen: datetime, sent: list[datetime], who: str = "dana") -> int:
    """A contact first seen at ``first_seen`` with one incoming message at each moment of ``sent``."""
    with app.app_context(), session_scope(app) as session:
        contact = evidence.create_contact(
            session=session, actor=actor_for(session, who), profile_id=profile_id,
            counterpart="river_fox_88", first_seen_at=first_seen,
        )
        contact_id = int(contact.id)  # type: ignore[arg-type]
    for moment in sent:
        with app.app_context(), session_scope(app) as session:
            evidence.log_message(session=session, actor=actor_for(session, who), contact_id=contact_id,
                                 direction="in", sent_at=moment, body="hello, how are you")
    return contact_id


def activity(app: Any, operation_id: int) -> dict[date, tuple[int, int]]:
    """The per-day counts the chart draws, as {day: (contacts, messages)}."""
    with app.app_context(), session_scope(app) as session:
        operation = session.get(Operation, operation_id)
        assert operation is not None
        days = charts.daily_activity(session, operation, operation.timezone)
    return {day.day: (day.contacts, day.messages) for day in days}


def page(auth: Any, username: str, operation_id: int) -> Any:
    """The activity page as ``username``."""
    auth.login(username)
    return auth.client.get(f"/operations/{operation_id}/activity")


def svg_elements(html: str) -> list[ElementTree.Element]:
    """Every SVG of the page, parsed as XML (which fails on anything left unescaped)."""
    # The page was rendered by the app under test, in this process: not untrusted input.
    return [ElementTree.fromstring(found) for found in re.findall(r"<svg .*?</svg>", html, re.S)]  # noqa: S314


def test_offset_changes_of_amsterdam_in_2026() -> None:
    changes = charts.offset_changes(AMSTERDAM, utc(2026, 1, 1), utc(2026, 12, 31))
    assert [(moment, minutes) for moment, minutes in changes[1:]] == [
        (utc(2026, 3, 29, 1), 120),
        (utc(2026, 10, 25, 1), 60),
    ]
    assert changes[0][1] == 60


def test_counts_follow_the_local_day_across_both_dst_changes(team: Any) -> None:
    """Days are calendar days in Europe/Amsterdam: 23 hours on 29 March, 25 hours on 25 October."""
    profile = make_profile(team.app, team.operation_id, team.authorization_id, "sam", approver="sol")
    spring = [
        utc(2026, 3, 28, 22, 59, 30),  # 23:59:30 CET, 28 March
        utc(2026, 3, 28, 23, 0),  # 00:00 CET, 29 March
        utc(2026, 3, 29, 0, 59, 59),  # 01:59:59 CET
        utc(2026, 3, 29, 1, 0),  # 03:00 CEST
        utc(2026, 3, 29, 21, 59, 59),  # 23:59:59 CEST
        utc(2026, 3, 29, 22, 0),  # 00:00 CEST, 30 March
    ]
    autumn = [
        utc(2026, 10, 24, 21, 59, 59),  # 23:59:59 CEST, 24 October
        utc(2026, 10, 24, 22, 0),  # 00:00 CEST, 25 October
        utc(2026, 10, 25, 0, 30),  # 02:30 CEST
        utc(2026, 10, 25, 1, 30),  # 02:30 CET, the hour that happens twice
        utc(2026, 10, 25, 22, 59, 59),  # 23:59:59 CET
        utc(2026, 10, 25, 23, 0),  # 00:00 CET, 26 October
    ]
    record(team.app, profile, utc(2026, 3, 28, 23, 30), spring)  # first seen 00:30 CET on 29 March
    record(team.app, profile, utc(2026, 10, 25, 22, 30), autumn)  # 23:30 CET on 25 October
    assert activity(team.app, team.operation_id) == {
        date(2026, 3, 28): (0, 1),
        date(2026, 3, 29): (1, 4),
        date(2026, 3, 30): (0, 1),
        date(2026, 10, 24): (0, 1),
        date(2026, 10, 25): (1, 4),
        date(2026, 10, 26): (0, 1),
    }


def test_another_zone_counts_by_its_own_days(app: Any, factory: Any) -> None:
    """An operation in New York counts by New York's days (its DST change falls on another date)."""
    factory.user("sam", "supervisor")
    factory.user("sol", "supervisor")
    factory.user("lena", "legal")
    operation_id = make_operation(
        app, "sam", name="Operation Pier", members=("sol",), timezone="America/New_York"
    )
    authorization = make_authorization(app, "lena", operation_id, officers=["sam"])
    profile = make_profile(app, operation_id, authorization, "sam", approver="sol")
    # New York moves to summer time at 07:00 UTC on 8 March 2026.
    record(app, profile, utc(2026, 3, 8, 4, 59), [utc(2026, 3, 8, 4, 59), utc(2026, 3, 9, 3, 59),
                                                  utc(2026, 3, 9, 4, 0)], who="sam")
    assert activity(app, operation_id) == {
        date(2026, 3, 7): (1, 1),  # 23:59 EST
        date(2026, 3, 8): (0, 1),  # 23:59 EDT
        date(2026, 3, 9): (0, 1),  # 00:00 EDT
    }


def test_an_operation_without_anything_recorded_says_so(team: Any, auth: Any) -> None:
    empty = make_operation(team.app, "sam", name="Operation Quiet", members=("dana",))
    answer = page(auth, "dana", empty)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "No contact or message has been recorded in this operation yet." in html
    assert "No authorization, review or profile yet." in html
    assert "<svg" not in html
    assert activity(team.app, empty) == {}


def test_the_table_gives_the_numbers_that_were_recorded(team: Any, auth: Any, clock: Any) -> None:
    """Every day's contacts and messages in the table match the stored rows; a correction is not counted."""
    profile = make_profile(team.app, team.operation_id, team.authorization_id, "sam", approver="sol")
    start = clock.now()
    for number in range(5):
        sent = [start + timedelta(days=number, hours=hour) for hour in range(number + 1)]
        record(team.app, profile, start + timedelta(days=number), sent)
    with team.app.app_context(), session_scope(team.app) as session:
        first = session.exec(select(Message).order_by(Message.id)).first()
        assert first is not None
        evidence.log_message(session=session, actor=actor_for(session, "dana"), contact_id=first.contact_id,
                             direction="in", sent_at=first.sent_at, body="hello, how are you doing",
                             corrects_id=first.id)
    with team.app.app_context(), session_scope(team.app) as session:
        messages = Counter(
            m.sent_at.astimezone(AMSTERDAM).date().isoformat()
            for m in session.exec(select(Message).where(Message.corrects_id == None)).all()  # noqa: E711
        )
        contacts = Counter(c.first_seen_at.astimezone(AMSTERDAM).date().isoformat()
                           for c in session.exec(select(Contact)).all())
    html = page(auth, "lena", team.operation_id).get_data(as_text=True)
    shown = {day: (int(c), int(m)) for day, c, m in ROW.findall(html)}
    assert shown == {day: (contacts[day], messages[day]) for day in contacts | messages}
    assert sum(messages.values()) == 15
    assert TOTAL.search(html).groups() == (str(sum(contacts.values())), str(sum(messages.values())))  # type: ignore[union-attr]
    (per_day, _timeline) = svg_elements(html)
    assert per_day.get("role") == "img"
    assert per_day.get("aria-labelledby") == "activity-chart-title activity-chart-desc"
    assert "Messages: 15; new contacts: 5; days with activity: 5." in html


def test_hostile_text_is_escaped_in_the_charts(team: Any, auth: Any) -> None:
    """A handle and a reference holding markup reach the SVG and the tables only as text."""
    authorization = make_authorization(team.app, "lena", team.operation_id, reference=HOSTILE)
    make_profile(team.app, team.operation_id, authorization, "sam", approver="sol", handle=HOSTILE,
                 platform="chatapp")
    html = page(auth, "dana", team.operation_id).get_data(as_text=True)
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    (timeline,) = svg_elements(html)
    texts = ["".join(element.itertext()) for element in timeline.iter() if element.tag.endswith("text")]
    assert HOSTILE in texts  # the reference and the handle, as text nodes
    assert not [element for element in timeline.iter() if element.tag.endswith("script")]


def test_the_timeline_shows_authorizations_reviews_and_profile_states(
    team: Any, auth: Any, clock: Any
) -> None:
    """A superseded order and its extension, an expiring and a lapsed one, reviews due and overdue, and a
    profile proposed, approved and suspended: each in the chart (with words) and in the tables."""
    now = clock.now()
    lapsed = make_authorization(team.app, "lena", team.operation_id, reference="OvJ-LAPSED",
                                valid_from=now - timedelta(days=60), valid_until=now - timedelta(days=2))
    extension = make_authorization(team.app, "lena", team.operation_id, reference="OvJ-EXTENDED",
                                   supersedes_id=team.authorization_id, valid_until=now + timedelta(days=10))
    profile = make_profile(team.app, team.operation_id, extension, "sam", approver="sol", handle="sunny_day")
    clock.advance(timedelta(hours=5))
    with team.app.app_context(), session_scope(team.app) as session:
        operations.suspend_profile(session=session, actor=actor_for(session, "sam"), profile_id=profile,
                                   reason="a pause for the weekend")
    review_pass(team.app)
    clock.advance(timedelta(days=40))
    html = page(auth, "lena", team.operation_id).get_data(as_text=True)
    (timeline,) = svg_elements(html)
    texts = [element for element in timeline.iter() if element.tag.endswith("text")]
    words = " ".join("".join(element.itertext()) for element in texts)
    for expected in ("OvJ-LAPSED", "OvJ-EXTENDED", "superseded", "lapsed", "sunny_day", "suspended", "now"):
        assert expected in words, expected
    assert timeline.find("{http://www.w3.org/2000/svg}title").text == (  # type: ignore[union-attr]
        "Timeline of authorizations, reviews and profile states")
    profiles = re.search(r'<table id="timeline-profiles">.*?</table>', html, re.S).group(0)  # type: ignore[union-attr]
    states = re.findall(r'<span class="badge \w+">([^<]+)</span>', profiles)
    assert states == ["pending approval", "active", "suspended"]
    reviews = re.search(r'<table id="timeline-reviews">.*?</table>', html, re.S).group(0)  # type: ignore[union-attr]
    assert "overdue" in reviews
    authorizations = re.search(r'<table id="timeline-authorizations">.*?</table>', html, re.S).group(0)  # type: ignore[union-attr]
    for reference in ("OvJ-LAPSED", "OvJ-EXTENDED"):
        assert reference in authorizations
    assert lapsed and ">superseded<" in authorizations and ">lapsed<" in authorizations


def test_the_pages_are_dutch_for_a_dutch_reader(team: Any, auth: Any) -> None:
    profile = make_profile(team.app, team.operation_id, team.authorization_id, "sam", approver="sol")
    record(team.app, profile, utc(2026, 3, 29, 10), [utc(2026, 3, 29, 11)])
    auth.login("dana")
    html = auth.client.get(f"/operations/{team.operation_id}/activity",
                           headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert "Contacten en berichten per dag" in html
    assert "zo 29 mrt 2026" in html


def test_only_members_and_legal_officers_see_the_charts(team: Any, auth: Any) -> None:
    """Need to know: a non-member gets 404, as for an operation that does not exist."""
    path = f"/operations/{team.operation_id}/activity"
    for outsider in ("nina", "otto"):
        auth.login(outsider)
        assert auth.client.get(path).status_code == 404
        assert auth.client.get("/operations/999999/activity").status_code == 404
        auth.logout()
    for reader in ("dana", "sam", "lena"):
        auth.login(reader)
        assert auth.client.get(path).status_code == 200
        auth.logout()
    auth.login("adam")
    assert auth.client.get(path).status_code in (403, 404)
