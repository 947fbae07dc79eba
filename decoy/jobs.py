"""APScheduler set-up; each job is a thin call into a service, run inside the application context."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask

log = logging.getLogger("decoy.jobs")


def job_checkpoint(app: Flask) -> str:
    """Sign a checkpoint when the log has grown, so a checkpoint is at most a minute behind."""
    from .audit_setup import make_checkpoint

    stored = make_checkpoint(app)
    return f"checkpoint at size {stored.size}"


def job_verify(app: Flask) -> str:
    """Verify the whole log."""
    from .audit_setup import run_verification

    run = run_verification(app, trigger="scheduler", actor="system")
    if not run.ok:
        log.error("audit log verification failed at %s: %s", run.first_bad_index, run.reason)
    return "intact" if run.ok else f"NOT INTACT at {run.first_bad_index}: {run.reason}"


#: (name, function, trigger, trigger arguments) of every scheduled job.
JOBS: list[tuple[str, Callable[[Flask], str], str, dict[str, Any]]] = [
    ("checkpoint", job_checkpoint, "interval", {"seconds": 30}),
    ("verify", job_verify, "cron", {"hour": 2, "minute": 30}),
]

#: Jobs that `--once` skips because they are nightly, not "due" work.
NIGHTLY = {"verify"}


def _run(app: Flask, name: str, function: Callable[[Flask], str]) -> str:
    with app.app_context():
        try:
            return function(app)
        except Exception as error:  # a failing job must not stop the scheduler; it runs again
            log.exception("job %s failed", name)
            return f"failed: {error}"


def run_once(app: Flask) -> list[tuple[str, str]]:
    """Run every due job once, in order, and return their outcomes."""
    return [(name, _run(app, name, function)) for name, function, _t, _a in JOBS if name not in NIGHTLY]


def run_scheduler(app: Flask) -> None:
    """Run the scheduler in the foreground until interrupted."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="UTC")
    app.extensions["scheduler"] = scheduler
    for name, function, trigger, arguments in JOBS:
        scheduler.add_job(_run, trigger, args=(app, name, function), id=name, name=name,
                          max_instances=1, coalesce=True, misfire_grace_time=3600, **arguments)
    log.info("scheduler started with %d jobs", len(JOBS))
    scheduler.start()
