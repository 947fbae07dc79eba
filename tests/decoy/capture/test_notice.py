"""A capture session left open too long: one notice to each supervisor of the operation, in the app and by
e-mail, raised by the scheduler's pass once the clock has passed the configured hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from decoy.capture.notices import capture_pass
from decoy.db import session_scope
from decoy.jobs import JOBS, run_jobs
from decoy.models import Notification, OutboxEmail, User
from decoy.operations import services as operations
from decoy.orders import closing
from decoy.reviews.passes import outbox_pass
from tests.decoy.evidence.support import entries_for
from tests.decoy.reviews.support import MailServer, free_port
from tests.factories import actor_for
from tests.support import AuthActions, code_for

from .support import end, start


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A real SMTP server on 127.0.0.1."""
    server = MailServer(port=free_port())
    server.start()
    yield server
    server.stop()


def _notices(app: Any) -> list[tuple[str, str, str]]:
    """(key, username, kind) of every notification."""
    with app.app_context(), session_scope(app) as session:
        rows = session.exec(
            select(Notification.key, User.username, Notification.kind)
            .join(User, col(User.id) == Notification.user_id)
            .order_by(col(Notification.id))
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def user_ids(world: Any, *usernames: str) -> list[int]:
    """The account ids of ``usernames``."""
    with world.app.app_context(), session_scope(world.app) as session:
        return [session.exec(select(User.id).where(User.username == name)).one() for name in usernames]


def test_a_session_open_for_12_hours_notifies_each_supervisor_once(world: Any, clock: Any) -> None:
    session_id = start(world)["id"]
    clock.advance(timedelta(hours=12))
    assert capture_pass(world.app) == "0 notifications of capture sessions left open"  # not more than 12 h
    clock.advance(timedelta(minutes=1))
    assert capture_pass(world.app) == "2 notifications of capture sessions left open"
    key = f"capture_open:{session_id}"
    assert _notices(world.app) == [(key, "sam", "capture_session_open"), (key, "sol", "capture_session_open")]
    [entry] = entries_for(world.app, "notification.create")
    assert (entry["actor"], entry["object"]["id"], entry["operation"]) == ("system", key, world.operation_id)
    recipients = sorted(user_ids(world, "sam", "sol"))
    assert entry["details"] == {"kind": "capture_session_open", "recipients": recipients}
    clock.advance(timedelta(hours=30))
    assert capture_pass(world.app) == "0 notifications of capture sessions left open"  # once only
    assert len(_notices(world.app)) == 2
    assert len(entries_for(world.app, "notification.create")) == 1
    with world.app.app_context(), session_scope(world.app) as session:
        params = session.exec(select(Notification.params)).first()
    assert params == {
        "operation": "Operation Lantern",
        "capture_session_id": session_id,
        "operated_by": code_for("dana"),
        "started_local": "2026-03-02 10:00 CET",
        "timezone": "Europe/Amsterdam",
        "hours": 12,
        "link": f"/profiles/{world.profile_id}/contacts#capture-sessions",
    }


def test_a_supervisor_assigned_later_is_told_too_and_no_one_twice(
    world: Any, factory: Any, clock: Any
) -> None:
    session_id = start(world)["id"]
    clock.advance(timedelta(hours=13))
    capture_pass(world.app)
    factory.user("sue", "supervisor")
    with world.app.app_context(), session_scope(world.app) as session:
        operations.add_member(
            session=session, actor=actor_for(session, "sam"), operation_id=world.operation_id, username="sue"
        )
    capture_pass(world.app)
    capture_pass(world.app)
    assert [username for _key, username, _kind in _notices(world.app)] == ["sam", "sol", "sue"]
    assert {key for key, _username, _kind in _notices(world.app)} == {f"capture_open:{session_id}"}


def test_an_ended_session_or_a_closed_operation_raises_none(world: Any, clock: Any) -> None:
    ended = start(world)["id"]
    clock.advance(timedelta(hours=2))
    end(world, ended)
    clock.advance(timedelta(hours=20))
    assert capture_pass(world.app).startswith("0 ")
    start(world)
    clock.advance(timedelta(hours=20))
    with world.app.app_context(), session_scope(world.app) as session:
        closing.close_operation(
            session=session, actor=actor_for(session, "sam"), operation_id=world.operation_id,
            reason="the investigation ended",
        )
    assert capture_pass(world.app).startswith("0 ")
    assert _notices(world.app) == []


def test_the_hours_are_configurable(app_factory: Any, world: Any, clock: Any) -> None:
    start(world)
    clock.advance(timedelta(hours=2, minutes=1))
    assert capture_pass(world.app).startswith("0 ")
    assert capture_pass(app_factory(CAPTURE_SESSION_NOTICE_HOURS=2)).startswith("2 ")


def test_the_scheduler_runs_the_pass(world: Any, clock: Any) -> None:
    assert "capture_sessions" in [name for name, *_rest in JOBS]
    start(world)
    clock.advance(timedelta(days=1))
    outcomes = dict(run_jobs(world.app))
    assert outcomes["capture_sessions"] == "2 notifications of capture sessions left open"


def test_the_notice_is_mailed_and_shown(
    app_factory: Any, world: Any, factory: Any, clock: Any, mail_server: MailServer
) -> None:
    factory.user("sue", "supervisor", email="sue@police.example")
    with world.app.app_context(), session_scope(world.app) as session:
        operations.add_member(
            session=session, actor=actor_for(session, "sam"), operation_id=world.operation_id, username="sue"
        )
    session_id = start(world)["id"]
    clock.advance(timedelta(hours=12, minutes=30))
    mailing = app_factory(SMTP_URL=mail_server.url)
    assert capture_pass(mailing).startswith("3 ")
    with mailing.app_context(), session_scope(mailing) as session:
        queued = session.exec(select(OutboxEmail)).all()
    assert [email.recipient for email in queued] == ["sue@police.example"]  # the others have no address
    assert outbox_pass(mailing).startswith("1 e-mails sent")
    [mail] = mail_server.handler.to("sue@police.example")
    assert mail["Subject"] == "Capture session open for more than 12 hours: Operation Lantern"
    content = mail.get_content()
    assert f"Capture session: {session_id}" in content and f"Operated by: {code_for('dana')}" in content
    assert "2026-03-02 10:00 CET" in content

    client = world.app.test_client()
    AuthActions(client, factory, clock).login("sol")
    page = client.get("/notifications").get_data(as_text=True)
    assert "Capture session open for more than 12 hours: Operation Lantern" in page
    assert f'href="/profiles/{world.profile_id}/contacts#capture-sessions"' in page
