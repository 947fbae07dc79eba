"""Benchmark: the initiative sheet of a contact of 100,000 messages with 2,000 annotations, over HTTP.

A WhatsApp export of N messages (default 100,000) is imported into a new contact of `decoy serve` (one
worker); then A annotations (default 2,000, every topic, spread over the conversation, some on the
decoy's messages) are made through `POST /api/v1/messages/<id>/annotations`, each assessing the contact
again. `GET /api/v1/contacts/<id>/initiative` is then timed R times (default 200) and its median, p95 and
maximum printed, with the time an annotation took.

Runs on SQLite, and on PostgreSQL too when DECOY_BENCH_DATABASE_URL names a server.

Usage: python bench/initiative_sheet.py [messages] [annotations] [requests]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_throughput import api, multipart, whatsapp_export  # noqa: E402
from messages_setup import Site, decoy_command, free_port, post_json, prepare, serving  # noqa: E402

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


def bench(label: str, site: Site, count: int, annotations: int, requests: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="decoy-sheet-"))
    export = work / "chat.txt"
    whatsapp_export(export, count, datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=30))
    port = free_port()
    command = [*decoy_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with serving(command, site.environment, port):
        contact = api(
            port,
            site.token,
            f"/profiles/{site.profile_id}/contacts",
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
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(
        f"{label:10} {len(ids):>7} messages, {len(chosen)} annotations: "
        f"an annotation {per_annotation * 1000:6.1f} ms; "
        f"GET initiative median {statistics.median(timings) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms, "
        f"max {timings[-1] * 1000:6.1f} ms ({requests} requests)",
        flush=True,
    )


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
