"""APScheduler set-up; each job is a thin call into a service, run inside the application context.

Only one scheduler acts at a time: on PostgreSQL it holds a session-level advisory lock on a connection
of its own, on SQLite an exclusive lock on a file in the data directory. A second ``decoy scheduler``
waits as standby until the lock is free; ``decoy scheduler --once`` waits a bounded time, then gives up.
The jobs derive everything from the database, so whichever scheduler runs, and however late, each
action happens once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import click
from flask import Flask

from .locks import ExclusiveLock

log = logging.getLogger("decoy.jobs")

#: The advisory lock key of the scheduler ("DecoySch").
LOCK_KEY = 0x4465636F79536368
STANDBY_POLL_SECONDS = 5.0
VERIFY_EVERY = timedelta(hours=24)


class SchedulerBusy(click.ClickException):
    """Another scheduler holds the lock and did not let go in time."""


class SchedulerLock(ExclusiveLock):
    """The one-scheduler-at-a-time lock."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app, LOCK_KEY, "scheduler.lock")


def job_checkpoint(app: Flask) -> str:
    """Sign a checkpoint when the log has grown, so a checkpoint is at most a minute behind."""
    from .integrity.checkpoints import make_checkpoint

    stored = make_checkpoint(app)
    from .integrity.stamping import stamp_pending
    from .integrity.witnessing import witness_latest

    witnessed = witness_latest(app)
    cosigned = sum(1 for outcome in witnessed if outcome.result == "cosigned")
    stamped = sum(1 for outcome in stamp_pending(app) if outcome.result == "stamped")
    return (f"checkpoint at size {stored.size}" + (f", {cosigned} new cosignatures" if cosigned else "")
            + (f", {stamped} new time stamps" if stamped else ""))


def job_reviews(app: Flask) -> str:
    """Generate reviews, suspend under rule 2 and send the notices that are due."""
    from .reviews.passes import review_pass

    return review_pass(app)


def job_capture_sessions(app: Flask) -> str:
    """Tell the supervisors of capture sessions left open too long."""
    from .capture.notices import capture_pass

    return capture_pass(app)


def job_outbox(app: Flask) -> str:
    """Send the queued e-mails that are due."""
    from .reviews.passes import outbox_pass

    return outbox_pass(app)


def job_verify(app: Flask) -> str:
    """Verify the whole log; raise the alarm to legal officers and admins when it is not intact."""
    from .integrity.checkpoints import run_verification
    from .reviews.passes import alarm_pass

    run = run_verification(app, trigger="scheduler", actor="system")
    if not run.ok:
        log.error("audit log verification failed at %s: %s", run.first_bad_index, run.reason)
        alarm_pass(app)
    return "intact" if run.ok else f"NOT INTACT at {run.first_bad_index}: {run.reason}"


def verification_due(app: Flask) -> bool:
    """Whether the last verification is older than a day (or there is none): `--once` then verifies."""
    from . import clock
    from .db import session_scope
    from .integrity.checkpoints import latest_verification

    with app.app_context(), session_scope(app) as session:
        latest = latest_verification(session)
        return latest is None or clock.now() - latest.finished_at >= VERIFY_EVERY


#: (name, function, trigger, trigger arguments) of every scheduled job, in the order `--once` runs them.
JOBS: list[tuple[str, Callable[[Flask], str], str, dict[str, Any]]] = [
    ("checkpoint", job_checkpoint, "interval", {"seconds": 30}),
    ("reviews", job_reviews, "interval", {"seconds": 60}),
    ("capture_sessions", job_capture_sessions, "interval", {"seconds": 60}),
    ("verify", job_verify, "cron", {"hour": 2, "minute": 30}),
    ("outbox", job_outbox, "interval", {"seconds": 30}),
]

#: Jobs that `--once` runs only when due (the nightly verification: when the last is a day old).
NIGHTLY = {"verify": verification_due}


def _run(app: Flask, name: str, function: Callable[[Flask], str]) -> str:
    with app.app_context():
        try:
            return function(app)
        except Exception as error:  # a failing job must not stop the scheduler; it runs again
            log.exception("job %s failed", name)
            return f"failed: {error}"


def run_jobs(app: Flask) -> list[tuple[str, str]]:
    """Run every due job once, in order, without taking the lock (the caller holds it)."""
    outcomes = []
    for name, function, _trigger, _arguments in JOBS:
        due = NIGHTLY.get(name)
        if due is not None and not due(app):
            continue
        outcomes.append((name, _run(app, name, function)))
    return outcomes


def run_once(app: Flask, wait_seconds: float | None = None) -> list[tuple[str, str]]:
    """Take the lock (waiting up to SCHEDULER_LOCK_WAIT_SECONDS), run every due job once, let go."""
    lock = SchedulerLock(app)
    wait = float(app.config["SCHEDULER_LOCK_WAIT_SECONDS"] if wait_seconds is None else wait_seconds)
    if not lock.wait(wait):
        lock.release()  # closes the connection it polled on
        raise SchedulerBusy(f"another scheduler holds the lock; gave up after {wait:g} s without running")
    try:
        return run_jobs(app)
    finally:
        lock.release()


def run_scheduler(app: Flask) -> None:
    """Run the scheduler in the foreground until interrupted, as standby while another one acts."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    lock = SchedulerLock(app)
    if not lock.try_acquire():
        click.echo("another scheduler is active: waiting as standby", err=True)
        while not lock.try_acquire():
            time.sleep(STANDBY_POLL_SECONDS)
        click.echo("the other scheduler stopped: this one is now active", err=True)
    scheduler = BlockingScheduler(timezone="UTC")
    app.extensions["scheduler"] = scheduler

    def _watch_lock() -> None:
        if not lock.alive():
            log.error("the scheduler lock was lost (database connection dropped): stopping")
            scheduler.shutdown(wait=False)

    for name, function, trigger, arguments in JOBS:
        scheduler.add_job(
            _run,
            trigger,
            args=(app, name, function),
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
            **arguments,
        )
    scheduler.add_job(_watch_lock, "interval", seconds=30, id="lock", name="lock", max_instances=1)
    log.info("scheduler started with %d jobs", len(JOBS))
    try:
        for name, outcome in run_jobs(app):  # catch up at once after downtime
            log.info("%s: %s", name, outcome)
        scheduler.start()
    finally:
        lock.release()
