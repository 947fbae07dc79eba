"""Benchmark: the initiative sheet of a contact of 100,000 messages with 2,000 annotations, over HTTP, and
the transcript filtered to the messages annotated or flagged.

A WhatsApp export of N messages (default 100,000) is imported into a new contact of `decoy serve` (one
worker); then A annotations (default 2,000, every topic, spread over the conversation, some on the
decoy's messages) are made through `POST /api/v1/messages/<id>/annotations`, each assessing the contact
again. Then each of these is timed R times (default 200), and its median, p95 and maximum printed:

* `GET /api/v1/contacts/<id>/initiative` (the sheet);
* `GET /api/v1/contacts/<id>/messages?marked=1&limit=100`, the first page and a page from the middle of
  the marked messages (`after=`);
* the contact page `/contacts/<id>?marked=1` (signed in as the detective, as a browser would), first and
  middle, which shows the sheet, the badges, the suggestions and a form per message.

Runs on SQLite, and on PostgreSQL too when DECOY_BENCH_DATABASE_URL names a server.

Usage: python bench/initiative_sheet.py [messages] [annotations] [requests]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from contact_page import CSRF  # noqa: E402
from import_throughput import api, multipart, whatsapp_export  # noqa: E402
from messages_setup import (  # noqa: E402
    PASSWORD,
    Site,
    decoy_command,
    factories,
    free_port,
    post_json,
    prepare,
    serving,
)

TOPICS = (
    "age_stated",
    "sexual_topic",
    "meeting_proposed",
    "payment_offered",
    "image_requested",
    "image_sent",
)


def get(port: int, token: str, path: str) -> tuple[float, dict]:
    request = urllib.request.Request(  # noqa: S310 - a local http:// URL
        f"http://127.0.0.1:{port}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
        body = json.loads(answer.read())
    return time.perf_counter() - started, body


def message_ids(port: int, token: str, contact: int) -> list[int]:
    """Every message id of the contact, in transcript order."""
    found: list[int] = []
    path = f"/contacts/{contact}/messages?limit=500"
    while path:
        _seconds, page = get(port, token, path)
        found.extend(item["id"] for item in page["items"] if item["direction"] != "system")
        path = (page["next"] or "").removeprefix("/api/v1")
    return found


def marked_ids(port: int, token: str, contact: int) -> list[int]:
    """Every message id of the contact's filtered transcript (annotated or flagged), in order."""
    found: list[int] = []
    path = f"/contacts/{contact}/messages?marked=1&limit=500"
    while path:
        _seconds, page = get(port, token, path)
        found.extend(item["id"] for item in page["items"])
        path = (page["next"] or "").removeprefix("/api/v1")
    return found


def sign_in(base: str, site: Site, username: str) -> urllib.request.OpenerDirector:
    """A cookie-keeping client signed in through the forms with a real TOTP code; at the first sign-in it
    chooses its own password (on the code page, or on the enrolment page, whose secret it then uses)."""
    import pyotp

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def send(path: str, fields: dict[str, str], page: str) -> tuple[str, str]:
        token = CSRF.search(page).group(1)  # type: ignore[union-attr]
        data = urllib.parse.urlencode({**fields, "csrf_token": token}).encode()
        with opener.open(base + path, data, timeout=60) as answer:
            return urllib.parse.urlparse(answer.geturl()).path, answer.read().decode()

    with opener.open(base + "/login", timeout=60) as answer:
        page = answer.read().decode()
    path, page = send("/login", {"username": username, "password": PASSWORD}, page)
    own = {"new_password": f"{PASSWORD} (own)", "repeat": f"{PASSWORD} (own)"}
    secret = site.totp_secrets[username]
    extra: dict[str, str] = {}
    if 'name="new_password"' in page and path.endswith("/login/enrol"):
        path, page = send(path, own, page)
    elif 'name="new_password"' in page:
        extra = own
    shown = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page)
    if shown:
        secret = shown.group(1)
    send(path, {"code": pyotp.TOTP(secret).now(), **extra}, page)  # enrolment answers the recovery codes
    with opener.open(base + "/account/tokens", timeout=60) as answer:
        if urllib.parse.urlparse(answer.geturl()).path.startswith("/login"):
            raise SystemExit(f"signing in as {username} failed")
    return opener


def page_timings(opener: urllib.request.OpenerDirector, url: str, requests: int) -> list[float]:
    """Seconds of ``requests`` GETs of a page (each read completely), signed in."""
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        with opener.open(url, timeout=60) as answer:
            answer.read()
            if answer.status != 200:
                raise SystemExit(f"{url}: {answer.status}")
        times.append(time.perf_counter() - started)
    return sorted(times)


def summary(label: str, what: str, timings: list[float]) -> None:
    """One line: median, p95 and maximum in milliseconds."""
    ordered = sorted(timings)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    print(
        f"{label:10} {what:44} median {statistics.median(ordered) * 1000:6.1f} ms, "
        f"p95 {p95 * 1000:6.1f} ms, max {ordered[-1] * 1000:6.1f} ms ({len(ordered)} requests)",
        flush=True,
    )


