"""Safeguarding cases: opened by a real minor, a presumed victim or a confirmed trafficking signal; due
within the configured hours; the operation's supervisors and legal officers told at once in the app and by
e-mail; escalated to every legal officer when no protective action is recorded in time; closed only with
an outcome; every step recorded and checked by `decoy audit verify`; evidence logging never stopped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from decoy.cli import main
from decoy.db import session_scope
from decoy.models import Notification, OutboxEmail, User
from decoy.reviews.passes import outbox_pass, review_pass
from tests.decoy.disclosure.classes_support import tamper
from tests.decoy.evidence.support import entries_for
from tests.decoy.reviews.support import MailServer, free_port
from tests.support import START, AuthActions, code_for, csrf_from


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A real SMTP server on 127.0.0.1."""
    server = MailServer(port=free_port())
    server.start()
    yield server
    server.stop()


def _categorise(world: Any, contact: int, category: str, username: str = "dana") -> Any:
    answer = world.post(f"/contacts/{contact}/category", username,
                        json={"category": category, "reason": "said she is in year two of school"})
    assert answer.status_code == 200, answer.get_json()
    return answer


def _case(world: Any, contact: int, username: str = "dana") -> Any:
    return world.get(f"/contacts/{contact}/safeguarding", username)


def _act(world: Any, case_id: int, kind: str = "care_report", reference: str = "VT-2026-0042",
         username: str = "dana", **extra: Any) -> Any:
    return world.post(f"/safeguarding/{case_id}/actions", username,
                      json={"kind": kind, "reference": reference, **extra})


