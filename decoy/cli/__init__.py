"""The `decoy` console script: one module per command group, assembled here."""

from __future__ import annotations

import os

import click
from flask import Flask

from .app import data_dir_from_environment, initialise
from .attachments import attachments_group
from .audit import audit_group, scheduler_command
from .backup import backup_command, restore_command
from .export import export_command
from .imports import import_command
from .serve import serve
from .setup import demo_code, demo_command, init_command, token_group, user_group
from .witness import witness_group

__all__ = ["data_dir_from_environment", "initialise", "main", "register_commands"]


@click.group()
def main() -> None:
    """Decoy: evidence-grade management of decoy-profile operations."""
    # Evidence, keys and the database are readable by the service account only.
    os.umask(0o077)


for command in (
    init_command,
    user_group,
    token_group,
    serve,
    audit_group,
    scheduler_command,
    export_command,
    import_command,
    demo_command,
    demo_code,
    backup_command,
    restore_command,
    attachments_group,
    witness_group,
):
    main.add_command(command)


def register_commands(app: Flask) -> None:
    """Make the commands reachable through `flask --app decoy` as well."""
    for command in main.commands.values():
        app.cli.add_command(command)


if __name__ == "__main__":
    main()