def covered_profile(site: Site, start: datetime) -> int:
    """A profile of the site's operation under an order valid from before the export's first message, so
    that the imported messages carry no flag: the filtered transcript then holds the annotated messages
    (and the few the annotations flag), as in a real case, not every message."""
    from decoy import create_app
    from decoy.db import session_scope
    from decoy.models import Profile

    found = factories()
    app = create_app({"DATA_DIR": str(site.data_dir), "ENV": "production", "DATABASE_URL": site.database_url})
    with app.app_context(), session_scope(app) as session:
        operation_id = session.get(Profile, site.profile_id).operation_id  # type: ignore[union-attr]
    authorization_id = found.make_authorization(
        app,
        "lena",
        operation_id,
        valid_from=start - timedelta(days=1),
        valid_until=datetime.now(UTC) + timedelta(days=60),
        platforms=["chatsite"],
        may_initiate_contact=False,
        officers=["dana"],
    )
    profile_id = found.make_profile(
        app,
        operation_id,
        authorization_id,
        "sam",
        approver="sol",
        platform="chatsite",
        handle=f"decoy_sheet_{uuid.uuid4().hex[:6]}",
    )
    app.extensions["decoy.engine"].dispose()
    return int(profile_id)


def bench(label: str, site: Site, count: int, annotations: int, requests: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="decoy-sheet-"))
    export = work / "chat.txt"
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=30)
    whatsapp_export(export, count, start)
    profile_id = covered_profile(site, start)
    port = free_port()
    command = [*decoy_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    # Plain http on 127.0.0.1: the session cookie of the signed-in page requests must not be Secure-only.
    environment = {**site.environment, "DECOY_SESSION_COOKIE_SECURE": "false"}
    with serving(command, environment, port):
        contact = api(
            port,
            site.token,
            f"/profiles/{profile_id}/contacts",
            json.dumps({"counterpart": f"bench_{uuid.uuid4().hex[:6]}"}).encode(),
            "application/json",
        )["id"]
        body, boundary = multipart(export, {"format": "whatsapp", "decoy_name": "Sam Decoy"})
        api(
            port,
            site.token,
            f"/contacts/{contact}/imports",
            body,
            f"multipart/form-data; boundary={boundary}",
        )
        ids = message_ids(port, site.token, contact)
        step = max(1, len(ids) // annotations)
        # From the end backwards, so that most annotations change the first raiser and are assessed anew.
        chosen = ids[::step][:annotations][::-1]
        started = time.perf_counter()
        for number, message_id in enumerate(chosen):
            topic = TOPICS[number % len(TOPICS)]
            answer = {"topic": topic, **({"age": 14} if topic == "age_stated" else {})}
            status, found = post_json(
                f"http://127.0.0.1:{port}/api/v1/messages/{message_id}/annotations", site.token, answer
            )
            if status != 201:
                raise SystemExit(f"annotation refused: {status} {found}")
        per_annotation = (time.perf_counter() - started) / len(chosen)
        timings = sorted(get(port, site.token, f"/contacts/{contact}/initiative")[0] for _ in range(requests))
        marked = marked_ids(port, site.token, contact)
        if not set(chosen) <= set(marked):
            raise SystemExit("the filtered transcript lacks annotated messages")
        middle = marked[len(marked) // 2]
        first_page = f"/contacts/{contact}/messages?marked=1&limit=100"
        middle_page = f"{first_page}&after={middle}"
        api_first = [get(port, site.token, first_page)[0] for _ in range(requests)]
        api_middle = [get(port, site.token, middle_page)[0] for _ in range(requests)]
        base = f"http://127.0.0.1:{port}"
        opener = sign_in(base, site, "dana")
        html_first = page_timings(opener, f"{base}/contacts/{contact}?marked=1", requests)
        html_middle = page_timings(opener, f"{base}/contacts/{contact}?marked=1&after={middle}", requests)
        # For comparison: the same pages unfiltered, from the same message on.
        api_plain = [
            get(port, site.token, f"/contacts/{contact}/messages?limit=100&after={middle}")[0]
            for _ in range(requests)
        ]
        html_plain = page_timings(opener, f"{base}/contacts/{contact}?after={middle}", requests)
    print(
        f"{label:10} {len(ids):>7} messages, {len(chosen)} annotations, {len(marked)} marked messages: "
        f"an annotation {per_annotation * 1000:6.1f} ms",
        flush=True,
    )
    summary(label, "GET initiative (sheet)", timings)
    summary(label, "GET messages?marked=1&limit=100 (first)", api_first)
    summary(label, "GET messages?marked=1&limit=100 (middle)", api_middle)
    summary(label, "contact page ?marked=1 (first)", html_first)
    summary(label, "contact page ?marked=1 (middle)", html_middle)
    summary(label, "unfiltered: GET messages?limit=100 (middle)", api_plain)
    summary(label, "unfiltered: contact page (middle)", html_plain)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("messages", nargs="?", type=int, default=100_000)
    parser.add_argument("annotations", nargs="?", type=int, default=2_000)
    parser.add_argument("requests", nargs="?", type=int, default=200)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="decoy-bench-") as directory:
        site = prepare(Path(directory))
        bench("sqlite", site, arguments.messages, arguments.annotations, arguments.requests)
    admin_url = os.environ.get("DECOY_BENCH_DATABASE_URL")
    if admin_url:
        with tempfile.TemporaryDirectory(prefix="decoy-bench-") as directory:
            site = prepare(Path(directory), admin_url)
            try:
                bench("postgresql", site, arguments.messages, arguments.annotations, arguments.requests)
            finally:
                site.dispose()


if __name__ == "__main__":
    main()
