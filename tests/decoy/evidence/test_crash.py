"""A server killed with SIGKILL during concurrent uploads loses no message it answered 201 for."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from decoy import create_app
from tests.factories import make_authorization, make_operation, make_profile
from tests.support import code_for

from .support import authorization_terms

DECOY = [sys.executable, "-c", "from decoy.cli import main; main()"]
PASSWORD = "correct horse battery staple"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(data_dir: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DECOY_")}
    environment.update({"DECOY_DATA_DIR": str(data_dir), "DECOY_ENV": "production"})
    return environment


def _cli(environment: dict[str, str], *arguments: str, stdin: str = "") -> str:
    done = subprocess.run(
        [*DECOY, *arguments],
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _start(environment: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [*DECOY, "serve", "--port", str(port), "--workers", "3"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:  # noqa: S310
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    os.killpg(server.pid, signal.SIGKILL)
    raise AssertionError("the server did not start")


def _kill(server: subprocess.Popen[bytes], how: int = signal.SIGKILL) -> None:
    os.killpg(server.pid, how)
    server.wait(timeout=30)


def _request(
    url: str,
    token: str,
    body: bytes | None = None,
    content_type: str = "application/json",
    timeout: float = 10,
) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - a fixed http:// URL
        url,
        data=body,
        method="POST" if body is not None else "GET",
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _prepare(data_dir: Path) -> tuple[dict[str, str], str]:
    environment = _environment(data_dir)
    _cli(environment, "init")
    for name, role in (
        ("sam", "supervisor"),
        ("sol", "supervisor"),
        ("dana", "detective"),
        ("lena", "legal"),
    ):
        _cli(
            environment, "user", "add", name, "--role", role, "--code", code_for(name), stdin=PASSWORD + "\n"
        )
    app = create_app({"DATA_DIR": str(data_dir), "ENV": "production"})
    operation_id = make_operation(app, "sam", name="Operation Crash", members=("sol", "dana"))
    now = datetime.now(UTC)
    authorization_id = make_authorization(
        app,
        "lena",
        operation_id,
        **authorization_terms(valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=30)),
    )
    profile_id = make_profile(
        app, operation_id, authorization_id, "sam", approver="sol", platform="chatsite", handle="decoy_crash"
    )
    app.extensions["decoy.engine"].dispose()
    return environment, str(profile_id)


def test_sigkill_during_concurrent_uploads_loses_nothing_answered(tmp_path):
    data_dir = tmp_path / "instance"
    environment, profile_id = _prepare(data_dir)
    token = _cli(environment, "token", "create", "dana").strip().splitlines()[-1]
    port = _free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    server = _start(environment, port)
    status, contact = _request(
        f"{base}/profiles/{profile_id}/contacts", token, json.dumps({"counterpart": "crash_test"}).encode()
    )
    assert status == 201, contact
    answered: list[tuple[int, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def upload(worker: int) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            content = os.urandom(64 * 1024 + worker * 997 + number)
            body, content_type = _multipart(
                {
                    "direction": "in",
                    "sent_at": "2026-03-02T10:00:00+01:00",
                    "body": f"worker {worker} message {number}",
                },
                "shot.bin",
                content,
            )
            try:
                status, answer = _request(
                    f"{base}/contacts/{contact['id']}/messages", token, body, content_type
                )
            except (OSError, ValueError, http.client.HTTPException):
                continue  # the kill cut the answer short (a reset, or a body cut off mid-way)
            if status == 201:
                with lock:
                    answered.append((answer["id"], hashlib.sha256(content).hexdigest()))

    threads = [threading.Thread(target=upload, args=(n,), daemon=True) for n in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(answered) < 40:
        time.sleep(0.05)
    _kill(server)
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    assert answered, "no upload was answered before the kill"

    server = _start(environment, port)
    try:
        for message_id, sha256 in answered:
            status, message = _request(f"{base}/messages/{message_id}", token)
            assert status == 200, (message_id, message)
            assert [a["sha256"] for a in message["attachments"]] == [sha256]
    finally:
        _kill(server, signal.SIGTERM)
    store = data_dir / "attachments"
    for path in store.rglob("*"):
        if path.is_file() and path.parent.name != "incoming":
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, path
    verified = subprocess.run(
        [*DECOY, "audit", "verify"], env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
