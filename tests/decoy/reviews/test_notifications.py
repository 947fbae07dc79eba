"""Notices: reminders once (a real SMTP server receives each once), retries, escalation, alarms, the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from decoy.db import session_scope
from decoy.evidence.services import create_contact, log_message
from decoy.models import Notification, OutboxEmail, Review, VerificationRun
from decoy.reviews.passes import alarm_pass, outbox_pass
from tests.decoy.reviews.support import build_team
from tests.factories import actor_for


def first_review(app: Any) -> Review:
    """The earliest review."""
    with app.app_context(), session_scope(app) as session:
        return session.exec(select(Review).order_by(col(Review.due_at))).first()  # type: ignore[return-value]


def outbox(app: Any) -> list[OutboxEmail]:
    """Every queued e-mail."""
    with app.app_context(), session_scope(app) as session:
        return list(session.exec(select(OutboxEmail).order_by(col(OutboxEmail.id))).all())


def mailing_team(app_factory: Any, client: Any, factory: Any, server: Any, **terms: Any) -> Any:
    """The team, with the passes run by an application that mails to ``server``."""
    team = build_team(app_factory(), client, factory, **terms)
    team.app = app_factory(SMTP_URL=server.url)
    return team


def test_reminder_is_received_exactly_once(
    app_factory: Any, client: Any, factory: Any, clock: Any, mail_server: Any
) -> None:
    mail_server.start()
    team = mailing_team(app_factory, client, factory, mail_server)
    team.run()
    review = first_review(team.app)
    clock.set(review.due_at - timedelta(days=7) - timedelta(minutes=1))
    team.run()
    assert not mail_server.handler.messages
    clock.set(review.due_at - timedelta(days=7))
    team.run(3)
    received = mail_server.handler.messages
    # The supervisors and the legal officer who is a member; not lars (another legal officer), not dana.
    assert sorted(m["X-Envelope-To"] for m in received) == [
        "lena@example.test",
        "sam@example.test",
        "sol@example.test",
    ]
    message = received[0]
    local = review.due_at.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert message["Subject"] == f"Review due in 7 days ({local:%Y-%m-%d %H:%M %Z}): Operation Lantern"
    content = message.get_content()
    assert local.strftime("%Y-%m-%d %H:%M") in content
    assert "Europe/Amsterdam" in content and f"/reviews/{review.id}" in content
    clock.set(review.due_at - timedelta(days=1))
    team.run(3)
    tomorrow = [m for m in mail_server.handler.messages if m["Subject"].startswith("Review due in 1 day (")]
    assert len(tomorrow) == 3


def test_failed_send_is_retried_later_and_delivered_once(
    app_factory: Any, client: Any, factory: Any, clock: Any, mail_server: Any
) -> None:
    team = mailing_team(app_factory, client, factory, mail_server)  # the server is not started: down
    team.run()
    clock.set(first_review(team.app).due_at - timedelta(days=7))
    team.run()
    queued = outbox(team.app)
    assert len(queued) == 3
    assert all(row.sent_at is None and row.attempts == 1 and "connect" in row.last_error for row in queued)
    assert all(row.next_attempt_at == clock.now() + timedelta(minutes=1) for row in queued)
    team.run()
    assert all(row.attempts == 1 for row in outbox(team.app))  # not due again yet: no hammering
    mail_server.start()
    clock.advance(minutes=1)
    team.run(3)
    assert len(mail_server.handler.messages) == 3
    assert all(row.sent_at is not None and row.attempts == 2 for row in outbox(team.app))


def test_escalation_reaches_every_legal_officer(
    app_factory: Any, client: Any, factory: Any, clock: Any, mail_server: Any
) -> None:
    mail_server.start()
    team = mailing_team(app_factory, client, factory, mail_server)
    team.run()
    clock.set(first_review(team.app).due_at)
    team.run(2)
    overdue = [m["X-Envelope-To"] for m in mail_server.handler.messages if m["Subject"].startswith("OVERDUE")]
    assert sorted(overdue) == [
        "lars@example.test",
        "lena@example.test",
        "sam@example.test",
        "sol@example.test",
    ]


def test_flagged_message_review_mails_no_counterpart_text(
    app_factory: Any, client: Any, factory: Any, clock: Any, mail_server: Any
) -> None:
    mail_server.start()
    team = mailing_team(app_factory, client, factory, mail_server)
    with team.app.app_context(), session_scope(team.app) as session:
        dana = actor_for(session, "dana")
        contact = create_contact(
            session=session, actor=dana, profile_id=team.profile_ids[0], counterpart="counterpart_handle_77"
        )
        contact_id = contact.id
    with team.app.app_context(), session_scope(team.app) as session:
        log_message(
            session=session,
            actor=actor_for(session, "dana"),
            contact_id=contact_id,
            direction="out",
            sent_at=clock.now(),
            body="very distinctive words wombat-quill",
        )
    team.run()
    with team.app.app_context(), session_scope(team.app) as session:
        triggered = session.exec(select(Review).where(Review.kind == "triggered")).all()
        assert [(r.trigger, r.flag, r.contact_id) for r in triggered] == [
            ("flagged_message", "decoy_initiated", contact_id)
        ]
        assert triggered[0].due_at == clock.now() + timedelta(days=2)
    clock.advance(days=2)
    team.run()
    assert mail_server.handler.messages
    for message in mail_server.handler.messages:
        text = message.as_string()
        assert "counterpart_handle_77" not in text and "wombat-quill" not in text


def test_daily_checkpoint_goes_to_legal_officers_once_a_day(
    app_factory: Any, client: Any, factory: Any, clock: Any, mail_server: Any
) -> None:
    from decoy.integrity.checkpoints import make_checkpoint

    mail_server.start()
    team = mailing_team(app_factory, client, factory, mail_server)
    make_checkpoint(team.app)
    clock.set(datetime(2026, 3, 3, 5, 59, tzinfo=UTC))  # 06:59 in Amsterdam: before the notice hour
    team.run()
    assert not [m for m in mail_server.handler.messages if "checkpoint" in m["Subject"]]
    clock.set(datetime(2026, 3, 3, 6, 0, tzinfo=UTC))
    team.run(3)
    notes = [m for m in mail_server.handler.messages if "checkpoint" in m["Subject"]]
    assert sorted(m["X-Envelope-To"] for m in notes) == ["lars@example.test", "lena@example.test"]
    assert "decoy.invalid/audit" in notes[0].get_content()  # the signed note's origin line


def test_failed_verification_alarms_legal_officers_and_admins(
    app_factory: Any, client: Any, factory: Any, clock: Any, mail_server: Any
) -> None:
    mail_server.start()
    team = mailing_team(app_factory, client, factory, mail_server)
    with team.app.app_context(), session_scope(team.app) as session:
        session.add(
            VerificationRun(
                started_at=clock.now(),
                finished_at=clock.now(),
                ok=False,
                entries=10,
                checkpoints=1,
                first_bad_index=4,
                reason="leaf 4 does not match",
                trigger="scheduler",
                actor="system",
            )
        )
    assert alarm_pass(team.app) == 3
    assert alarm_pass(team.app) == 0
    outbox_pass(team.app)
    alarms = [m for m in mail_server.handler.messages if m["Subject"].startswith("ALARM")]
    assert sorted(m["X-Envelope-To"] for m in alarms) == [
        "adam@example.test",
        "lars@example.test",
        "lena@example.test",
    ]
    assert "4" in alarms[0].get_content()


def test_notifications_page_lists_and_marks_read(team: Any, auth: Any, clock: Any) -> None:
    team.run()
    clock.set(first_review(team.app).due_at - timedelta(days=7))
    team.run()
    auth.login("sam")
    page = team.client.get("/notifications")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Review due in 7 days (" in html and "): Operation Lantern" in html and "unread" in html
    with team.app.app_context(), session_scope(team.app) as session:
        mine = session.exec(select(Notification).where(Notification.kind == "reminder_7d")).all()
        sams = [n for n in mine if n.user_id == actor_for(session, "sam").id]
        others = [n for n in mine if n.user_id != actor_for(session, "sam").id]
    token = auth.csrf("/notifications")
    assert (
        team.client.post(f"/notifications/{others[0].id}/read", data={"csrf_token": token}).status_code == 404
    )
    answer = team.client.post(f"/notifications/{sams[0].id}/read", data={"csrf_token": token})
    assert answer.status_code == 302
    with team.app.app_context(), session_scope(team.app) as session:
        assert session.get(Notification, sams[0].id).read_at == clock.now()  # type: ignore[union-attr]
        assert session.get(Notification, others[0].id).read_at is None  # type: ignore[union-attr]
