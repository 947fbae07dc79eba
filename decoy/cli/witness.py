"""`decoy witness`: run a witness of a Decoy log for another organisation (c2sp.org/tlog-witness).

The witness needs nothing of Decoy's data: its own key, the log's origin and verifier key, and a
directory for its state. `decoy witness init NAME` makes the key (and prints the verifier key that Decoy's
operator puts in DECOY_WITNESSES); `decoy witness serve` answers ``POST /add-checkpoint``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from audit.checkpoint import Verifier
from audit.cosignature import Cosigner
from audit.errors import CheckpointError
from audit.witness import Witness, WitnessState, wsgi_app

KEY_FILE = "witness.key"
#: The origins of every log this witness has kept a view of, one per line (append-only).
WITNESSED_FILE = "witnessed.txt"


def _directory(path: str | None) -> Path:
    return Path(path or os.environ.get("DECOY_WITNESS_DIR") or "witness").resolve()


def load_cosigner(directory: Path) -> Cosigner:
    """The witness's key from its directory."""
    try:
        return Cosigner.from_private_key((directory / KEY_FILE).read_text(encoding="ascii"))
    except FileNotFoundError as exc:
        missing = f"{directory / KEY_FILE} does not exist: run `decoy witness init NAME`"
        raise click.ClickException(missing) from exc
    except (CheckpointError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{directory / KEY_FILE}: {exc}") from exc


def state_path(directory: Path, origin: str) -> Path:
    """Where the witness keeps its view of the log of ``origin``."""
    return directory / f"log-{hashlib.sha256(origin.encode('utf-8')).hexdigest()[:16]}.json"


class WitnessServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn serving one witness."""

    def __init__(self, application: Any, options: dict[str, Any]) -> None:
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply the options to gunicorn's settings."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """The witness's WSGI application."""
        return self.application


@click.group("witness")
def witness_group() -> None:
    """Run a witness of a Decoy log (for another organisation)."""


@click.command("init")
@click.argument("name")
@click.option("--dir", "directory", help="The witness's directory (default $DECOY_WITNESS_DIR or ./witness).")
def witness_init(name: str, directory: str | None) -> None:
    """Make the witness's own key NAME (e.g. om.example/witness-1) and print its verifier key."""
    where = _directory(directory)
    key_path = where / KEY_FILE
    if key_path.exists():
        raise click.ClickException(f"{key_path} exists already: a witness keeps its key")
    try:
        cosigner = Cosigner.generate(name)
    except CheckpointError as exc:
        raise click.ClickException(str(exc)) from exc
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as stream:
        stream.write(cosigner.private_key_text() + "\n")
        stream.flush()
        os.fsync(stream.fileno())
    click.echo(f"witness key written to {key_path} (keep it secret; back it up)")
    click.echo("verifier key (give it to the log's operator for DECOY_WITNESSES):")
    click.echo(cosigner.verifier_key_text())


@click.command("serve")
@click.option("--origin", required=True, help="The log's origin line (its checkpoints' first line).")
@click.option("--log-key", required=True, help="The log's verifier key (name+id+key).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8070, type=int, show_default=True)
@click.option("--dir", "directory", help="The witness's directory (default $DECOY_WITNESS_DIR or ./witness).")
def witness_serve(origin: str, log_key: str, host: str, port: int, directory: str | None) -> None:
    """Witness the log ORIGIN: answer POST /add-checkpoint, cosigning only checkpoints that extend what it
    cosigned before."""
    where = _directory(directory)
    cosigner = load_cosigner(where)
    try:
        verifier = Verifier.from_key_text(log_key)
    except CheckpointError as exc:
        raise click.BadParameter(str(exc), param_hint="--log-key") from exc
    if verifier.public_key == cosigner.public_key:
        raise click.BadParameter("the witness's key must not be the log's", param_hint="--log-key")
    state = WitnessState(state_path(where, origin))
    witnessed = where / WITNESSED_FILE
    known = witnessed.read_text(encoding="utf-8").splitlines() if witnessed.exists() else []
    if not state.path.exists():
        if origin in known:
            raise click.ClickException(
                f"the view of {origin} is missing from {where}: restore {state.path.name} from the witness's "
                "backup (a witness that forgot what it cosigned could be shown a fork)"
            )
        # A log this witness has never seen: its empty view, written and synced, then the log recorded as
        # witnessed, so that from now on a missing view is refused.
        state.update(lambda view: view)
        with open(witnessed, "a", encoding="utf-8") as stream:
            stream.write(origin + "\n")
            stream.flush()
            os.fsync(stream.fileno())
    witness = Witness(cosigner, origin, verifier, state)
    click.echo(f"witness {cosigner.name} of {origin} on http://{host}:{port}/add-checkpoint")
    options = {"bind": f"{host}:{port}", "workers": 1, "threads": 4, "worker_class": "gthread",
               "timeout": 30, "graceful_timeout": 10, "accesslog": "-", "limit_request_line": 8190}
    WitnessServer(wsgi_app(witness), options).run()


witness_group.add_command(witness_init)
witness_group.add_command(witness_serve)
