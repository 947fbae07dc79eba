"""Commands for backups: `decoy backup DIR` and `decoy restore DIR`."""

from __future__ import annotations

import os
from pathlib import Path

import click


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def backup_command(directory: Path) -> None:
    """Write a consistent backup (database, attachments, keys, checkpoints, manifest) into DIRECTORY.

    Safe while the server runs. DIRECTORY must be new or empty.
    """
    from ..backup import BackupError, backup
    from .app import load_app

    app = load_app()
    try:
        summary = backup(data_dir=Path(app.config["DATA_DIR"]), database_url=app.config["DATABASE_URL"],
                         target=directory)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"backup written to {summary.directory}: {summary.database} database with "
               f"{summary.audit_size} audit entries, {summary.attachments} attachments, "
               f"{summary.files} files")


@click.command("restore")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
def restore_command(directory: Path) -> None:
    """Restore the backup in DIRECTORY into an empty data directory (and empty database).

    The target is DECOY_DATA_DIR and DECOY_DATABASE_URL (SQLite in the data directory by default).
    Afterwards run `decoy audit verify` on the restored copy.
    """
    from ..backup import BackupError, restore
    from .app import data_dir_from_environment, given_app

    given = given_app()
    if given is not None:
        data_dir, url = Path(given.config["DATA_DIR"]), given.config["DATABASE_URL"]
        if url == f"sqlite:///{Path(data_dir) / 'decoy.db'}":
            url = None
    else:
        # No application can be built yet: the data directory holds no session key until restored.
        data_dir, url = data_dir_from_environment(), os.environ.get("DECOY_DATABASE_URL") or None
    try:
        summary = restore(source=directory, data_dir=data_dir, database_url=url)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"restored {summary.database} database with {summary.audit_size} audit entries and "
               f"{summary.attachments} attachments into {summary.directory}")
    click.echo("next: run `decoy audit verify` on the restored copy")
