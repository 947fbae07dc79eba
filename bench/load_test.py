"""Load test: `decoy serve` (gunicorn, several workers) on a private PostgreSQL on 127.0.0.1.

32 writer processes log messages with attachments (multipart, 8-200 KiB each) for 60 seconds while
reader processes fetch transcript pages (HTML, signed in with two factors) and the API's transcript,
and `decoy scheduler` runs. Prints requests per second and p50/p95/p99 per kind and the errors; then
checks that every message answered 201 is stored and that `decoy audit verify` exits 0.

The client is a multi-process Python client rather than wrk: each writer must send a multipart
upload with a fresh attachment and keep the id of every 201 for the check at the end, which wrk's Lua
scripting makes impractical (no per-request bodies from files, no collected answers).

Usage: python bench/load_test.py [--seconds 60] [--writers 32] [--readers 4] [--workers 5]
                                [--store files|database]
Needs Debian's postgresql package (server binaries); not run in CI.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability.support import (  # noqa: E402
    DECOY,
    PASSWORD,
    decoy_env,
    initialise,
    kill_group,
    multipart,
    postgres_server,
    request,
    run_decoy,
    start_server,
)
from tests.reliability.workload import USERS, make_app, seed_profile  # noqa: E402

READERS = {f"reader{number}": ["detective"] for number in range(8)}


def writer(base: str, token: str, contact_id: int, seconds: float, results: multiprocessing.Queue) -> None:
    """Log messages with one attachment each until the time is up; report (kind, status, seconds, id)."""
    rng = random.Random(os.getpid())
    deadline = time.monotonic() + seconds
    samples = []
    while time.monotonic() < deadline:
        content = rng.randbytes(rng.randint(8, 200) * 1024)
        fields = {"direction": "in", "sent_at": "2026-03-02T10:00:00+01:00",
                  "body": f"load {os.getpid()} {rng.random()}"}
        body, content_type = multipart(fields, [("attachments", "capture.png", content)])
        started = time.monotonic()
        try:
            status, raw = request("POST", f"{base}/api/v1/contacts/{contact_id}/messages", token=token,
                                  body=body, content_type=content_type, timeout=60)
            message_id = json.loads(raw)["id"] if status == 201 else None
        except OSError as error:
            status, message_id = type(error).__name__, None
        samples.append(("message+attachment", str(status), time.monotonic() - started, message_id))
    results.put(samples)


def _login(base: str, username: str, secret: str) -> urllib.request.OpenerDirector:
    """A session signed in through the real forms with a TOTP code (enrolling on the first login)."""
    import pyotp

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def form(path: str, fields: dict[str, str]) -> str:
        page = opener.open(f"{base}{path}", timeout=30).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        data = urllib.parse.urlencode({**fields, "csrf_token": token.group(1) if token else ""}).encode()
        answer = opener.open(urllib.request.Request(f"{base}{path}", data=data), timeout=30)  # noqa: S310
        return str(answer.geturl())

    landed = form("/login", {"username": username, "password": PASSWORD})
    form(urllib.parse.urlparse(landed).path, {"code": pyotp.TOTP(secret).now()})
    return opener


def reader(base: str, token: str, username: str, secret: str, contact_id: int, seconds: float,
           results: multiprocessing.Queue) -> None:
    """Alternate the HTML transcript page and the API transcript until the time is up."""
    samples = []
    try:
        opener = _login(base, username, secret)
    except OSError as error:
        opener = None
        samples.append(("login", type(error).__name__, 0.0, None))
    deadline = time.monotonic() + seconds
    turn = 0
    while time.monotonic() < deadline:
        turn += 1
        started = time.monotonic()
        try:
            if opener is not None and turn % 2:
                kind = "transcript page (HTML)"
                with opener.open(f"{base}/contacts/{contact_id}", timeout=60) as answer:
                    answer.read()
                    status = str(answer.status)
            else:
                kind = "transcript (API, 100 items)"
                code, _raw = request("GET", f"{base}/api/v1/contacts/{contact_id}/messages?limit=100",
                                     token=token, timeout=60)
                status = str(code)
        except urllib.error.HTTPError as error:
            status = str(error.code)
        except OSError as error:
            status = type(error).__name__
        samples.append((kind, status, time.monotonic() - started, None))
    results.put(samples)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def _totp_secrets(environment: dict[str, str], names: list[str]) -> dict[str, str]:
    """The TOTP secrets of freshly added accounts (read back through the application, like `user add`)."""
    from decoy.auth import services
    from decoy.db import session_scope

    app = make_app(environment)
    with app.app_context(), session_scope(app) as session:
        return {name: services.totp_secret(services.find_user(session, name)) for name in names}


def main() -> int:
    """Run the load, print the figures, check that nothing answered is missing and the log verifies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--writers", type=int, default=32)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=max(2, 2 * (os.cpu_count() or 1) + 1))
    parser.add_argument("--store", choices=("files", "database"), default="files",
                        help="where attachments are kept (DECOY_ATTACHMENT_STORE)")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="decoy-load."))
    with postgres_server() as database:
        environment = decoy_env(work / "data", database.create_database(),
                                DECOY_ATTACHMENT_STORE=options.store)
        tokens = initialise(environment, {**USERS, **dict(list(READERS.items())[:options.readers])})
        secrets = _totp_secrets(environment, list(READERS)[:options.readers])
        profile_id = seed_profile(environment)
        server = start_server(environment, work / "serve.log", workers=options.workers)
        scheduler = subprocess.Popen([DECOY, "scheduler"], env=environment, stdout=subprocess.DEVNULL,
                                     stderr=open(work / "scheduler.log", "wb"), start_new_session=True)  # noqa: SIM115
        try:
            contacts = []
            for number in range(8):
                status, raw = request("POST", f"{server.base}/api/v1/profiles/{profile_id}/contacts",
                                      token=tokens["dana"], body=json.dumps({"counterpart": f"load_{number}"})
                                      .encode(), content_type="application/json")
                assert status == 201, raw
                contacts.append(json.loads(raw)["id"])
            results: multiprocessing.Queue = multiprocessing.Queue()
            processes = [multiprocessing.Process(target=writer, args=(
                server.base, tokens["dana"], contacts[number % len(contacts)], options.seconds, results))
                for number in range(options.writers)]
            processes += [multiprocessing.Process(target=reader, args=(
                server.base, tokens[name], name, secrets[name], contacts[0], options.seconds, results))
                for name in list(READERS)[:options.readers]]
            readers_may_see(environment, list(READERS)[:options.readers], profile_id)
            print(f"load: {options.writers} writers, {options.readers} readers, {options.workers} gunicorn "
                  f"workers, {options.seconds:.0f} s, PostgreSQL on 127.0.0.1:{database.port}, "
                  f"attachments in {options.store}")
            started = time.monotonic()
            for process in processes:
                process.start()
            samples = []
            for _process in processes:
                samples.extend(results.get(timeout=options.seconds + 180))
            for process in processes:
                process.join(timeout=30)
            # Each client runs for exactly the given seconds once started; rates are over that window.
            elapsed = options.seconds
            print(f"(all clients done {time.monotonic() - started:.1f} s after the first started)")
        finally:
            kill_group(scheduler, signal.SIGTERM)
            kill_group(server.process, signal.SIGTERM)

        failures = _report(samples, elapsed)
        answered = {sample[3] for sample in samples if sample[3] is not None}
        app = make_app(environment)
        from sqlalchemy import text

        with app.extensions["decoy.engine"].connect() as connection:
            stored = {row[0] for row in connection.execute(text("SELECT id FROM message"))}
        app.extensions["decoy.engine"].dispose()
        missing = answered - stored
        print(f"messages answered 201: {len(answered)}; missing from the database: {len(missing)}")
        verified = run_decoy(["audit", "verify"], environment, timeout=600)
        print(f"decoy audit verify: exit {verified.returncode}: {verified.stdout.strip()}")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if not missing and verified.returncode == 0 and not failures else 1


