"""Rule 2 across its boundaries: expiry and overdue reviews suspend once; late written orders too."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from decoy import audit_bridge
from decoy.db import get_engine, session_scope
from decoy.models import Authorization, EnforcementAction, ProfileTransition, Review
from tests.decoy.reviews.support import build_team


def audit_entries(app: Any, action: str) -> list[dict[str, Any]]:
    """The decoded audit entries of ``action``."""
    with get_engine(app).connect() as connection:
        store = audit_bridge.get_store(app)
        rows = store.entries(connection, 0, store.size(connection))
    entries = [json.loads(entry) for _index, entry, _leaf in rows]
    return [entry for entry in entries if entry.get("action") == action]


def reviews(app: Any) -> list[Review]:
    """Every review, by id."""
    with app.app_context(), session_scope(app) as session:
        return list(session.exec(select(Review).order_by(col(Review.id))).all())


def suspensions(app: Any) -> list[ProfileTransition]:
    """Every transition to suspended."""
    with app.app_context(), session_scope(app) as session:
        return list(
            session.exec(select(ProfileTransition).where(ProfileTransition.to_status == "suspended")).all()
        )


def valid_until(app: Any, authorization_id: int) -> Any:
    """The end of an authorization."""
    with app.app_context(), session_scope(app) as session:
        return session.get(Authorization, authorization_id).valid_until  # type: ignore[union-attr]


def test_reviews_are_generated_once_with_due_times_from_the_authorization(team: Any, clock: Any) -> None:
    team.run(3)
    found = reviews(team.app)
    keys = [review.key for review in found]
    authorization = team.authorization_id
    assert keys == [
        f"periodic:{authorization}:1",
        f"periodic:{authorization}:2",
        f"periodic:{authorization}:3",
        f"expiry:{authorization}",
    ]
    start = clock.now() - timedelta(days=1)  # valid_from; valid_until is 90 days from now
    assert [review.due_at for review in found] == [
        start + timedelta(days=30),
        start + timedelta(days=60),
        start + timedelta(days=90),
        clock.now() + timedelta(days=90 - 14),
    ]
    assert len(audit_entries(team.app, "review.schedule")) == 4


def test_expired_authorization_suspends_profiles(team: Any, clock: Any) -> None:
    end = valid_until(team.app, team.authorization_id)
    clock.set(end - timedelta(seconds=1))
    # Nobody decides the reviews: keep the grace rule out of the way, so that only the lapse may act.
    team.app.config["REVIEW_GRACE_DAYS"] = 1000
    team.run()
    assert set(team.statuses().values()) == {"active"}
    clock.set(end)
    team.run(3)
    assert set(team.statuses().values()) == {"suspended"}
    assert len(suspensions(team.app)) == 2
    entries = audit_entries(team.app, "enforcement.suspend")
    assert len(entries) == 1
    assert entries[0]["actor"] == "system"
    assert entries[0]["details"]["rule"] == "authorization_lapsed"
    assert "lapsed" in entries[0]["details"]["reason"]
    profile_entries = audit_entries(team.app, "profile.suspend")
    assert {entry["actor"] for entry in profile_entries} == {"system"}
    assert all("rule 2" in entry["details"]["reason"] for entry in profile_entries)


def test_overdue_review_suspends_only_after_grace(
    app_factory: Any, client: Any, factory: Any, clock: Any
) -> None:
    team = build_team(app_factory(), client, factory, valid_until=clock.now() + timedelta(days=365),
                      legal_basis="art. 126i Sv")  # a basis with no maximum period
    team.run()
    first = reviews(team.app)[0]
    grace = timedelta(days=3)
    clock.set(first.due_at + grace - timedelta(seconds=1))
    team.run()
    assert set(team.statuses().values()) == {"active"}
    clock.set(first.due_at + grace)
    team.run(2)
    assert set(team.statuses().values()) == {"suspended"}
    entries = audit_entries(team.app, "enforcement.suspend")
    assert [entry["details"]["rule"] for entry in entries] == ["review_overdue_past_grace"]
    assert entries[0]["details"]["review_id"] == first.id


def test_decided_review_does_not_suspend(app_factory: Any, client: Any, factory: Any, clock: Any) -> None:
    team = build_team(app_factory(), client, factory, valid_until=clock.now() + timedelta(days=365),
                      legal_basis="art. 126i Sv")  # a basis with no maximum period
    team.run()
    first = reviews(team.app)[0]
    clock.set(first.due_at + timedelta(days=1))
    answer = team.api(
        "POST",
        f"/reviews/{first.id}/decision",
        json={"decision": "continue", "rationale": "Within the order."},
    )
    assert answer.status_code == 200, answer.get_json()
    clock.set(first.due_at + timedelta(days=10))
    team.run()
    assert set(team.statuses().values()) == {"active"}


def test_extension_supersedes_undecided_reviews(
    app_factory: Any, client: Any, factory: Any, clock: Any
) -> None:
    from tests.factories import make_authorization

    team = build_team(app_factory(), client, factory)
    team.run()
    end = valid_until(team.app, team.authorization_id)
    extension = make_authorization(
        team.app,
        "lena",
        team.operation_id,
        supersedes_id=team.authorization_id,
        valid_from=end,
        valid_until=end + timedelta(days=180),
        legal_basis="art. 126i Sv",  # a basis with no maximum period
    )
    clock.set(end + timedelta(days=1))
    team.run()
    assert set(team.statuses().values()) == {"active"}
    assert not audit_entries(team.app, "enforcement.suspend")
    keys = {review.key for review in reviews(team.app)}
    assert f"expiry:{extension}" in keys


def test_oral_order_past_deadline_raises_triggered_review(
    app_factory: Any, client: Any, factory: Any, clock: Any
) -> None:
    team = build_team(app_factory(), client, factory, kind="urgent_oral_order")
    team.run()
    assert not [r for r in reviews(team.app) if r.kind == "triggered"]
    clock.advance(days=3)
    team.run(2)
    triggered = [r for r in reviews(team.app) if r.kind == "triggered"]
    assert [(r.trigger, r.key) for r in triggered] == [
        ("written_order_overdue", f"written_order:{team.authorization_id}")
    ]
    scheduled = [e for e in audit_entries(team.app, "review.schedule") if e["details"]["kind"] == "triggered"]
    assert scheduled[0]["actor"] == "system"
    assert "written order" in scheduled[0]["details"]["reason"]


def test_three_weeks_of_downtime_are_caught_up_once(
    app_factory: Any, client: Any, factory: Any, clock: Any, mail_server: Any
) -> None:
    mail_server.start()
    team = build_team(
        app_factory(), client, factory, valid_until=clock.now() + timedelta(days=20), review_interval_days=7
    )
    mailing = app_factory(SMTP_URL=mail_server.url)
    team.app = mailing
    team.run()
    before = len(mail_server.handler.messages)
    due = [review.due_at for review in reviews(mailing)]
    clock.advance(days=21)
    team.run(3)
    with mailing.app_context(), session_scope(mailing) as session:
        actions = session.exec(select(EnforcementAction).order_by(col(EnforcementAction.id))).all()
        rules = sorted(action.rule for action in actions)
    assert rules == ["authorization_lapsed"] + ["review_overdue_past_grace"] * len(due)
    assert set(team.statuses().values()) == {"suspended"}
    assert len(suspensions(mailing)) == 2
    assert len(audit_entries(mailing, "enforcement.suspend")) == len(rules)
    # One escalation per review to each of sam, sol, lena and lars; one suspension notice to sam, sol, lena.
    messages = mail_server.handler.messages[before:]
    subjects = [m["Subject"] for m in messages]
    assert sum("OVERDUE" in s for s in subjects) == len(due) * 4
    assert sum("suspended automatically" in s for s in subjects) == 3
    assert not any("due in 7 days" in s or "due tomorrow" in s for s in subjects)


def test_review_rows_are_append_only(team: Any) -> None:
    team.run()
    with get_engine(team.app).connect() as connection, pytest.raises(Exception, match="append-only"):
        connection.execute(text("UPDATE review SET due_at = due_at"))
    with get_engine(team.app).connect() as connection, pytest.raises(Exception, match="append-only"):
        connection.execute(text("DELETE FROM review"))
