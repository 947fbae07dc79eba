"""`decoy serve`: the production server, gunicorn with several worker processes."""

from __future__ import annotations

from typing import Any

import click
from gunicorn.app.base import BaseApplication

from .. import config as configuration
from .app import load_app


class DecoyServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn serving the Decoy application; each worker builds its own app (own engine)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply our options to gunicorn's settings."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Build the WSGI application inside the worker."""
        from .. import create_app

        return create_app()


def run_server(options: dict[str, Any]) -> None:
    """Run gunicorn until stopped."""
    settings = {"worker_class": "sync", "timeout": 120, "graceful_timeout": 30, "accesslog": "-",
                "preload_app": False, "limit_request_line": 8190, "forwarded_allow_ips": "127.0.0.1"}
    settings.update(options)
    DecoyServer(settings).run()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--workers", default=2, type=int, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Run the production WSGI server (gunicorn)."""
    app = load_app()
    with app.app_context():
        from ..integrity.checkpoints import check_signing_key

        try:
            check_signing_key(app)
        except configuration.ConfigurationError as error:
            raise click.ClickException(str(error)) from error
    options: dict[str, Any] = {"bind": f"{host}:{port}", "workers": workers}
    run_server(options)
