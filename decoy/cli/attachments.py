"""Commands for the attachment stores: `decoy attachments move --to STORE`, `decoy attachments check` and
`decoy attachments sweep`."""

from __future__ import annotations

import click


@click.group("attachments")
def attachments_group() -> None:
    """Where attachment content is kept: move it between the file and database stores, check every copy."""


@attachments_group.command("move")
@click.option("--to", "destination", required=True, type=click.Choice(["database", "files"]),
              help="the store to move every attachment and order document to")
@click.option("--keep-source", is_flag=True, help="leave the verified source copies in place")
def move_command(destination: str, keep_source: bool) -> None:
    """Copy every attachment and order document to the other store, verify every hash, then remove the
    source copies. Safe to run again after an interruption; exit 1 naming the hash on any mismatch.

    Set DECOY_ATTACHMENT_STORE to the destination on every app server first, so that new attachments
    go there too; until the move ends, each file is read from whichever store holds it.
    """
    from ..blobstore import configured
    from ..blobstore.moving import MoveRefused, move
    from .app import load_app

    app = load_app()
    with app.app_context():
        try:
            report = move(app, to=destination, keep_source=keep_source, actor="cli", progress=click.echo)
        except MoveRefused as error:
            raise click.ClickException(f"move refused: {error}") from error
        store = configured(app)
    click.echo(f"{report.total} files referenced: {report.copied} copied to the {destination} store "
               f"({report.bytes_copied} bytes) and verified, {report.already_there} already there and "
               f"verified, {report.removed} source copies removed")
    if store != destination:
        click.echo(f"note: ATTACHMENT_STORE is {store!r}, so new attachments still go to the {store} store; "
                   f"set DECOY_ATTACHMENT_STORE={destination} on every app server")


@attachments_group.command("check")
def check_command() -> None:
    """Re-hash every copy of every attachment and order document in both stores; exit 1 on any problem."""
    from ..blobstore.moving import check
    from .app import load_app

    app = load_app()
    with app.app_context():
        report = check(app)
    click.echo(f"{report.total} files referenced: {report.in_files} in the file store, "
               f"{report.in_database} in the database store; configured store: {report.configured}")
    if report.outside_configured:
        click.echo(f"{report.outside_configured} only outside the configured store: "
                   f"run `decoy attachments move --to {report.configured}`")
    for problem in report.problems:
        click.echo(f"problem: {problem}", err=True)
    if report.problems:
        raise click.ClickException(f"{len(report.problems)} problems; the first: {report.problems[0]}")
    click.echo("every copy verified")


@attachments_group.command("sweep")
def sweep_command() -> None:
    """Delete from the file store the files approved disposals removed that no record holds any more (a
    deletion interrupted after its disposal committed). Safe to run at any time."""
    from ..db import session_scope
    from ..retention.disposal import leftover_files, remove_files
    from .app import load_app

    app = load_app()
    with app.app_context():
        with session_scope(app) as session:
            leftovers = leftover_files(session)
        removed = remove_files(app, leftovers)
    click.echo(f"{removed} disposed files deleted from the file store "
               f"({len(leftovers)} disposed files in all)")
