"""Commands for the audit log and the scheduler."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .app import load_app


@click.group("audit")
def audit_group() -> None:
    """Verify and checkpoint the tamper-evident audit log."""


@audit_group.command("verify")
@click.argument("bundle", required=False, type=click.Path(dir_okay=False, path_type=Path))
def verify(bundle: Path | None) -> None:
    """Exit 0 when the log (or BUNDLE.zip, signed by this server's key) is intact; else exit 1 naming
    the first bad entry."""
    if bundle is not None:
        from ..integrity.checkpoints import verify_bundle_file

        app = load_app()
        with app.app_context():
            report = verify_bundle_file(bundle)
        if report.ok:
            for note in report.notes:
                click.echo(f"note: {note}")
            click.echo(f"intact: {report.entries} entries verified against the bundle's signed checkpoint")
            return
        where = "" if report.first_bad_index is None else f"first bad entry: {report.first_bad_index}; "
        click.echo(f"NOT INTACT: {where}{report.reason}")
        sys.exit(1)
    from ..integrity.checkpoints import run_verification

    app = load_app()
    with app.app_context():
        run = run_verification(app, trigger="cli", actor="cli")
    if run.ok:
        click.echo(f"intact: {run.reason}")
        from ..db import session_scope
        from ..retention.verification import disposal_summary

        with app.app_context(), session_scope(app) as session:
            for line in disposal_summary(session):
                click.echo(f"note: {line}")
        return
    where = "" if run.first_bad_index is None else f"first bad entry: {run.first_bad_index}; "
    click.echo(f"NOT INTACT: {where}{run.reason}")
    sys.exit(1)


@audit_group.command("checkpoint")
def checkpoint() -> None:
    """Sign and publish a checkpoint now, have it stamped (DECOY_TSA_URL) and show it to the witnesses
    (DECOY_WITNESSES)."""
    from ..integrity.checkpoints import checkpoint_file, make_checkpoint
    from ..integrity.stamping import stamp_checkpoint
    from ..integrity.witnessing import publish_cosigned, witness_checkpoint

    app = load_app()
    with app.app_context():
        stored = make_checkpoint(app)
        for stamped in stamp_checkpoint(app, stored):
            click.echo(f"time-stamp authority {stamped.authority}: {stamped.result}"
                       f"{': ' + stamped.detail if stamped.detail else ''}", err=True)
        outcomes = witness_checkpoint(app, stored)
        stored = publish_cosigned(app, stored)
        click.echo(stored.note, nl=False)
        click.echo(f"published to {checkpoint_file(app)}", err=True)
        for outcome in outcomes:
            name = outcome.witness.split("+", 1)[0]
            click.echo(f"witness {name}: {outcome.result}{': ' + outcome.detail if outcome.detail else ''}",
                       err=True)


@click.command("scheduler")
@click.option("--once", is_flag=True, help="run every due job once and exit")
def scheduler_command(once: bool) -> None:
    """Run the scheduler process (checkpoints, reviews, enforcement, notifications)."""
    from ..jobs import run_once, run_scheduler

    app = load_app()
    if once:
        for name, outcome in run_once(app):
            click.echo(f"{name}: {outcome}")
        return
    run_scheduler(app)
