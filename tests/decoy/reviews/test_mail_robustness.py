"""One bad mail never stops the others, and names are one line (a line break in a name jammed all mail)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from decoy.db import session_scope
from decoy.models import OutboxEmail
from decoy.reviews.mailer import deliver_outbox
from tests.factories import make_operation


def _queue(app, clock, subjects):
    with app.app_context(), session_scope(app) as session:
        for subject in subjects:
            session.add(
                OutboxEmail(
                    recipient="lena@example.test",
                    subject=subject,
                    body="hello, how are you",
                    created_at=clock.now(),
                    next_attempt_at=clock.now(),
                )
            )


def _rows(app):
    with app.app_context(), session_scope(app) as session:
        return list(session.exec(select(OutboxEmail).order_by(col(OutboxEmail.id))).all())


def test_a_mail_with_a_line_break_in_its_subject_does_not_stop_the_others(app_factory, clock, mail_server):
    mail_server.start()
    app = app_factory(SMTP_URL=mail_server.url)
    _queue(
        app, clock, ["first review due", "operation Lantern\nBcc: outsider@example.test", "third review due"]
    )
    with app.app_context():
        assert deliver_outbox(app) == (3, 0)
    rows = _rows(app)
    assert all(row.sent_at is not None and row.attempts == 1 for row in rows)
    subjects = [message["Subject"] for message in mail_server.handler.messages]
    assert subjects == [
        "first review due",
        "operation Lantern Bcc: outsider@example.test",
        "third review due",
    ]
    # Nothing injected a header, and nothing is sent twice.
    assert all(message["Bcc"] is None for message in mail_server.handler.messages)
    clock.advance(timedelta(hours=1))
    with app.app_context():
        assert deliver_outbox(app) == (0, 0)
    assert len(mail_server.handler.messages) == 3


def test_a_mail_that_cannot_be_built_is_recorded_and_the_rest_are_sent(app_factory, clock, mail_server):
    mail_server.start()
    app = app_factory(SMTP_URL=mail_server.url, MAIL_FROM="decoy@example.test\r\nX-Injected: yes")
    _queue(app, clock, ["one", "two"])
    with app.app_context():
        sent, failed = deliver_outbox(app)
    # A sender address with a line break is the configuration's fault: every mail records it and is kept.
    assert (sent, failed) == (0, 2)
    assert all(row.sent_at is None and row.last_error.startswith("message:") for row in _rows(app))
    assert mail_server.handler.messages == []


@pytest.mark.parametrize(
    "name", ["Operation\nHarbour", "Operation\rHarbour", "Operation\u2028Harbour", "Op\x00"]
)
def test_names_and_references_are_one_line(app, client, factory, name):
    factory.user("sam", "supervisor")
    headers = {"Authorization": f"Bearer {factory.token('sam')}"}
    answer = client.post("/api/v1/operations", json={"name": name}, headers=headers)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == "name"
    operation = make_operation(app, "sam")
    factory.user("lena", "legal")
    legal = {"Authorization": f"Bearer {factory.token('lena')}"}
    terms = {
        "reference": f"RB-{name}",
        "kind": "court_ruling",
        "authority": "Court",
        "legal_basis": "126j Sv",
        "valid_from": "2026-03-01T00:00:00+01:00",
        "valid_until": "2026-06-01T00:00:00+02:00",
        "review_interval_days": 14,
        "platforms": ["chatapp"],
        "may_initiate_contact": False,
        "max_profiles": 1,
        "officers": [],
    }
    answer = client.post(f"/api/v1/operations/{operation}/authorizations", json=terms, headers=legal)
    assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "reference"


@pytest.mark.parametrize("zone", ["Europe", "Etc", "America/", "../etc/passwd"])
def test_a_time_zone_folder_is_not_a_zone(app, client, factory, zone):
    factory.user("sam", "supervisor")
    headers = {"Authorization": f"Bearer {factory.token('sam')}"}
    answer = client.post(
        "/api/v1/operations", json={"name": "Operation Lantern", "timezone": zone}, headers=headers
    )
    assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "timezone"
