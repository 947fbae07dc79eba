"""The unread count every page can show, and the notices of a decided review: read, shown as decided."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import template_rendered
from sqlalchemy import event
from sqlmodel import col, select

from decoy.db import get_engine, session_scope
from decoy.models import Notification, Review
from tests.factories import actor_for


@contextmanager
def contexts(app: Any) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """The (template name, context) of every template rendered meanwhile."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(_sender: Any, template: Any, context: dict[str, Any], **_extra: Any) -> None:
        seen.append((template.name, dict(context)))

    template_rendered.connect(record, app)
    try:
        yield seen
    finally:
        template_rendered.disconnect(record, app)


def reminded(team: Any, clock: Any) -> Review:
    """The first review, with its 7-day reminder made and unread."""
    team.run()
    with team.app.app_context(), session_scope(team.app) as session:
        review = session.exec(select(Review).order_by(col(Review.due_at))).first()
    assert review is not None
    clock.set(review.due_at - timedelta(days=7))
    team.run()
    return review


def unread_of(team: Any, username: str) -> list[Notification]:
    with team.app.app_context(), session_scope(team.app) as session:
        user_id = actor_for(session, username).id
        unread = col(Notification.read_at).is_(None)
        return list(session.exec(select(Notification).where(Notification.user_id == user_id, unread)).all())


def test_every_page_knows_the_signed_in_persons_unread_count(team: Any, auth: Any, clock: Any) -> None:
    reminded(team, clock)
    with contexts(team.app) as seen:
        team.client.get("/login")
    assert seen and all(context["unread_notifications"] == 0 for _name, context in seen)
    auth.login("sam")
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = get_engine(team.app)
    event.listen(engine, "before_cursor_execute", count)
    try:
        with contexts(team.app) as seen:
            home = team.client.get("/")
            page = team.client.get("/notifications")  # renders each notice's text too
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert home.status_code == 200 and page.status_code == 200
    pages = {name: context for name, context in seen if name.endswith(".html")}
    assert pages["main/home.html"]["unread_notifications"] == 1
    assert pages["reviews/notifications.html"]["unread_notifications"] == 1
    counted = "count(*) as count_1 from notification where"
    counting = [s for s in statements if counted in " ".join(s.lower().split())]
    assert len(counting) == 2  # one per request, however many templates it renders
    notice = unread_of(team, "sam")[0]
    token = auth.csrf("/notifications")
    team.client.post(f"/notifications/{notice.id}/read", data={"csrf_token": token})
    with contexts(team.app) as seen:
        team.client.get("/")
    assert dict(seen)["main/home.html"]["unread_notifications"] == 0


def test_a_decided_reviews_notices_are_read_and_shown_decided(team: Any, auth: Any, clock: Any) -> None:
    review = reminded(team, clock)
    assert {n.key for n in unread_of(team, "sam")} == {f"reminder_7d:{review.id}"}
    decision = {"decision": "continue", "rationale": "In order."}
    answer = team.api("POST", f"/reviews/{review.id}/decision", "lena", json=decision)
    assert answer.status_code == 200, answer.get_json()
    # Nobody who was reminded still has it waiting as unread: not the supervisors, not the legal officer.
    assert unread_of(team, "sam") == [] and unread_of(team, "sol") == [] and unread_of(team, "lena") == []
    with team.app.app_context(), session_scope(team.app) as session:
        key = f"reminder_7d:{review.id}"
        notices = session.exec(select(Notification).where(Notification.key == key)).all()
        assert len(notices) == 3 and all(n.read_at == clock.now() for n in notices)
    items = team.api("GET", "/notifications", "sam").get_json()["items"]
    assert [item["read"] for item in items] == [True]
    auth.login("sam")
    html = team.client.get("/notifications").get_data(as_text=True)
    listed = html.split('id="notifications"')[1].split("</ul>")[0]
    assert "decided: continue" in listed and "unread" not in listed
    assert "0 unread on this page." in html
    # The scheduler does not remind of it again, nor escalate it once its due time has passed.
    clock.set(review.due_at + timedelta(days=1))
    team.run()
    assert unread_of(team, "sam") == []
