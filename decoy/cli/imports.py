"""The `decoy import` command: a platform's export file into one contact, with a progress bar."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..imports.exports import Limits
from ..models.capture import IMPORT_FORMATS


@click.command("import")
@click.argument("contact_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "format_name", required=True, type=click.Choice(IMPORT_FORMATS))
@click.option("--decoy-name", required=True, help="the profile's name in the export")
@click.option(
    "--timezone", default=None, help="the zone of times without an offset (default: DECOY_TIMEZONE)"
)
@click.option("--chat", default=None, help="which chat of a file that holds several")
@click.option("--capture-session", type=int, default=None, help="the capture session the export was taken in")
@click.option("--dry-run", is_flag=True, help="show what would be imported and store nothing")
@click.option(
    "--as",
    "username",
    default=None,
    help="the officer who imports (default: the officer who recorded the contact)",
)
def import_command(
    contact_id: int,
    file: Path,
    format_name: str,
    decoy_name: str,
    timezone: str | None,
    chat: str | None,
    capture_session: int | None,
    dry_run: bool,
    username: str | None,
) -> None:
    """Import FILE, a platform's export, into contact CONTACT_ID; prints the import as JSON."""
    from ..auth.principal import Principal
    from ..auth.services import find_user, user_roles
    from ..db import session_scope
    from ..errors import DecoyError
    from ..imports import services
    from ..imports.exports import ImportRefused
    from ..imports.serialize import import_json
    from ..models import Contact, User
    from .app import load_app

    app = load_app()
    request = services.ImportRequest(
        contact_id=contact_id,
        format=format_name,
        decoy_name=decoy_name,
        filename=file.name,
        timezone=timezone,
        chat=chat,
        capture_session_id=capture_session,
        dry_run=dry_run,
    )
    limits = Limits(max_uncompressed=int(app.config["MAX_IMPORT_UNPACKED_BYTES"]))
    with app.app_context(), session_scope(app) as session, file.open("rb") as stream:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise click.ClickException(f"no contact {contact_id}")
        user = find_user(session, username) if username else session.get(User, contact.recorded_by)
        if user is None or not user.is_active:
            raise click.ClickException(f"{username or 'the contact recorder'!r} is not an active account")
        actor = Principal(user, user_roles(session, user))
        with _Bar() as bar:
            try:
                outcome = services.import_export(
                    session, actor, request, stream, limits=limits, progress=bar.update, channel="console"
                )
            except ImportRefused as refused:
                raise click.ClickException(f"{refused.field}: {refused.message}") from refused
            except DecoyError as error:
                raise click.ClickException(error.message) from error
    click.echo(json.dumps(import_json(outcome), indent=2))


class _Bar:
    """Progress on standard error: a running count while the file is checked, then a bar while its
    messages are written (their number is known by then)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.checked = 0

    def __enter__(self) -> _Bar:
        return self

    def update(self, stage: str, total: int | None, count: int) -> None:
        if total is None:
            self.checked += count
            click.echo(f"\rchecking: {self.checked} messages", nl=False, err=True)
            return
        if self.bar is None:
            click.echo("", err=True)
            self.bar = click.progressbar(
                length=max(total, 1), label="writing", file=sys.stderr, show_pos=True
            )
            self.bar.__enter__()
        self.bar.update(count)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
        elif self.checked:
            click.echo("", err=True)