def _notices(app: Any) -> list[tuple[str, str, str]]:
    with app.app_context(), session_scope(app) as session:
        rows = session.exec(
            select(Notification.key, User.username, Notification.kind)
            .join(User, col(User.id) == Notification.user_id)
            .order_by(col(Notification.id))
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.mark.parametrize("category", ["real_minor", "presumed_victim"])
def test_the_category_opens_a_case_due_in_24_hours(world: Any, category: str) -> None:
    contact = world.contact()
    assert _case(world, contact).status_code == 404
    _categorise(world, contact, category)
    answer = _case(world, contact)
    assert answer.status_code == 200, answer.get_json()
    case = answer.get_json()
    assert case["status"] == "open" and case["cause"] == category
    assert case["due_at"] == (START + timedelta(hours=24)).isoformat()
    assert case["actions"] == [] and case["opened_by"] == code_for("dana")
    [entry] = entries_for(world.app, "safeguarding.open")
    assert entry["object"] == {"type": "safeguarding_case", "id": case["id"]}
    assert entry["details"]["contact"] == contact and entry["details"]["cause"] == category
    assert "said she is" not in str(entry)  # the reason by its hash only


def test_other_categories_open_none_and_one_contact_has_one_open_case(world: Any) -> None:
    contact = world.contact()
    _categorise(world, contact, "suspect")
    assert _case(world, contact).status_code == 404
    _categorise(world, contact, "real_minor")
    _categorise(world, contact, "presumed_victim")
    assert len(world.get(f"/contacts/{contact}/safeguarding-cases").get_json()["items"]) == 1


def test_the_due_hours_are_configurable(app_factory: Any, world: Any) -> None:
    world.app = app_factory(SAFEGUARDING_DUE_HOURS=4)
    world.client = world.app.test_client()
    contact = world.contact()
    _categorise(world, contact, "real_minor")
    assert _case(world, contact).get_json()["due_at"] == (START + timedelta(hours=4)).isoformat()


def test_a_confirmed_trafficking_signal_opens_a_case_then_joins_it(world: Any) -> None:
    contact = world.contact()
    message = world.message(contact)["id"]
    signal = {"reason": "says her boss keeps her papers"}
    first = world.post(f"/messages/{message}/trafficking-signal", json=signal)
    assert first.status_code == 201, first.get_json()
    case = first.get_json()["case"]
    assert first.get_json()["opened"] is True and case["cause"] == "trafficking_signal"
    assert case["message_id"] == message
    second = world.post(f"/messages/{message}/trafficking-signal", "sam", json={"reason": "a second sign"})
    assert second.status_code == 200 and second.get_json()["opened"] is False
    [action] = second.get_json()["case"]["actions"]
    assert (action["kind"], action["reference"], action["by"]) == (
        "trafficking_signal", f"message {message}", code_for("sam")
    )
    assert second.get_json()["case"]["status"] == "open"  # a signal is no protective action


@pytest.mark.parametrize(
    ("username", "body", "status", "field"),
    [
        ("nina", {"kind": "care_report", "reference": "VT-1"}, 404, None),
        ("adam", {"kind": "care_report", "reference": "VT-1"}, 404, None),
        ("dana", {"kind": "party", "reference": "VT-1"}, 400, "kind"),
        ("dana", {"kind": "trafficking_signal", "reference": "VT-1"}, 400, "kind"),
        ("dana", {"kind": "care_report", "reference": " "}, 400, "reference"),
        ("dana", {"kind": "care_report", "reference": "two\nlines"}, 400, "reference"),
        ("dana", {"kind": "other", "reference": "X-1"}, 400, "note"),
        ("dana", {"kind": "care_report", "reference": "VT-1", "taken_at": "2030-01-01T00:00:00Z"}, 400,
         "taken_at"),
    ],
)
def test_action_refusals(world: Any, username: str, body: Any, status: int, field: Any) -> None:
    contact = world.contact()
    _categorise(world, contact, "real_minor")
    case_id = _case(world, contact).get_json()["id"]
    answer = world.post(f"/safeguarding/{case_id}/actions", username, json=body)
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["error"].get("field") == field


def test_actions_with_references_then_closing_with_an_outcome(world: Any, clock: Any) -> None:
    contact = world.contact()
    _categorise(world, contact, "real_minor")
    case_id = _case(world, contact).get_json()["id"]
    clock.advance(timedelta(hours=2))
    made = _act(world, case_id, taken_at=(START + timedelta(hours=1)).isoformat())
    assert made.status_code == 201, made.get_json()
    _act(world, case_id, "handover_youth", "JZ-77", "sam", note="the youth unit takes over")
    case = _case(world, contact).get_json()
    assert case["status"] == "in_progress"
    assert [(a["kind"], a["reference"], a["by"]) for a in case["actions"]] == [
        ("care_report", "VT-2026-0042", code_for("dana")),
        ("handover_youth", "JZ-77", code_for("sam")),
    ]
    assert case["actions"][0]["at"] == (START + timedelta(hours=1)).isoformat()
    # Detectives record actions; the operation's supervisors and legal officers close.
    assert world.post(f"/safeguarding/{case_id}/close", json={"outcome": "x"}).status_code == 403
    assert world.post(f"/safeguarding/{case_id}/close", "sam", json={"outcome": " "}).status_code == 400
    closed = world.post(f"/safeguarding/{case_id}/close", "lena", json={"outcome": "safe with her family"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert closed.get_json()["outcome"] == "safe with her family"
    assert _case(world, contact).status_code == 404  # none open
    again = world.post(f"/safeguarding/{case_id}/close", "lena", json={"outcome": "again"})
    assert again.status_code == 409 and again.get_json()["error"]["field"] == "case"
    assert _act(world, case_id).status_code == 409
    # A new trigger after the closing opens a new case.
    _categorise(world, contact, "presumed_victim")
    assert _case(world, contact).get_json()["id"] != case_id
    assert len(world.get(f"/contacts/{contact}/safeguarding-cases").get_json()["items"]) == 2


def test_opening_tells_supervisors_and_legal_officers_at_once_and_overdue_escalates(
    app_factory: Any, world: Any, factory: Any, clock: Any, mail_server: MailServer
) -> None:
    factory.user("sue", "supervisor", email="sue@police.example")
    factory.user("lia", "legal", email="lia@police.example")
    world.app = app_factory(SMTP_URL=mail_server.url)
    world.client = world.app.test_client()
    world.post(f"/operations/{world.operation_id}/members", "sam", json={"username": "sue"})
    contact = world.contact()
    _categorise(world, contact, "real_minor")
    case_id = _case(world, contact).get_json()["id"]
    key = f"safeguarding:{case_id}"
    # No legal officer is a member of Lantern: every legal officer is told.
    told = sorted(name for k, name, _kind in _notices(world.app) if k == key)
    assert told == ["lena", "lia", "sam", "sol", "sue"]
    assert outbox_pass(world.app).startswith("2 e-mails sent")
    [mail] = mail_server.handler.to("sue@police.example")
    assert mail["Subject"] == "Safeguarding case opened: Operation Lantern"
    content = mail.get_content()
    assert f"Case: {case_id}" in content and f"Contact: {contact}" in content
    assert "a contact was recognised as a real minor" in content
    assert "said she is" not in content  # no counterpart's or officer's words leave by e-mail

    clock.advance(timedelta(hours=23, minutes=59))
    review_pass(world.app)
    assert not [k for k, _name, _kind in _notices(world.app) if k.startswith("safeguarding_overdue")]
    assert _case(world, contact).get_json()["status"] == "open"
    clock.advance(timedelta(minutes=1))
    assert _case(world, contact).get_json()["status"] == "overdue"
    review_pass(world.app)
    review_pass(world.app)
    overdue = [name for k, name, kind in _notices(world.app) if k == f"safeguarding_overdue:{case_id}"]
    assert sorted(overdue) == ["lena", "lia", "sam", "sol", "sue"]  # once each
    outbox_pass(world.app)
    [_opened, escalation] = mail_server.handler.to("lia@police.example")
    assert escalation["Subject"] == "OVERDUE safeguarding case: Operation Lantern"
    # Evidence logging goes on while the case is overdue.
    world.message(contact, body="are you there")


def test_a_protective_action_in_time_stops_the_escalation(world: Any, clock: Any) -> None:
    contact = world.contact()
    _categorise(world, contact, "presumed_victim")
    case_id = _case(world, contact).get_json()["id"]
    clock.advance(timedelta(hours=3))
    _act(world, case_id, "trafficking_notice", "CoMensha-991")
    clock.advance(timedelta(days=3))
    review_pass(world.app)
    assert not [k for k, _name, _kind in _notices(world.app) if k.startswith("safeguarding_overdue")]


def test_legal_home_and_contact_page_show_the_case(world: Any, factory: Any, clock: Any) -> None:
    contact = world.contact()
    _categorise(world, contact, "real_minor")
    case_id = _case(world, contact).get_json()["id"]
    auth = AuthActions(world.client, factory, clock)
    auth.login("lena")
    home = world.client.get("/").get_data(as_text=True)
    assert "Safeguarding cases" in home and f"/contacts/{contact}#safeguarding" in home
    page = world.client.get(f"/contacts/{contact}").get_data(as_text=True)
    assert 'id="safeguarding"' in page and "VT-9" not in page
    answer = world.client.post(
        f"/safeguarding/{case_id}/actions",
        data={"action-csrf_token": csrf_from(page), "action-kind": "care_report", "action-reference": "VT-9",
              "action-note": "",
              "action-taken_at": ""},
    )
    assert answer.status_code == 302
    page = world.client.get(f"/contacts/{contact}").get_data(as_text=True)
    assert "VT-9" in page
    answer = world.client.post(
        f"/safeguarding/{case_id}/close",
        data={"close-csrf_token": csrf_from(page), "close-outcome": "placed in care"},
    )
    assert answer.status_code == 302
    assert "placed in care" in world.client.get(f"/contacts/{contact}").get_data(as_text=True)
    operation_page = world.client.get(f"/operations/{world.operation_id}").get_data(as_text=True)
    assert f"/contacts/{contact}#safeguarding" not in operation_page  # no open case any more


def test_verify_checks_cases_actions_and_closings(world: Any, runner: Any) -> None:
    contact = world.contact()
    _categorise(world, contact, "real_minor")
    case_id = _case(world, contact).get_json()["id"]
    _act(world, case_id)
    world.post(f"/safeguarding/{case_id}/close", "lena", json={"outcome": "safe"})
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    tamper(world.app, "safeguarding_action", "UPDATE safeguarding_action SET reference = 'VT-0'")
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code != 0 and "safeguarding action" in result.output


def test_the_tables_are_append_only(world: Any) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    contact = world.contact()
    _categorise(world, contact, "real_minor")
    for statement in ("UPDATE safeguarding_case SET due_at = due_at", "DELETE FROM safeguarding_case"):
        with world.app.app_context(), session_scope(world.app) as session, pytest.raises(DatabaseError):
            session.connection().execute(text(statement))
    with world.app.app_context(), session_scope(world.app) as session:
        assert session.exec(select(OutboxEmail)).all() == []  # no SMTP configured: nothing queued
