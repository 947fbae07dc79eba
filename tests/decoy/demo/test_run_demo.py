"""What `scripts/run-demo` and the README promise a new user: the demo accounts sign in with the demo
password and `decoy demo-code NAME`, and a busy port is reported before anything starts."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from decoy.cli import main
from decoy.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.support import csrf_from

RUN_DEMO = Path(__file__).resolve().parents[3] / "scripts" / "run-demo"


def test_every_demo_account_signs_in_with_the_password_and_its_demo_code(app, runner, clock):
    # `decoy demo-code` reads the wall clock, as it does for a user; the app's clock agrees with it.
    clock.set(datetime.now(UTC))
    loaded = runner.invoke(main, ["demo"])
    assert loaded.exit_code == 0, loaded.output
    assert DEMO_PASSWORD in loaded.output
    for username, _name, roles, _code in DEMO_ACCOUNTS:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                                "csrf_token": csrf_from(page)})
        assert response.status_code == 302, response.get_data(as_text=True)
        # Straight to the code: no enrolment, no new password.
        assert response.headers["Location"].endswith("/login/code"), response.headers["Location"]
        page = client.get("/login/code").get_data(as_text=True)
        assert 'name="new_password"' not in page
        shown = runner.invoke(main, ["demo-code", username])
        assert shown.exit_code == 0, shown.output
        code = shown.output.strip()
        assert code.isdigit() and len(code) == 6
        response = client.post("/login/code", data={"code": code, "csrf_token": csrf_from(page)})
        assert response.status_code == 302, response.get_data(as_text=True)
        assert response.headers["Location"] == "/"
        home = client.get("/", follow_redirects=True)  # an administrator's home is the accounts screen
        assert home.status_code == 200
        assert home.request.path == ("/admin/users" if roles == ["admin"] else "/")


def test_demo_code_refuses_a_name_that_is_no_demo_account(runner):
    assert runner.invoke(main, ["demo"]).exit_code == 0
    result = runner.invoke(main, ["demo-code", "nobody"])
    assert result.exit_code != 0
    assert "no demo account" in result.output


def _run_demo(*arguments: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DECOY_DATA_DIR": str(data_dir)}
    return subprocess.run(["bash", str(RUN_DEMO), *arguments], capture_output=True, text=True,
                          env=environment, timeout=60, check=False)


@pytest.mark.skipif(shutil.which("python3") is None, reason="run-demo needs python3 on the PATH")
def test_run_demo_stops_at_a_busy_port_before_installing_or_starting_anything(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = _run_demo("--port", str(port), data_dir=tmp_path / "demo")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port" in result.stderr
    assert "Decoy runs at" not in result.stdout + result.stderr
    assert not (tmp_path / "demo").exists()


@pytest.mark.parametrize("arguments", [("--port", "http"), ("--port", "70000"), ("--port",), ("--bogus",)])
def test_run_demo_refuses_arguments_it_does_not_know(tmp_path, arguments):
    result = _run_demo(*arguments, data_dir=tmp_path / "demo")
    assert result.returncode == 2
    assert "usage" in result.stderr or "--port takes" in result.stderr
    assert not (tmp_path / "demo").exists()
