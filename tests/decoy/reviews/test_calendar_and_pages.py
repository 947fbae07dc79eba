"""The iCalendar feed (parsed with icalendar), the compliance dashboard, the review list and the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from sqlmodel import col, select

from decoy.db import session_scope
from decoy.models import Review
from decoy.reviews.passes import review_pass
from tests.factories import make_authorization, make_operation
from tests.support import csrf_from


def all_reviews(app: Any) -> list[Review]:
    """Every review by id."""
    with app.app_context(), session_scope(app) as session:
        return list(session.exec(select(Review).order_by(col(Review.id))).all())


def events(body: bytes) -> dict[str, Any]:
    """The VEVENTs of a feed by UID."""
    calendar = icalendar.Calendar.from_ical(body)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_feed_holds_the_due_times_in_each_operations_zone(team: Any, clock: Any) -> None:
    other = make_operation(team.app, "sam", name="Operation Harbour", timezone="America/New_York")
    make_authorization(
        team.app, "lena", other, valid_until=clock.now() + timedelta(days=300), review_interval_days=60,
        legal_basis="art. 126i Sv",  # a basis with no maximum period
    )
    team.run()
    answer = team.client.get("/reviews.ics", headers=team.headers("sam"))
    assert answer.status_code == 200
    assert answer.mimetype == "text/calendar"
    found = events(answer.data)
    reviews = all_reviews(team.app)
    assert len(found) == len(reviews)
    zones = {team.operation_id: "Europe/Amsterdam", other: "America/New_York"}
    for review in reviews:
        event = found[f"review-{review.id}@localhost"]
        start = event["DTSTART"].dt
        assert start.tzinfo is not None
        assert str(event["DTSTART"].params["TZID"]) == zones[review.operation_id]
        assert start == review.due_at
        assert start.utcoffset() == review.due_at.astimezone(ZoneInfo(zones[review.operation_id])).utcoffset()
    # New York deadlines in May and in December: -04:00 and -05:00, the zone's rules rather than one offset.
    offsets = {
        found[f"review-{r.id}@localhost"]["DTSTART"].dt.utcoffset()
        for r in reviews
        if r.operation_id == other
    }
    assert offsets == {timedelta(hours=-4), timedelta(hours=-5)}
    calendar = icalendar.Calendar.from_ical(answer.data)
    assert {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")} == {"Europe/Amsterdam", "America/New_York"}


def test_feed_by_calendar_token_and_revocation(team: Any, auth: Any) -> None:
    team.run()
    auth.login("lena")
    page = team.client.get("/account/calendar")
    created = team.client.post(
        "/account/calendar",
        data={"name": "Office calendar", "days": 30, "csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    assert created.status_code == 201
    html = created.get_data(as_text=True)
    url = html.split('id="feed-url" class="secret">')[1].split("<")[0].replace("&amp;", "&")
    token = url.split("token=")[1]
    auth.logout()
    feed = team.client.get(f"/reviews.ics?token={token}")
    assert feed.status_code == 200 and len(events(feed.data)) == len(all_reviews(team.app))
    assert team.client.get(f"/reviews.ics?token={team.tokens['lena']}").status_code == 401  # an API token
    assert team.client.get("/reviews.ics").status_code == 401
    auth.login("lena")
    listing = team.client.get("/account/calendar").get_data(as_text=True)
    token_id = listing.split("/account/calendar/")[1].split("/revoke")[0]
    revoked = team.client.post(
        f"/account/calendar/{token_id}/revoke", data={"csrf_token": csrf_from(listing)}
    )
    assert revoked.status_code == 302
    auth.logout()
    assert team.client.get(f"/reviews.ics?token={token}").status_code == 401


def test_feed_is_the_callers_own(team: Any) -> None:
    team.run()
    assert not events(team.client.get("/reviews.ics", headers=team.headers("nina")).data)  # no operation
    assert not events(team.client.get("/reviews.ics", headers=team.headers("adam")).data)
    # lena is the operation's legal officer; lars is not told about it, so it is not in his calendar.
    assert events(team.client.get("/reviews.ics", headers=team.headers("lena")).data)
    assert not events(team.client.get("/reviews.ics", headers=team.headers("lars")).data)


def test_compliance_dashboard_shows_lapse_and_overdue_in_words(team: Any, auth: Any, clock: Any) -> None:
    team.run()
    clock.advance(days=95)
    team.run()
    auth.login("lena")
    page = team.client.get("/compliance")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Operation Lantern" in html and "LAPSED" in html and "badge bad" in html and "overdue" in html
    auth.logout()
    auth.login("sam")
    assert team.client.get("/compliance").status_code == 403


def test_operation_reviews_page_and_access(team: Any, auth: Any) -> None:
    review_pass(team.app)
    auth.login("dana")
    page = team.client.get(f"/operations/{team.operation_id}/reviews")
    assert page.status_code == 200
    assert "periodic review" in page.get_data(as_text=True)
    auth.logout()
    auth.login("nina")
    assert team.client.get(f"/operations/{team.operation_id}/reviews").status_code == 404
    assert team.client.get(f"/reviews/{all_reviews(team.app)[0].id}").status_code == 404
    auth.logout()
    auth.login("adam")
    assert team.client.get(f"/operations/{team.operation_id}/reviews").status_code in (403, 404)


def test_api_lists_reviews_in_pages(team: Any) -> None:
    review_pass(team.app)
    first = team.api("GET", f"/operations/{team.operation_id}/reviews?limit=3", "sam")
    assert first.status_code == 200
    body = first.get_json()
    assert len(body["items"]) == 3 and body["next"]
    rest = team.client.get(body["next"], headers=team.headers("sam")).get_json()
    assert rest["next"] is None
    items = body["items"] + rest["items"]
    assert [item["kind"] for item in items] == ["periodic", "periodic", "before_expiry", "periodic"]
    assert all(item["status"] == "pending" and item["decision"] is None for item in items)
    assert items[0]["due_at"].endswith("+02:00")  # 31 March, summer time in Amsterdam
    assert team.api("GET", f"/operations/{team.operation_id}/reviews", "nina").status_code == 404
    assert team.api("GET", f"/operations/{team.operation_id}/reviews", "adam").status_code == 404
    assert team.client.get(f"/api/v1/operations/{team.operation_id}/reviews").status_code == 401


def test_openapi_describes_the_review_endpoints(team: Any) -> None:
    paths = team.client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/operations/{operation_id}/reviews"]
    assert "get" in paths["/reviews/{review_id}"]
    assert "post" in paths["/reviews/{review_id}/decision"]
