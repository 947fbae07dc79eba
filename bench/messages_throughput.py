"""Benchmark: messages logged per second over HTTP with 1, 8 and 32 connections (wrk), beside the floor:
the database driver alone doing one durable insert of the same text per request, in a minimal Flask app
under the same gunicorn settings (bench/messages_bare.py), in one run.

Runs on SQLite, and on PostgreSQL too when DECOY_BENCH_DATABASE_URL names a server (a fresh database is
made and dropped). Every Decoy request does the whole job: token check, access and role checks, all five
flag rules, the message row and its audit entry, committed durably before the 201.

Each concurrency runs ROUNDS times (default 3) for SECONDS (default 5) on each server, alternately, and
prints the medians, with the lowest and highest ratio of a round.

Usage: python bench/messages_throughput.py [seconds per run] [workers] [rounds] (--help)
Needs wrk (Debian: apt-get install -y wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
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
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()} {done.stdout.strip()}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    p99 = re.search(r"^\s+99%\s+(\S+)", done.stdout, re.MULTILINE)
    return rate, int(errors.group(1)) if errors else 0, p99.group(1) if p99 else "?"


def bench(label: str, site: Site, seconds: int, workers: int, rounds: int) -> None:
    """Decoy and the bare endpoint, alternately, ``rounds`` times at each concurrency."""
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
    print(f"\n{label}: {workers} gunicorn sync workers each, {rounds} rounds of {seconds} s per server")
    print(
        f"{'connections':>11} {'decoy msg/s':>12} {'floor msg/s':>11} {'ratio':>6} {'range':>11} "
        f"{'decoy p99':>10} {'floor p99':>9} {'errors':>7}"
    )
    with (
        serving(decoy_server, site.environment, decoy_port),
        serving(bare_server, site.environment, bare_port),
    ):
        for connections in CONNECTIONS:
            # Rounds alternate the two servers, so that a slow spell of a shared machine falls on both;
            # the figures are medians over the rounds, the ratio the median of each round's ratio.
            runs = []
            for _ in range(rounds):
                bare = run_wrk(bare_url, bare_script, connections, seconds)
                decoy = run_wrk(decoy_url, decoy_script, connections, seconds)
                runs.append((decoy, bare))
            decoy_rate = statistics.median(decoy[0] for decoy, _ in runs)
            bare_rate = statistics.median(bare[0] for _, bare in runs)
            ratios = sorted(decoy[0] / bare[0] for decoy, bare in runs)
            errors = sum(decoy[1] + bare[1] for decoy, bare in runs)
            decoy_p99, bare_p99 = runs[-1][0][2], runs[-1][1][2]
            print(
                f"{connections:>11} {decoy_rate:>12.1f} {bare_rate:>11.1f} {statistics.median(ratios):>6.2f} "
                f"{ratios[0]:>5.2f}-{ratios[-1]:<5.2f} {decoy_p99:>10} {bare_p99:>9} {errors:>7}",
                flush=True,
            )


def main() -> None:
    """Run on SQLite, then PostgreSQL if configured."""
    parser = argparse.ArgumentParser(
        description="Messages per second of Decoy beside the driver's floor, on SQLite and, when "
        "DECOY_BENCH_DATABASE_URL names a PostgreSQL server (a fresh database is made there), PostgreSQL."
    )
    parser.add_argument("seconds", nargs="?", type=int, default=5, help="seconds per run (default 5)")
    parser.add_argument(
        "workers", nargs="?", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn workers per server"
    )
    parser.add_argument("rounds", nargs="?", type=int, default=3, help="alternating rounds (default 3)")
    arguments = parser.parse_args()
    seconds, workers, rounds = arguments.seconds, arguments.workers, arguments.rounds
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    print(f"messages logged per second over HTTP; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="decoy-bench-") as directory:
        site = prepare(Path(directory) / "sqlite")
        bench("sqlite", site, seconds, workers, rounds)
        admin_url = os.environ.get("DECOY_BENCH_DATABASE_URL")
        if not admin_url:
            print("\npostgresql skipped: set DECOY_BENCH_DATABASE_URL")
            return
        site = prepare(Path(directory) / "postgresql", admin_url)
        try:
            bench("postgresql", site, seconds, workers, rounds)
        finally:
            site.dispose()


if __name__ == "__main__":
    main()
