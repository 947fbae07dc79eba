"""Audited writes over HTTP for fault tests, and the check that every confirmed write is stored.

The preferred write is the one the specification cares most about: a message logged on a contact
(``POST /api/v1/contacts/<id>/messages`` → 201). Until that API answers (issue 5 and the operations
services of issue 4), the fallback is a legal officer's read of the audit log
(``GET /api/v1/audit/entries`` → 200), which commits an ``audit.read`` entry naming its ``start``:
an audited change all the same, with a unique key per request.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from .support import post_json, request

DETECTIVE = "dana"
SUPERVISOR = "sol"
LEGAL = "lena"
#: The supervisor who approves the profile SUPERVISOR proposes (four eyes).
APPROVER = "sam"
USERS = {DETECTIVE: ["detective"], SUPERVISOR: ["supervisor"], APPROVER: ["supervisor"], LEGAL: ["legal"]}


def make_app(environment: Mapping[str, str]) -> Any:
    """An application object on the data directory and database of a subprocess environment."""
    from decoy import create_app

    config = {"DATA_DIR": environment["DECOY_DATA_DIR"]}
    if environment.get("DECOY_DATABASE_URL"):
        config["DATABASE_URL"] = environment["DECOY_DATABASE_URL"]
    return create_app(config)


def seed_profile(environment: Mapping[str, str]) -> int:
    """An operation with a valid authorization and an approved profile, made through the services."""
    from tests.factories import make_authorization, make_operation, make_profile

    app = make_app(environment)
    try:
        operation = make_operation(app, SUPERVISOR, name=f"Reliability {uuid.uuid4().hex[:6]}",
                                   members=(DETECTIVE, APPROVER))
        authorization = make_authorization(app, LEGAL, operation, reference="R-REL-1", platforms=["chatsite"],
                                           officers=[DETECTIVE])
        return make_profile(app, operation, authorization, SUPERVISOR, approver=APPROVER, platform="chatsite",
                            handle="reliable_decoy")
    finally:
        app.extensions["decoy.engine"].dispose()


@dataclass
class Outcome:
    """Every answer of a run: statuses, slowest answer, and the keys of confirmed writes."""

    statuses: dict[str, int] = field(default_factory=dict)
    confirmed: set[str] = field(default_factory=set)
    slowest: float = 0.0
    bad: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, status: str, seconds: float, key: str | None, detail: str) -> None:
        """Record one answer."""
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.slowest = max(self.slowest, seconds)
            if key is not None:
                self.confirmed.add(key)
            if status.startswith("5") and status != "503" and len(self.bad) < 20:
                self.bad.append(f"{status}: {detail[:300]}")


class Workload:
    """Writers that keep posting audited changes to a server until told to stop."""

    kind = "message"

    def __init__(self, base: str, tokens: Mapping[str, str], profile_id: int | None) -> None:
        self.base = base
        self.tokens = tokens
        self.contact_id: int | None = None
        self.counter = itertools.count()
        if profile_id is not None:
            status, answer = post_json(f"{base}/api/v1/profiles/{profile_id}/contacts",
                                       {"counterpart": "steady_writer"}, token=tokens[DETECTIVE])
            if status == 201:
                self.contact_id = int(answer["id"])
                status, answer = self._post_message("probe")
            if status != 201:
                self.contact_id = None
        if self.contact_id is None:
            self.kind = "audit-read"

    def _post_message(self, key: str) -> tuple[int, Any]:
        return post_json(f"{self.base}/api/v1/contacts/{self.contact_id}/messages",
                         {"direction": "in", "sent_at": "2026-03-02T10:00:00+01:00", "body": f"key {key}"},
                         token=self.tokens[DETECTIVE], timeout=20)

    def write_once(self, outcome: Outcome, timeout: float = 20) -> None:
        """One audited write; the outcome records its answer (or the connection failure)."""
        key = f"{uuid.uuid4().hex}" if self.kind == "message" else str(10**9 + next(self.counter))
        started = time.monotonic()
        try:
            if self.kind == "message":
                status, answer = self._post_message(key)
                detail = str(answer)
                ok = status == 201
            else:
                status, raw = request("GET", f"{self.base}/api/v1/audit/entries?start={key}&limit=1",
                                      token=self.tokens[LEGAL], timeout=timeout)
                detail = raw.decode(errors="replace")
                ok = status == 200
        except (OSError, http.client.HTTPException, ValueError) as error:
            # Refused, reset, timed out, or the answer cut off by the kill: not confirmed.
            outcome.note(type(error).__name__, time.monotonic() - started, None, str(error))
            return
        outcome.note(str(status), time.monotonic() - started, key if ok else None, detail)

    def run(self, outcome: Outcome, stop: threading.Event, clients: int = 4) -> list[threading.Thread]:
        """Start ``clients`` writer threads; they stop when ``stop`` is set."""

        def loop() -> None:
            while not stop.is_set():
                self.write_once(outcome)

        threads = [threading.Thread(target=loop, daemon=True) for _ in range(clients)]
        for thread in threads:
            thread.start()
        return threads


def stored_keys(environment: Mapping[str, str], kind: str) -> set[str]:
    """The keys of every write the database holds."""
    from audit.entry import decode_entry
    from decoy.audit_bridge import get_store

    app = make_app(environment)
    try:
        engine = app.extensions["decoy.engine"]
        with engine.connect() as connection:
            if kind == "message":
                rows = connection.execute(text("SELECT body FROM message"))
                return {row[0].removeprefix("key ") for row in rows}
            store = get_store(app)
            keys = set()
            size = store.size(connection)
            for start in range(0, size, 1000):
                for _index, entry, _leaf in store.entries(connection, start, 1000):
                    decoded = decode_entry(entry)
                    if decoded.get("action") == "audit.read":
                        keys.add(str(decoded["details"]["start"]))
            return keys
    finally:
        app.extensions["decoy.engine"].dispose()
