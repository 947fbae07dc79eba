"""Loading the application for a command: the one a caller handed in, or one built from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask
from flask.cli import ScriptInfo

from .. import config as configuration
from ..integrity import keys


def given_app() -> Flask | None:
    """The application a caller handed in (Flask's CLI runner, `flask --app`), if any."""
    context = click.get_current_context(silent=True)
    info = context.find_object(ScriptInfo) if context else None
    if info is not None and info.create_app is not None:
        return info.load_app()
    return None


def load_app() -> Flask:
    """The application the command works on; a configuration error is a clean command-line error."""
    from .. import create_app

    given = given_app()
    if given is not None:
        return given
    try:
        return create_app()
    except configuration.ConfigurationError as error:
        raise click.ClickException(str(error)) from error


def data_dir_from_environment() -> Path:
    """The data directory the environment selects (before an application exists)."""
    return Path(os.environ.get("DECOY_DATA_DIR") or configuration.DEFAULTS["DATA_DIR"]).resolve()


def initialise(app: Flask) -> list[str]:
    """Create the data directory, keys and schema; safe to run twice. Returns what was created."""
    from ..integrity.checkpoints import ensure_signing_key
    from .migrate import upgrade

    data_dir = Path(app.config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    (data_dir / "attachments").mkdir(exist_ok=True, mode=0o700)
    created = keys.ensure_symmetric_keys(app)
    upgrade(app)
    if ensure_signing_key(app):
        created.append(keys.CHECKPOINT_KEY)
    return created