def readers_may_see(environment: dict[str, str], names: list[str], profile_id: int) -> None:
    """Make the reader accounts members of the operation (set-up rows)."""
    from decoy import clock
    from decoy.auth import services
    from decoy.db import session_scope
    from decoy.models import OperationMember, Profile

    app = make_app(environment)
    with app.app_context(), session_scope(app) as session:
        operation_id = session.get(Profile, profile_id).operation_id
        supervisor = services.find_user(session, "sol")
        for name in names:
            member = services.find_user(session, name)
            session.add(OperationMember(operation_id=operation_id, user_id=member.id, added_by=supervisor.id,
                                        added_at=clock.now()))
    app.extensions["decoy.engine"].dispose()


def _report(samples: list[tuple[str, str, float, int | None]], elapsed: float) -> int:
    """Print the figures per kind; return the number of failed requests."""
    kinds = sorted({sample[0] for sample in samples})
    failures = 0
    print(f"{'kind':32} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  errors")
    for kind in kinds:
        rows = [sample for sample in samples if sample[0] == kind]
        good = [sample[2] for sample in rows if sample[1] in ("200", "201")]
        errors: dict[str, int] = {}
        for sample in rows:
            if sample[1] not in ("200", "201"):
                errors[sample[1]] = errors.get(sample[1], 0) + 1
        failures += sum(errors.values())
        p50, p95, p99 = (_percentile(good, fraction) * 1000 for fraction in (.5, .95, .99))
        print(f"{kind:32} {len(rows):>9} {len(rows) / elapsed:>8.1f} {p50:>8.0f} {p95:>8.0f} {p99:>8.0f}  "
              f"{errors or 'none'}")
    print(f"all kinds: {len(samples)} requests in {elapsed:.1f} s = {len(samples) / elapsed:.1f} req/s")
    return failures


if __name__ == "__main__":
    sys.exit(main())
