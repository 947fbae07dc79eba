"""A message recorded with a new flag triggers its review in the same transaction, with its notice in the
app and by e-mail to the review's people; the scheduler's pass, the safety net, adds nothing twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from decoy.db import session_scope
from decoy.evidence.services import create_contact
from decoy.models import Message, Notification, OutboxEmail, Review
from decoy.reviews.passes import review_pass
from tests.decoy.reviews.support import build_team
from tests.factories import actor_for


def rows(app: Any, model: Any) -> list[Any]:
    with app.app_context(), session_scope(app) as session:
        return list(session.exec(select(model).order_by(col(model.id))).all())


def test_a_flagged_message_triggers_its_review_and_notice_at_once(
    app_factory: Any, factory: Any, clock: Any, mail_server: Any
) -> None:
    mail_server.start()
    first = app_factory()
    team = build_team(first, first.test_client(), factory)
    team.app = app_factory(SMTP_URL=mail_server.url)
    team.client = team.app.test_client()
    review_pass(team.app)  # the periodic reviews exist, nothing is due
    before = len(rows(team.app, Review))
    with team.app.app_context(), session_scope(team.app) as session:
        contact = create_contact(
            session=session, actor=actor_for(session, "dana"), profile_id=team.profile_ids[0],
            counterpart="someone_new",
        )
        contact_id = contact.id
    # The decoy writes first: the message is flagged decoy_initiated.
    answer = team.api(
        "POST", f"/contacts/{contact_id}/messages", "dana",
        json={"direction": "out", "sent_at": clock.now().isoformat(), "body": "hello, how are you"},
    )
    assert answer.status_code == 201, answer.get_json()
    assert "decoy_initiated" in answer.get_json()["flags"]
    # No scheduler pass has run: the review and its notices were written with the message.
    [message] = rows(team.app, Message)
    reviews = rows(team.app, Review)
    assert len(reviews) == before + 1
    review = reviews[-1]
    assert (review.key, review.trigger, review.contact_id) == (
        f"flag:{contact_id}:decoy_initiated", "flagged_message", contact_id
    )
    assert review.created_at == message.recorded_at
    assert review.due_at == message.recorded_at + timedelta(days=2)
    notices = [n for n in rows(team.app, Notification) if n.key.endswith(f":{review.id}")]
    with team.app.app_context(), session_scope(team.app) as session:
        names = {actor_for(session, n).id: n for n in ("sam", "sol", "lena")}
    # The operation's supervisors and its legal officer: the people every review notice goes to.
    assert sorted(names[n.user_id] for n in notices) == ["lena", "sam", "sol"]
    assert {n.kind for n in notices} == {"reminder_7d"}
    assert {n.params["trigger"] for n in notices} == {"flagged_message"}
    queued = rows(team.app, OutboxEmail)
    everyone = ["lena@example.test", "sam@example.test", "sol@example.test"]
    assert sorted(m.recipient for m in queued) == everyone
    assert all(m.subject.startswith("Review due in 2 days (") for m in queued)
    assert all(f"a message of contact {contact_id} is flagged: Decoy wrote first" in m.body for m in queued)
    # The scheduler's passes find nothing missing: no second review, notice or e-mail.
    team.run(2)
    assert len(rows(team.app, Review)) == before + 1
    assert len([n for n in rows(team.app, Notification) if n.key.endswith(f":{review.id}")]) == 3
    assert len(rows(team.app, OutboxEmail)) == 3
    assert sorted(m["X-Envelope-To"] for m in mail_server.handler.messages) == everyone
    # A second message with the same flag triggers nothing new.
    again = team.api(
        "POST", f"/contacts/{contact_id}/messages", "dana",
        json={"direction": "out", "sent_at": clock.now().isoformat(), "body": "are you there?"},
    )
    assert again.status_code == 201 and "decoy_initiated" in again.get_json()["flags"]
    assert len(rows(team.app, Review)) == before + 1
    assert len(rows(team.app, Notification)) == 3
