"""Setting up: `decoy init`, accounts, API tokens and the demo data set."""

from __future__ import annotations

import getpass
import json
import sys

import click
from sqlmodel import select

from ..integrity import keys
from .app import data_dir_from_environment, given_app, initialise, load_app


@click.command("init")
def init_command() -> None:
    """Create the data directory, the schema (migrations) and the signing key; safe to run twice."""
    if given_app() is None:
        data_dir = data_dir_from_environment()
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The session key must exist before the application is built, which refuses to start without one.
        keys.write_secret_file(data_dir / "keys" / keys.SESSION_KEY, keys.new_symmetric_key())
    app = load_app()
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


@click.group("user")
def user_group() -> None:
    """Manage accounts."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["detective", "supervisor", "legal", "admin"]))
@click.option("--email", default=None)
@click.option("--display-name", default="")
@click.option("--code", default=None,
              help="the officer's verbalisant code (e.g. AVIM-0412), needed to act on an operation")
def user_add(
    name: str, roles: tuple[str, ...], email: str | None, display_name: str, code: str | None
) -> None:
    """Create an account; the password is read from stdin. Prints the TOTP enrolment URI as JSON."""
    from ..auth import services
    from ..db import session_scope
    from ..errors import DecoyError

    app = load_app()
    password = _read_password()
    with app.app_context():
        try:
            with session_scope(app) as session:
                account = services.create_user(
                    session=session, actor="cli", username=name, password=password, roles=list(roles),
                    email=email, display_name=display_name, code=code,
                )
        except DecoyError as error:
            raise click.ClickException(f"{error.field or 'input'}: {error.message}") from error
    if code is None and set(roles) - {"admin"}:
        click.echo(f"warning: {account.user.username} has no verbalisant code and cannot act on an operation "
                   f"until one is set: decoy user code {account.user.username} CODE", err=True)
    click.echo(json.dumps({"username": account.user.username, "otpauth_uri": account.otpauth_uri,
                           "verbalisant_code": account.user.verbalisant_code}))


@user_group.command("code")
@click.argument("name")
@click.argument("code")
def user_code(name: str, code: str) -> None:
    """Give an officer's account its verbalisant code (recorded, with who had which code when)."""
    from ..db import session_scope
    from ..disclosure import codes
    from ..errors import DecoyError
    from ..models import User

    app = load_app()
    with app.app_context():
        try:
            with session_scope(app) as session:
                user = session.exec(select(User).where(User.username == name.strip().lower())).first()
                if user is None:
                    raise click.ClickException(f"no account named {name}")
                if not codes.is_officer(session, user.id or 0):
                    raise click.ClickException(f"{user.username} holds no officer role: it needs no code")
                codes.assign(session, actor="cli", assigned_by=None, user=user, code=code)
                value = user.verbalisant_code
        except DecoyError as error:
            raise click.ClickException(f"{error.field or 'input'}: {error.message}") from error
    click.echo(json.dumps({"username": name.strip().lower(), "verbalisant_code": value}))


@click.group("token")
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

    app = load_app()
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


@click.command("demo")
def demo_command() -> None:
    """Load the demo data set into a fresh data directory and print how to sign in."""
    from ..demo import DEMO_FILE, DemoRefused, load_demo

    app = load_app()
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


@click.command("demo-code")
@click.argument("name")
def demo_code(name: str) -> None:
    """Print the current TOTP code of a demo account (demo data directories only)."""
    from ..auth.totp import current_code
    from ..clock import now
    from ..demo import demo_secret

    app = load_app()
    secret = demo_secret(app, name)
    if secret is None:
        raise click.ClickException("no demo account of that name in this data directory")
    click.echo(current_code(secret, now()))
