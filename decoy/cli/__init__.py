"""The `decoy` console script."""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo

from .. import config as configuration
from ..integrity import keys


def _given_app() -> Flask | None:
    """The application a caller handed in (Flask's CLI runner, `flask --app`), if any."""
    context = click.get_current_context(silent=True)
    info = context.find_object(ScriptInfo) if context else None
    if info is not None and info.create_app is not None:
        return info.load_app()
    return None


def _app() -> Flask:
    from .. import create_app

    given = _given_app()
    if given is not None:
        return given
    try:
        return create_app()
    except configuration.ConfigurationError as error:
        raise click.ClickException(str(error)) from error


def register_commands(app: Flask) -> None:
    """Make the commands reachable through `flask --app decoy` as well."""
    for command in main.commands.values():
        app.cli.add_command(command)


@click.group()
def main() -> None:
    """Decoy: evidence-grade management of decoy-profile operations."""
    # Evidence, keys and the database are readable by the service account only.
    os.umask(0o077)


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


@main.command("init")
def init_command() -> None:
    """Create the data directory, the schema (migrations) and the signing key; safe to run twice."""
    if _given_app() is None:
        data_dir = data_dir_from_environment()
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The session key must exist before the application is built, which refuses to start without one.
        keys.write_secret_file(data_dir / "keys" / keys.SESSION_KEY, keys.new_symmetric_key())
    app = _app()
    with app.app_context():
        created = initialise(app)
    click.echo(f"data directory: {app.config['DATA_DIR']}")
    click.echo("created: " + (", ".join(created) if created else "nothing (already initialised)"))
    click.echo("schema: up to date")


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != first:
            raise click.ClickException("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


@main.group("user")
def user_group() -> None:
    """Manage accounts."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["detective", "supervisor", "legal", "admin"]))
@click.option("--email", default=None)
@click.option("--display-name", default="")
def user_add(name: str, roles: tuple[str, ...], email: str | None, display_name: str) -> None:
    """Create an account; the password is read from stdin. Prints the TOTP enrolment URI as JSON."""
    from ..auth import services
    from ..db import session_scope
    from ..errors import DecoyError

    app = _app()
    password = _read_password()
    with app.app_context():
        try:
            with session_scope(app) as session:
                account = services.create_user(
                    session=session, actor="cli", username=name, password=password, roles=list(roles),
                    email=email, display_name=display_name,
                )
        except DecoyError as error:
            raise click.ClickException(f"{error.field or 'input'}: {error.message}") from error
    click.echo(json.dumps({"username": account.user.username, "otpauth_uri": account.otpauth_uri}))


@main.group("token")
def token_group() -> None:
    """Manage API tokens."""


@token_group.command("create")
@click.argument("name")
@click.option("--expires", "days", type=int, default=None, help="validity in days (default 90)")
@click.option("--label", default="command line", help="a name for the token")
def token_create(name: str, days: int | None, label: str) -> None:
    """Print a new bearer token for the user NAME on the last line."""
    from ..auth import services, tokens
    from ..db import session_scope
    from ..errors import DecoyError

    app = _app()
    with app.app_context():
        try:
            with session_scope(app) as session:
                user = services.find_user(session, name)
                if user is None or not user.is_active:
                    raise click.ClickException(f"no active account named {name!r}")
                token, clear = tokens.create_token(session=session, user=user, name=label, days=days)
                expires = token.expires_at.isoformat()
        except DecoyError as error:
            raise click.ClickException(f"{error.field or 'input'}: {error.message}") from error
    click.echo(f"token for {name}, expires {expires}; shown once:", err=True)
    click.echo(clear)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--workers", default=2, type=int, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Run the production WSGI server (gunicorn)."""
    from .serve import run_server

    app = _app()
    with app.app_context():
        from ..integrity.checkpoints import check_signing_key

        try:
            check_signing_key(app)
        except configuration.ConfigurationError as error:
            raise click.ClickException(str(error)) from error
    options: dict[str, Any] = {"bind": f"{host}:{port}", "workers": workers}
    run_server(options)


from .audit import audit_group, scheduler_command  # noqa: E402  (commands split by feature)
from .export import export_command  # noqa: E402

main.add_command(audit_group)
main.add_command(scheduler_command)
main.add_command(export_command)


@main.command("demo")
def demo_command() -> None:
    """Load the demo data set into a fresh data directory and print how to sign in."""
    from ..demo import DEMO_FILE, DemoRefused, load_demo

    app = _app()
    try:
        accounts = load_demo(app)
    except DemoRefused as error:
        raise click.ClickException(str(error)) from error
    password = next(iter(accounts.values()))["password"]
    click.echo(f"demo data loaded; accounts (password for all: {password!r}):")
    for username, account in accounts.items():
        click.echo(f"  {username:<6} {', '.join(account['roles']):<12} TOTP secret {account['totp_secret']}")
    click.echo(f"secrets are kept in {app.config['DATA_DIR']}/{DEMO_FILE}")
    click.echo("a current second-factor code: decoy demo-code NAME")


@main.command("demo-code")
@click.argument("name")
def demo_code(name: str) -> None:
    """Print the current TOTP code of a demo account (demo data directories only)."""
    from ..auth.totp import current_code
    from ..clock import now
    from ..demo import demo_secret

    app = _app()
    secret = demo_secret(app, name)
    if secret is None:
        raise click.ClickException("no demo account of that name in this data directory")
    click.echo(current_code(secret, now()))


from .backup import backup_command, restore_command  # noqa: E402

main.add_command(backup_command)
main.add_command(restore_command)

from .attachments import attachments_group  # noqa: E402

main.add_command(attachments_group)

if __name__ == "__main__":
    main()
