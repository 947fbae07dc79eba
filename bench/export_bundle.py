"""Benchmark: export an operation with many messages and large attachments; print time and peak memory.

Usage: python bench/export_bundle.py [--messages 10000] [--attachment-mb 1024] [--files 64]

It builds a fresh data directory (SQLite) in a temporary folder, records the messages through the real
services (each with its audit entry), stores the attachments through the evidence store, then runs
`decoy export` in a child process and reports its wall time and peak resident memory, beside the time
`zip -r` takes to compress the same attachment files in the same run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def seed(data_dir: Path, messages: int, attachment_bytes: int, files: int) -> int:
    """Create accounts, one operation with one profile and contact, the messages and attachments."""
    os.environ["DECOY_DATA_DIR"] = str(data_dir)
    from decoy import create_app
    from decoy.auth import services as accounts
    from decoy.auth.principal import Principal
    from decoy.cli import initialise
    from decoy.db import session_scope
    from decoy.evidence import services as evidence
    from tests.factories import make_authorization, make_operation, make_profile

    app = create_app({"ENV": "development", "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
                      "MAX_ATTACHMENT_BYTES": 1 << 40})
    with app.app_context():
        initialise(app)
        with session_scope(app) as session:
            for name, role in (("sam", "supervisor"), ("sara", "supervisor"), ("lena", "legal"),
                               ("dora", "detective")):
                accounts.create_user(session=session, actor="bench", username=name, password="x" * 16,
                                     roles=[role], code=f"BENCH-{name.upper()}")
    operation = make_operation(app, "sam", name="Operation Benchmark", members=("dora",))
    authorization = make_authorization(app, "lena", operation)
    profile = make_profile(app, operation, authorization, "sam", approver="sara", handle="bench_profile")
    chunk = attachment_bytes // max(files, 1)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with app.app_context():
        with session_scope(app) as session:
            user = accounts.find_user(session, "dora")
            actor = Principal(user, accounts.user_roles(session, user))
            contact = evidence.create_contact(session=session, actor=actor, profile_id=profile,
                                              counterpart="bench_counterpart")
            contact_id = contact.id
        for number in range(messages):
            with session_scope(app) as session:
                user = accounts.find_user(session, "dora")
                actor = Principal(user, accounts.user_roles(session, user))
                attachments = []
                if number < files:
                    attachments = [(_RandomStream(chunk, seed=number), f"capture-{number}.bin")]
                evidence.log_message(session=session, actor=actor, contact_id=contact_id,
                                     direction="in" if number % 2 else "out",
                                     sent_at=start + timedelta(seconds=number),
                                     body=f"hello, how are you ({number})", files=attachments)
    return operation


class _RandomStream:
    """A file-like object of pseudo-random bytes (incompressible, like screenshots)."""

    def __init__(self, size: int, seed: int) -> None:
        self.remaining = size
        self.block = os.urandom(1 << 20)
        self.seed = seed

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        size = min(self.remaining, len(self.block) if size < 0 else size)
        self.remaining -= size
        return self.block[:size]


def child_peak_rss_mb() -> float:
    """Peak resident memory of the largest finished child, in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--attachment-mb", type=int, default=1024)
    parser.add_argument("--files", type=int, default=64)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="decoy-export-bench-"))
    try:
        data_dir = work / "instance"
        began = time.perf_counter()
        operation = seed(data_dir, args.messages, args.attachment_mb << 20, args.files)
        print(f"seeded {args.messages} messages and {args.attachment_mb} MB of attachments "
              f"in {time.perf_counter() - began:.1f} s")
        env = {**os.environ, "DECOY_DATA_DIR": str(data_dir), "DECOY_ENV": "development"}
        began = time.perf_counter()
        command = [sys.executable, "-m", "decoy.cli", "export", str(operation), "-o", str(work / "b.zip")]
        subprocess.run(command, check=True, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
        export_seconds = time.perf_counter() - began
        export_rss = child_peak_rss_mb()
        began = time.perf_counter()
        subprocess.run(["zip", "-q", "-r", str(work / "plain.zip"), "attachments"], check=True, cwd=data_dir)
        zip_seconds = time.perf_counter() - began
        size_mb = (work / "b.zip").stat().st_size / (1 << 20)
        verify = subprocess.run([sys.executable, "-m", "audit", "verify", str(work / "b.zip")],
                                capture_output=True, text=True, cwd=ROOT, check=False)
        print(f"export: {export_seconds:.1f} s, bundle {size_mb:.0f} MB, peak RSS {export_rss:.0f} MB "
              f"(target < 200 MB)")
        print(f"zip -r of the same attachments: {zip_seconds:.1f} s; export/zip = "
              f"{export_seconds / zip_seconds:.2f} (target <= 2)")
        print(f"offline verification: {verify.stdout.strip()} (exit {verify.returncode})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
