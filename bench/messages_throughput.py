"""Benchmark: messages logged per second over HTTP with 1, 8 and 32 connections (wrk), beside a bare
Flask endpoint doing one durable insert of the same text under the same gunicorn settings, in one run.

Runs on SQLite, and on PostgreSQL too when DECOY_BENCH_DATABASE_URL names a server (a fresh database is
made and dropped). Every Decoy request does the whole job: token check, access and role checks, all five
flag rules, the message row and its audit entry, committed durably before the 201.

Usage: python bench/messages_throughput.py [seconds per run] [workers]
Needs wrk (Debian: apt-get install -y wrk).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from messages_setup import ROOT, Site, decoy_command, free_port, prepare, serving  # noqa: E402

CONNECTIONS = (1, 8, 32)
#: Within the authorization (now), so that the usual path is measured; flags are computed either way.
BODY = {
    "direction": "in",
    "sent_at": datetime.now(timezone(timedelta(hours=1))).replace(microsecond=0).isoformat(),
    "body": "hello, how are you",
}
SCRIPT = """wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
"""


def run_wrk(url: str, script: Path, connections: int, seconds: int) -> tuple[float, int, str]:
    """Requests per second, non-2xx answers and the latency line of one wrk run."""
    done = subprocess.run(
        [
            "wrk",
            "-t",
            str(min(connections, 2)),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    p99 = re.search(r"^\s+99%\s+(\S+)", done.stdout, re.MULTILINE)
    return rate, int(errors.group(1)) if errors else 0, p99.group(1) if p99 else "?"


def bench(label: str, site: Site, seconds: int, workers: int) -> None:
    """Decoy and the bare endpoint, alternately, at each concurrency."""
    decoy_port, bare_port = free_port(), free_port()
    scripts = Path(site.data_dir) / "wrk"
    scripts.mkdir(exist_ok=True)
    decoy_script = scripts / "decoy.lua"
    decoy_script.write_text(SCRIPT.format(body=json.dumps(BODY), token=site.token))
    bare_script = scripts / "bare.lua"
    bare_script.write_text(SCRIPT.format(body=json.dumps(BODY), token="none"))  # noqa: S106 - the bare app takes no token
    decoy_server = [*decoy_command(), "serve", "--port", str(decoy_port), "--workers", str(workers)]
    bare_server = [
        sys.executable,
        str(ROOT / "bench" / "messages_bare.py"),
        site.database_url,
        str(bare_port),
        str(workers),
    ]
    decoy_url = f"http://127.0.0.1:{decoy_port}/api/v1/contacts/{site.contact_id}/messages"
    bare_url = f"http://127.0.0.1:{bare_port}/bare"
    print(f"\n{label}: {workers} gunicorn sync workers each, {seconds} s per run")
    print(
        f"{'connections':>11} {'decoy msg/s':>12} {'bare msg/s':>11} {'ratio':>6} "
        f"{'decoy p99':>10} {'bare p99':>9} {'errors':>7}"
    )
    with (
        serving(decoy_server, site.environment, decoy_port),
        serving(bare_server, site.environment, bare_port),
    ):
        for connections in CONNECTIONS:
            bare_rate, bare_errors, bare_p99 = run_wrk(bare_url, bare_script, connections, seconds)
            decoy_rate, decoy_errors, decoy_p99 = run_wrk(decoy_url, decoy_script, connections, seconds)
            print(
                f"{connections:>11} {decoy_rate:>12.1f} {bare_rate:>11.1f} {decoy_rate / bare_rate:>6.2f} "
                f"{decoy_p99:>10} {bare_p99:>9} {decoy_errors + bare_errors:>7}",
                flush=True,
            )


def main() -> None:
    """Run on SQLite, then PostgreSQL if configured."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2 * (os.cpu_count() or 1)
    print(f"messages logged per second over HTTP; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="decoy-bench-") as directory:
        site = prepare(Path(directory) / "sqlite")
        bench("sqlite", site, seconds, workers)
        admin_url = os.environ.get("DECOY_BENCH_DATABASE_URL")
        if not admin_url:
            print("\npostgresql skipped: set DECOY_BENCH_DATABASE_URL")
            return
        site = prepare(Path(directory) / "postgresql", admin_url)
        try:
            bench("postgresql", site, seconds, workers)
        finally:
            site.dispose()


if __name__ == "__main__":
    main()
