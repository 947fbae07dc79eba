"""The scheduler process: `--once`, one active scheduler at a time, and two at once acting once."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import func, select

from decoy.db import session_scope
from decoy.jobs import SchedulerBusy, SchedulerLock, run_jobs, run_once
from decoy.models import EnforcementAction, Notification, OutboxEmail, ProfileTransition, Review
from tests.decoy.reviews.support import build_team
from tests.support import PG_URL


def counts(app: Any) -> dict[str, int]:
    """How many rows the once-only tables hold."""
    with app.app_context(), session_scope(app) as session:
        return {
            model.__name__: int(session.exec(select(func.count()).select_from(model)).one())
            for model in (Review, EnforcementAction, Notification, OutboxEmail)
        } | {
            "suspensions": int(
                session.exec(
                    select(func.count())
                    .select_from(ProfileTransition)
                    .where(ProfileTransition.to_status == "suspended")
                ).one()
            )
        }


def test_scheduler_once_runs_every_due_job(team: Any, runner: Any) -> None:
    first = runner.invoke(args=["scheduler", "--once"])
    assert first.exit_code == 0, first.output
    names = [line.split(":")[0] for line in first.output.splitlines()]
    assert names == ["checkpoint", "reviews", "capture_sessions", "verify", "outbox"]
    assert "4 reviews created" in first.output and "verify: intact" in first.output
    second = runner.invoke(args=["scheduler", "--once"])
    assert second.exit_code == 0, second.output
    assert "verify" not in second.output  # verified less than a day ago
    assert "0 reviews created" in second.output


def test_once_gives_up_while_another_scheduler_holds_the_lock(app_factory: Any, team: Any) -> None:
    holder = SchedulerLock(team.app)
    assert holder.try_acquire()
    try:
        other = app_factory(SCHEDULER_LOCK_WAIT_SECONDS=0.3)
        with pytest.raises(SchedulerBusy, match="another scheduler holds the lock"):
            run_once(other)
        answer = other.test_cli_runner().invoke(args=["scheduler", "--once"])
        assert answer.exit_code == 1
        assert "another scheduler holds the lock; gave up after 0.3 s" in answer.output
        assert counts(team.app)["Review"] == 0  # it did nothing
        second = SchedulerLock(other)
        assert not second.try_acquire()
        second.release()
    finally:
        holder.release()
    assert [name for name, _outcome in run_once(app_factory(), wait_seconds=0)][:2] == [
        "checkpoint",
        "reviews",
    ]


def test_standby_takes_over_when_the_active_scheduler_stops(app_factory: Any, team: Any) -> None:
    active = SchedulerLock(team.app)
    assert active.try_acquire()
    standby = SchedulerLock(app_factory())
    assert not standby.try_acquire()
    active.release()
    assert standby.wait(2)
    assert standby.alive()
    standby.release()


def _together(*calls: Any) -> list[Any]:
    """Run ``calls`` in threads released at the same moment; return their results (or exceptions)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Any) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # reported to the test below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_two_schedulers_at_once_act_once(
    app_factory: Any, client: Any, factory: Any, clock: Any, mail_server: Any
) -> None:
    mail_server.start()
    build_team(
        app_factory(), client, factory, valid_until=clock.now() + timedelta(days=20), review_interval_days=7
    )
    one, two = app_factory(SMTP_URL=mail_server.url), app_factory(SMTP_URL=mail_server.url)
    clock.advance(days=21)
    results = _together(lambda: run_once(one), lambda: run_once(two))
    assert not [r for r in results if isinstance(r, Exception)], results
    after = counts(one)
    assert after["suspensions"] == 2
    assert after["EnforcementAction"] == 1 + after["Review"]  # the lapse and every review overdue
    run_once(one)
    run_once(two)
    assert counts(one) == after
    # Each queued e-mail (its Message-ID names its outbox row) arrived exactly once.
    outbox_ids = [
        m["Message-ID"].split("decoy-outbox-")[1].split("@")[0] for m in mail_server.handler.messages
    ]
    assert sorted(outbox_ids) == sorted({*outbox_ids}) and len(outbox_ids) == after["OutboxEmail"] > 0


@pytest.mark.skipif(
    not PG_URL,
    reason="SQLite serialises every write transaction (BEGIN IMMEDIATE), so two "
    "passes cannot overlap there; the lock test above covers SQLite's file lock",
)
def test_two_passes_without_the_lock_still_act_once_on_postgresql(
    app_factory: Any, client: Any, factory: Any, clock: Any
) -> None:
    team = build_team(
        app_factory(), client, factory, valid_until=clock.now() + timedelta(days=20), review_interval_days=7
    )
    one, two = app_factory(), app_factory()
    clock.advance(days=21)
    results = _together(lambda: run_jobs(one), lambda: run_jobs(two))
    assert not [r for r in results if isinstance(r, Exception)], results
    run_jobs(one)  # a pass that lost a race (deadlock or conflict) catches up here
    after = counts(one)
    assert after["suspensions"] == 2
    assert after["EnforcementAction"] == 1 + after["Review"]
    assert set(team.statuses().values()) == {"suspended"}
