"""Benchmark: time to open a contact page with 100,000 messages (p50/p95), beside one with ten.

Seeds the messages with bulk inserts (the append-only triggers allow inserts) and one real
"message.create" audit entry per message appended through the audit store in batches, so that the
data set is one `decoy audit verify` accepts. Then it signs in over HTTP with a real TOTP code and
opens the pages through `decoy serve`: the first page, the latest page, a page in the middle, and the
API's keyset page; every opening also writes its "contact.read" audit entry, as in production.

Usage: python bench/contact_page.py [messages] [requests per page]
"""

from __future__ import annotations

import http.cookiejar
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from messages_setup import PASSWORD, Site, decoy_command, free_port, prepare, serving  # noqa: E402

BATCH = 5_000
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def seed(site: Site, contact_id: int, count: int) -> list[int]:
    """Insert ``count`` messages into the contact with their audit entries; return their ids in order."""
    from sqlalchemy import insert
    from sqlmodel import select

    from audit.entry import EntryInput
    from decoy import create_app
    from decoy.audit_bridge import get_store
    from decoy.db import session_scope
    from decoy.evidence.fingerprint import message_fingerprint, text_sha256
    from decoy.models import Contact, Message, User

    app = create_app({"DATA_DIR": str(site.data_dir), "ENV": "production", "DATABASE_URL": site.database_url})
    table = Message.__table__  # type: ignore[attr-defined]
    start = datetime.now(UTC) - timedelta(days=20)
    ids: list[int] = []
    with app.app_context():
        store = get_store(app)
        with session_scope(app) as session:
            contact = session.get(Contact, contact_id)
            dana = session.exec(select(User).where(User.username == "dana")).one()
            operation_id, user_id = contact.operation_id, dana.id  # type: ignore[union-attr]
        for first in range(0, count, BATCH):
            rows = []
            now = datetime.now(UTC)
            for number in range(first, min(first + BATCH, count)):
                body = f"hello, how are you? message {number} " + "words " * (number % 40)
                rows.append(
                    {
                        "operation_id": operation_id,
                        "contact_id": contact_id,
                        "direction": "in" if number % 3 else "out",
                        "sent_at": start + timedelta(seconds=number * 7),
                        "sent_offset_minutes": 60,
                        "recorded_at": now,
                        "recorded_by": user_id,
                        "body": body,
                        "body_sha256": text_sha256(body),
                        "corrects_id": None,
                        "flags": [],
                    }
                )
            with session_scope(app) as session:
                connection = session.connection()
                inserted = (
                    connection.execute(
                        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
                    )
                    .scalars()
                    .all()
                )
                for message_id, row in zip(inserted, rows, strict=True):
                    store.append(
                        connection,
                        EntryInput(
                            time=now,
                            actor="dana",
                            action="message.create",
                            object={"type": "message", "id": message_id},
                            operation=operation_id,
                            evidence={
                                "body_sha256": row["body_sha256"],
                                "attachments": [],
                                "row_sha256": message_fingerprint({"id": message_id, **row}, []),
                            },
                            details={
                                "contact": contact_id,
                                "direction": row["direction"],
                                "flags": [],
                                "corrects": None,
                            },
                        ),
                    )
            ids.extend(inserted)
    app.extensions["decoy.engine"].dispose()
    return ids


def second_contact(site: Site) -> int:
    """A contact for the ten-message comparison."""
    from decoy import create_app
    from decoy.auth.principal import Principal
    from decoy.auth.services import find_user
    from decoy.db import session_scope
    from decoy.evidence import services

    app = create_app({"DATA_DIR": str(site.data_dir), "ENV": "production", "DATABASE_URL": site.database_url})
    with app.app_context(), session_scope(app) as session:
        dana = Principal(find_user(session, "dana"), {"detective"})  # type: ignore[arg-type]
        contact = services.create_contact(
            session=session, actor=dana, profile_id=site.profile_id, counterpart="small_contact"
        )
        contact_id = int(contact.id)  # type: ignore[arg-type]
    app.extensions["decoy.engine"].dispose()
    return contact_id


def sign_in(base: str, site: Site, username: str) -> urllib.request.OpenerDirector:
    """A cookie-keeping client signed in with password and a real TOTP code (enrolling on first use)."""
    import pyotp

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def form(path: str, fields: dict[str, str]) -> Any:
        page = opener.open(base + path).read().decode()
        token = CSRF.search(page).group(1)  # type: ignore[union-attr]
        data = urllib.parse.urlencode({**fields, "csrf_token": token}).encode()
        return opener.open(base + path, data)

    after_password = form("/login", {"username": username, "password": PASSWORD})
    next_path = urllib.parse.urlparse(after_password.geturl()).path
    form(next_path, {"code": pyotp.TOTP(site.totp_secrets[username]).now()})
    return opener


def timed(opener: urllib.request.OpenerDirector, url: str, requests: int) -> list[float]:
    """Wall-clock seconds of ``requests`` GETs (each body read completely)."""
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        with opener.open(url) as answer:
            answer.read()
            assert answer.status == 200
        times.append(time.perf_counter() - began)
    return times


def report(label: str, times: list[float]) -> None:
    """p50 and p95 in milliseconds."""
    ordered = sorted(times)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(
        f"{label:<44} p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms", flush=True
    )


def main() -> None:
    """Seed, serve, sign in, measure."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    with tempfile.TemporaryDirectory(prefix="decoy-bench-") as directory:
        site = prepare(Path(directory) / "sqlite")
        began = time.perf_counter()
        ids = seed(site, site.contact_id, count)
        print(f"seeded {count} messages with their audit entries in {time.perf_counter() - began:.1f} s")
        small = second_contact(site)
        seed(site, small, 10)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with serving(
            [*decoy_command(), "serve", "--port", str(port), "--workers", "2"], site.environment, port
        ):
            opener = sign_in(base, site, "dana")
            big = f"{base}/contacts/{site.contact_id}"
            timed(opener, big, 5)
            report("contact page, 10 messages", timed(opener, f"{base}/contacts/{small}", requests))
            report(f"contact page, {count} messages (first page)", timed(opener, big, requests))
            report(
                f"contact page, {count} messages (latest page)", timed(opener, f"{big}?before=0", requests)
            )
            middle = ids[len(ids) // 2]
            report(
                f"contact page, {count} messages (middle)", timed(opener, f"{big}?after={middle}", requests)
            )
            api = f"{base}/api/v1/contacts/{site.contact_id}/messages?after={middle}&limit=100"
            request = urllib.request.Request(  # noqa: S310 - a local http:// URL
                api, headers={"Authorization": f"Bearer {site.token}"}
            )
            times = []
            for _ in range(requests):
                began = time.perf_counter()
                with urllib.request.urlopen(request) as answer:  # noqa: S310 - local http:// URL
                    answer.read()
                times.append(time.perf_counter() - began)
            report(f"API keyset page of 100, {count} messages", times)


if __name__ == "__main__":
    main()
