"""The `decoy export` command: an operation's evidence bundle written to a file with a progress bar."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click


class ConsoleActor:
    """The operator at the server's console, exporting with a legal officer's reach."""

    id = None
    roles = frozenset({"legal"})
    #: The console is no officer: its exports are recorded under its own name.
    verbalisant_code = "console"

    def __init__(self, username: str) -> None:
        self.username = username

    def has_role(self, *roles: str) -> bool:
        """The console acts as a legal officer for exports."""
        return "legal" in roles


@click.command("export")
@click.argument("operation_id", type=int)
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "username", default=None, help="the legal officer on whose behalf the export is made")
@click.option("--contacts", default=None, help="the contacts to disclose, e.g. 1,2 (default: all)")
@click.option("--purpose", default="", help="what the disclosure is for (recorded)")
@click.option("--recipient", default="", help="to whom it is disclosed (recorded)")
def export_command(
    operation_id: int, output: Path, username: str | None, contacts: str | None, purpose: str, recipient: str
) -> None:
    """Write the evidence bundle of OPERATION_ID (of the contacts named) to FILE.zip."""
    from sqlmodel import func, select

    from ..auth.principal import Principal
    from ..auth.services import find_user, user_roles
    from ..db import session_scope
    from ..errors import DecoyError
    from ..export.bundle import iter_bundle, prepare_export, publish_and_anchor
    from ..export.selection import parse_contacts
    from ..models import Contact
    from .app import load_app

    app = load_app()
    with app.app_context():
        try:
            with session_scope(app) as session:
                actor: object = ConsoleActor("console")
                if username is not None:
                    user = find_user(session, username)
                    if user is None or not user.is_active or "legal" not in user_roles(session, user):
                        raise click.ClickException(f"{username!r} is not an active legal officer")
                    actor = Principal(user, user_roles(session, user))
                named = parse_contacts(contacts)
                plan = prepare_export(
                    session,
                    actor,  # type: ignore[arg-type]
                    operation_id,
                    contacts=named,
                    purpose=purpose,
                    recipient=recipient,
                )
                count = len(named) if named is not None else session.exec(
                    select(func.count()).select_from(Contact).where(Contact.operation_id == operation_id)
                ).one()
        except DecoyError as error:
            raise click.ClickException(error.message) from error
        plan = publish_and_anchor(app, plan)
    temporary = output.with_name(output.name + ".partial")
    with click.progressbar(
        length=int(count) + 3, label="exporting", file=sys.stderr
    ) as bar:
        with temporary.open("wb") as handle:
            for chunk in iter_bundle(app, plan, progress=lambda _step: bar.update(1)):
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(temporary, output)
    click.echo(f"{output}: operation {operation_id}, checkpoint size {plan.checkpoint.size}")
