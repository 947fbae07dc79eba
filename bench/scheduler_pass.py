"""Benchmark: one scheduler pass with 1,000 operations and 10,000 reviews (target: under one second).

Usage: python bench/scheduler_pass.py [--operations 1000]

Seeds a fresh database in bulk (operations, members, authorizations, two active profiles each, ten
reviews per authorization, decisions on most past ones, a tenth of the operations with an undecided
review overdue past its grace period), then times `decoy scheduler --once` work (lock, checkpoint,
reviews: generation, enforcement, notices; outbox) three times: the first pass catches up (suspends,
escalates), the later ones find nothing new, which is what a scheduler does every minute.
Runs on SQLite, and on PostgreSQL too when DECOY_BENCH_DATABASE_URL is set (a throw-away database).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REVIEWS_PER_OPERATION = 10


def _rows(operations: int) -> dict[str, list[dict[str, Any]]]:
    """Every row to insert, by table."""
    tables: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in (
            "operation",
            "operation_member",
            "legal_authorization",
            "profile",
            "review",
            "review_decision",
        )
    }
    review_id = 0
    for number in range(1, operations + 1):
        start = NOW - timedelta(days=100, hours=number % 24)
        tables["operation"].append(
            {
                "id": number,
                "name": f"Operation {number:05d}",
                "team": "bench",
                "status": "active",
                "timezone": "Europe/Amsterdam",
                "description": "",
                "created_by": 1,
                "created_at": start,
            }
        )
        for user_id in (1, 2):
            tables["operation_member"].append(
                {"operation_id": number, "user_id": user_id, "added_by": 1, "added_at": start}
            )
        until = start + timedelta(days=300)
        tables["legal_authorization"].append(
            {
                "id": number,
                "operation_id": number,
                "reference": f"OvJ-{number:05d}",
                "kind": "ovj_order",
                "authority": "Public Prosecution Service",
                "issuer_name": "",
                "legal_basis": "art. 126j Sv",
                "offence": "",
                "suspect_description": "",
                "justification": "",
                "method": "",
                "issued_on": None,
                "valid_from": start,
                "valid_until": until,
                "review_interval_days": 30,
                "platforms": ["chatapp"],
                "persona_constraints": "",
                "may_initiate_contact": False,
                "max_profiles": 5,
                "conditions": "",
                "written_order_due": None,
                "supersedes_id": None,
                "registered_by": 2,
                "registered_at": start,
            }
        )
        for handle in ("a", "b"):
            tables["profile"].append(
                {
                    "operation_id": number,
                    "authorization_id": number,
                    "platform": "chatapp",
                    "handle": f"{handle}{number}",
                    "persona": "",
                    "status": "active",
                    "proposed_by": 1,
                    "proposed_at": start,
                    "approved_by": 3,
                    "approved_at": start,
                }
            )
        dues = [(f"periodic:{number}:{n}", "periodic", start + timedelta(days=30 * n)) for n in range(1, 10)]
        dues.append((f"expiry:{number}", "before_expiry", until - timedelta(days=14)))
        for key, kind, due in dues:
            review_id += 1
            tables["review"].append(
                {
                    "id": review_id,
                    "key": key,
                    "operation_id": number,
                    "authorization_id": number,
                    "kind": kind,
                    "trigger": "",
                    "contact_id": None,
                    "flag": "",
                    "due_at": due,
                    "created_at": start,
                }
            )
            overdue_left = number % 10 == 0 and due > NOW - timedelta(days=30)
            if due < NOW and not overdue_left:
                tables["review_decision"].append(
                    {
                        "review_id": review_id,
                        "decision": "continue",
                        "rationale": "Within the order.",
                        "decided_by": 2,
                        "decided_at": due,
                        "profiles": [],
                    }
                )
    return tables


def seed(app: Any, operations: int) -> float:
    """Create the accounts through the services and everything else in bulk; return the seconds taken."""
    from sqlmodel import SQLModel

    from decoy.auth import services as accounts
    from decoy.db import session_scope
    from decoy.models import VerificationRun

    began = time.perf_counter()
    with app.app_context():
        with session_scope(app) as session:
            for name, role in (("sam", "supervisor"), ("lena", "legal"), ("sara", "supervisor")):
                accounts.create_user(
                    session=session,
                    actor="bench",
                    username=name,
                    password="x" * 16,
                    roles=[role],
                    code=f"BENCH-{name.upper()}",
                    email=f"{name}@example.test",
                )
        tables = _rows(operations)
        with session_scope(app) as session:
            for name, rows in tables.items():
                table = SQLModel.metadata.tables[name]
                for start in range(0, len(rows), 2000):
                    session.execute(table.insert(), rows[start : start + 2000])
            # The nightly verification ran a minute ago, so `--once` does not verify here.
            session.add(
                VerificationRun(
                    started_at=NOW,
                    finished_at=NOW,
                    ok=True,
                    entries=0,
                    checkpoints=0,
                    reason="",
                    trigger="bench",
                    actor="bench",
                )
            )
        if app.extensions["decoy.engine"].dialect.name == "postgresql":
            with session_scope(app) as session:
                for name in tables:
                    if name not in ("operation_member", "review_decision"):
                        # Table names are this script's own constants, not input.
                        statement = f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"  # noqa: E501, S608
                        session.connection().exec_driver_sql(statement)
    return time.perf_counter() - began


def run(url: str | None, operations: int) -> None:
    """Seed one database and time three passes."""
    from decoy import create_app
    from decoy.cli import initialise
    from decoy.clock import FrozenClock
    from decoy.jobs import run_once

    with tempfile.TemporaryDirectory() as folder:
        config: dict[str, Any] = {
            "ENV": "development",
            "DATA_DIR": folder,
            "SECRET_KEY": "bench",
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 1024,
            "CLOCK": FrozenClock(NOW),
        }
        if url:
            config["DATABASE_URL"] = url
        app = create_app(config)
        with app.app_context():
            initialise(app)
        seeded = seed(app, operations)
        label = "PostgreSQL" if url else "SQLite"
        from sqlmodel import func, select

        from decoy.db import session_scope
        from decoy.models import Review

        with app.app_context(), session_scope(app) as session:
            reviews = int(session.exec(select(func.count()).select_from(Review)).one())
        print(f"{label}: seeded {operations} operations, {reviews} reviews in {seeded:.1f} s")  # noqa: T201
        timings = []
        for number in range(4):
            began = time.perf_counter()
            outcomes = run_once(app, wait_seconds=5)
            timings.append(time.perf_counter() - began)
            summary = "; ".join(f"{name}: {outcome}" for name, outcome in outcomes)
            print(f"  pass {number + 1}: {timings[-1]:.3f} s  ({summary})")  # noqa: T201
        steady = statistics.median(timings[1:])
        verdict = "under" if steady < 1 else "OVER"
        print(
            f"  {label}: catch-up pass {timings[0]:.3f} s; steady pass (median of 3) {steady:.3f} s "  # noqa: T201
            f"— {verdict} the one-second target"
        )
        app.extensions["decoy.engine"].dispose()


def _postgres(url: str) -> tuple[str, Any]:
    """A throw-away database beside ``url``, and the function that drops it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"decoy_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(url).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    """Run on SQLite, then on PostgreSQL when DECOY_BENCH_DATABASE_URL is set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=1000)
    arguments = parser.parse_args()
    run(None, arguments.operations)
    url = os.environ.get("DECOY_BENCH_DATABASE_URL")
    if url:
        database, drop = _postgres(url)
        try:
            run(database, arguments.operations)
        finally:
            drop()


if __name__ == "__main__":
    main()
