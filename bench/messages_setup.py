"""Shared set-up of the evidence benchmarks: a data directory (SQLite, or a fresh PostgreSQL database),
accounts through the `decoy` command, an operation with an active profile, a contact, and servers.

Not a benchmark itself; imported by bench/messages_throughput.py, bench/contact_page.py and
bench/upload_memory.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "correct horse battery staple"  # noqa: S105 - throw-away benchmark accounts


def decoy_command() -> list[str]:
    """The `decoy` console script, run by this interpreter."""
    return [sys.executable, "-c", "from decoy.cli import main; main()"]


def factories() -> Any:
    """tests/factories.py: operations, authorizations and profiles through the real services."""
    import tests.factories as found

    return found


@dataclass
class Site:
    """A prepared data directory: its environment, a detective's token and a contact to log into."""

    data_dir: Path
    environment: dict[str, str]
    token: str
    profile_id: int
    contact_id: int
    database_url: str
    totp_secrets: dict[str, str]

    def dispose(self) -> None:
        """Drop the PostgreSQL database, if one was made."""
        if self.database_url.startswith("postgresql"):
            drop_database(self.database_url)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(environment: dict[str, str], *arguments: str, stdin: str = "") -> str:
    """Run `decoy ARGUMENTS`; return its standard output."""
    done = subprocess.run(
        [*decoy_command(), *arguments],
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"decoy {' '.join(arguments)} failed: {done.stderr}")
    return done.stdout


def create_database(admin_url: str) -> str:
    """A fresh PostgreSQL database next to ``admin_url``'s; returns its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"decoy_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop a database made by :func:`create_database`."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    engine = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    engine.dispose()


def prepare(data_dir: Path, admin_database_url: str | None = None) -> Site:
    """Initialise a data directory with sam and sol (supervisors), dana (detective), lena (legal)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DECOY_")}
    environment.update({"DECOY_DATA_DIR": str(data_dir), "DECOY_ENV": "production"})
    database_url = f"sqlite:///{data_dir / 'decoy.db'}"
    if admin_database_url:
        database_url = create_database(admin_database_url)
        environment["DECOY_DATABASE_URL"] = database_url
    cli(environment, "init")
    totp_secrets = {}
    for name, role in (
        ("sam", "supervisor"),
        ("sol", "supervisor"),
        ("dana", "detective"),
        ("lena", "legal"),
    ):
        added = json.loads(
            cli(environment, "user", "add", name, "--role", role, "--code", f"BENCH-{name.upper()}",
                stdin=PASSWORD + "\n")
        )
        totp_secrets[name] = parse_qs(urlparse(added["otpauth_uri"]).query)["secret"][0]
    token = cli(environment, "token", "create", "dana").strip().splitlines()[-1]
    from decoy import create_app

    found = factories()
    app = create_app({"DATA_DIR": str(data_dir), "ENV": "production", "DATABASE_URL": database_url})
    operation_id = found.make_operation(app, "sam", name="Operation Bench", members=("sol", "dana"))
    now = datetime.now(UTC)
    authorization_id = found.make_authorization(
        app,
        "lena",
        operation_id,
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=60),
        platforms=["chatsite"],
        may_initiate_contact=False,
        officers=["dana"],
    )
    profile_id = found.make_profile(
        app, operation_id, authorization_id, "sam", approver="sol", platform="chatsite", handle="decoy_bench"
    )
    with app.app_context():
        from decoy.auth.principal import Principal
        from decoy.auth.services import find_user
        from decoy.db import session_scope
        from decoy.evidence import services

        with session_scope(app) as session:
            dana = Principal(find_user(session, "dana"), {"detective"})
            contact = services.create_contact(
                session=session, actor=dana, profile_id=profile_id, counterpart="bench_counterpart"
            )
            contact_id = int(contact.id)  # type: ignore[arg-type]
    app.extensions["decoy.engine"].dispose()
    return Site(data_dir, environment, token, profile_id, contact_id, database_url, totp_secrets)


def wait_healthy(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Wait until /healthz answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):  # noqa: S310
                return
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


@contextmanager
def serving(command: list[str], environment: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server in its own process group until the block ends."""
    process = subprocess.Popen(
        command,
        env=environment,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_healthy(port, process)
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def post_json(url: str, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    """POST JSON with a bearer token."""
    request = urllib.request.Request(  # noqa: S310 - a local http:// URL
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
