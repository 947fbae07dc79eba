"""Processes for reliability tests: a private PostgreSQL server, `decoy` commands and `decoy serve`.

Every server listens on 127.0.0.1 only; every wait is bounded; process groups are killed on the way out.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import code_for

DECOY = str(Path(sys.executable).with_name("decoy"))
PG_BINDIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                    key=lambda path: [int(p) for p in path.parent.name.split(".") if p.isdigit()])
PG_BIN = next((path for path in reversed(PG_BINDIRS) if (path / "initdb").is_file()), None)
#: A reliability test that starts its own PostgreSQL runs in the SQLite pass of scripts/test only.
ON_PG_PASS = bool(os.environ.get("DECOY_TEST_DATABASE_URL"))
OWN_PG_SKIP = "starts its own PostgreSQL server: runs once, in the SQLite pass of scripts/test"
NO_PG_SKIP = "PostgreSQL server binaries absent (Debian package postgresql)"
PASSWORD = "reliability password 2026"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def decoy_env(data_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a `decoy` subprocess on ``data_dir`` (and ``database_url``)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DECOY_")}
    environment["DECOY_DATA_DIR"] = str(data_dir)
    if database_url:
        environment["DECOY_DATABASE_URL"] = database_url
    environment.update(extra)
    return environment


def run_decoy(args: list[str], environment: Mapping[str, str], *, stdin: str | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a `decoy` command to its end (bounded)."""
    return subprocess.run([DECOY, *args], env=dict(environment), input=stdin, capture_output=True, text=True,
                          timeout=timeout, check=False)


def kill_group(process: subprocess.Popen[Any], sig: int = signal.SIGKILL, timeout: float = 20) -> None:
    """Signal the process group of ``process`` and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


# ---------------------------------------------------------------- PostgreSQL


class PostgresServer:
    """A throw-away PostgreSQL cluster on 127.0.0.1 (run as `postgres` when we are root)."""

    def __init__(self, base: Path) -> None:
        if PG_BIN is None:
            raise RuntimeError(NO_PG_SKIP)
        self.base = base
        self.data = base / "data"
        self.port = free_port()
        self.log = base / "server.log"

    def _as_postgres(self, *command: str, timeout: float = 120) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=timeout,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")

    def init(self) -> PostgresServer:
        """Create the cluster (user ``decoy``, trust on 127.0.0.1)."""
        self.base.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "decoy", "--auth=trust",
                          "-E", "UTF8")
        return self

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c max_connections=200 "
                   "-c fsync=on")
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                          "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate`` is a crash as far as clients can tell)."""
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60",
                              "stop")

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database``."""
        return f"postgresql+psycopg://decoy@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh empty database; returns its URL."""
        import psycopg

        name = f"decoy_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(f"postgresql://decoy@127.0.0.1:{self.port}/postgres", autocommit=True,
                             connect_timeout=10) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A running private PostgreSQL server, stopped (immediately) and removed on the way out.

    Its folder is a fresh one under /tmp (as scripts/test does), which the `postgres` user can reach.
    """
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="decoy-pg.", dir="/tmp"))
    try:
        server = PostgresServer(base).init()
        server.start()
        try:
            yield server
        finally:
            server.stop("immediate")
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------- Decoy


def initialise(environment: Mapping[str, str], users: Mapping[str, list[str]]) -> dict[str, str]:
    """`decoy init`, the given accounts and a bearer token each; returns the tokens."""
    done = run_decoy(["init"], environment)
    assert done.returncode == 0, done.stderr
    tokens = {}
    for name, roles in users.items():
        role_args = [arg for role in roles for arg in ("--role", role)]
        if set(roles) - {"admin"}:
            role_args += ["--code", code_for(name)]
        done = run_decoy(["user", "add", name, *role_args], environment, stdin=PASSWORD + "\n")
        assert done.returncode == 0, done.stderr
        done = run_decoy(["token", "create", name], environment)
        assert done.returncode == 0, done.stderr
        tokens[name] = done.stdout.strip().splitlines()[-1]
    return tokens


@dataclass
class Server:
    """A running `decoy serve` (gunicorn) on 127.0.0.1."""

    process: subprocess.Popen[Any]
    port: int
    log: Path

    @property
    def base(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        """What the server wrote so far (for failure messages)."""
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def start_server(environment: Mapping[str, str], log: Path, *, workers: int = 2, wait: float = 60,
                 preexec_fn: Callable[[], None] | None = None, port: int | None = None,
                 wrapper: list[str] | None = None) -> Server:
    """Start `decoy serve` (behind the command prefix ``wrapper``) in a process group; wait for /healthz."""
    port = port or free_port()
    with log.open("ab") as sink:
        process = subprocess.Popen(  # noqa: S603
            [*(wrapper or []), DECOY, "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers)],
            env=dict(environment), stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=preexec_fn is None,
            preexec_fn=_new_session_then(preexec_fn) if preexec_fn else None,
        )
    server = Server(process, port, log)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"decoy serve exited with {process.returncode}:\n{server.output()}")
        try:
            status, _ = request("GET", f"{server.base}/healthz", timeout=2)
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    kill_group(process)
    raise RuntimeError(f"decoy serve did not answer /healthz within {wait}s:\n{server.output()}")


def _new_session_then(function: Callable[[], None]) -> Callable[[], None]:
    def prepare() -> None:
        os.setsid()
        function()

    return prepare


@contextlib.contextmanager
def running_server(environment: Mapping[str, str], log: Path, **options: Any) -> Iterator[Server]:
    """`decoy serve` for the duration of the block; its process group is killed afterwards."""
    server = start_server(environment, log, **options)
    try:
        yield server
    finally:
        kill_group(server.process, signal.SIGTERM)


# ---------------------------------------------------------------- HTTP


def request(method: str, url: str, *, token: str | None = None, body: bytes | None = None,
            content_type: str | None = None, timeout: float = 30) -> tuple[int, bytes]:
    """One HTTP request (bounded); returns status and body, also for error statuses."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if content_type:
        headers["Content-Type"] = content_type
    call = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(call, timeout=timeout) as answer:  # noqa: S310  # nosec B310
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def post_json(url: str, payload: Any, *, token: str, timeout: float = 30) -> tuple[int, Any]:
    """POST JSON; returns status and decoded JSON (or the raw text)."""
    status, raw = request("POST", url, token=token, body=json.dumps(payload).encode(),
                          content_type="application/json", timeout=timeout)
    return status, _decode(raw)


def multipart(fields: Mapping[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """Encode form fields and files (name, filename, content) as multipart/form-data."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(head.encode() + value.encode() + b"\r\n")
    for name, filename, content in files:
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n")
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


@dataclass
class Tally:
    """Answers counted by status, and what every 201/200 write answered."""

    statuses: dict[int, int] = field(default_factory=dict)
    confirmed: list[Any] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def count(self, status: int) -> None:
        """Count one answer."""
        self.statuses[status] = self.statuses.get(status, 0) + 1
