"""Benchmark: imports of a platform's export over HTTP, in messages per second, and the server's peak memory.

A WhatsApp "Export chat" text and a Telegram Desktop result.json, each of N messages (default 100,000), are
posted to `POST /api/v1/contacts/<id>/imports` of `decoy serve` (one worker) on a new contact each; every
message becomes its own row and its own audit entry (checked after each import, outside the timed part:
the log's new entries include one `message.create` for every message added). The same is done with a
tenth of the messages, on a server started afresh, so that the peak memory of the two runs can be
compared: it must not grow with the file. Peak memory is the worker's high-water mark of resident memory
(VmHWM in /proc).

Runs on SQLite, and on PostgreSQL too when DECOY_BENCH_DATABASE_URL names a server (a fresh database is
made and dropped).

Usage: python bench/import_throughput.py [messages] (--help)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from messages_setup import Site, decoy_command, free_port, prepare, serving  # noqa: E402

ZONE = ZoneInfo("Europe/Amsterdam")


def whatsapp_export(path: Path, count: int, start: datetime) -> None:
    """An Android export in the Dutch layout: two parties taking turns, ten messages a minute."""
    with path.open("w", encoding="utf-8") as handle:
        notice = "Berichten en gesprekken zijn end-to-end versleuteld."
        handle.write(f"{start.astimezone(ZONE):%d-%m-%Y %H:%M} - {notice}\n")
        for number in range(count - 1):
            moment = (start + timedelta(minutes=number // 10)).astimezone(ZONE)
            name = "Alex" if number % 2 == 0 else "Sam Decoy"
            handle.write(f"{moment:%d-%m-%Y %H:%M} - {name}: hello, how are you ({number})\n")


def telegram_export(path: Path, count: int, start: datetime) -> None:
    """A Telegram Desktop single-chat result.json, written message by message."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write('{\n "name": "Alex",\n "type": "personal_chat",\n "id": 4242,\n "messages": [\n')
        for number in range(count):
            moment = start + timedelta(seconds=5 * number)
            message = {
                "id": number + 1,
                "type": "message",
                "date": moment.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M:%S"),
                "date_unixtime": str(int(moment.timestamp())),
                "from": "Alex" if number % 2 == 0 else "Sam Decoy",
                "from_id": "user1" if number % 2 == 0 else "user2",
                "text": f"hello, how are you ({number})",
                "text_entities": [{"type": "plain", "text": f"hello, how are you ({number})"}],
            }
            handle.write(("  " if number == 0 else ",\n  ") + json.dumps(message))
        handle.write("\n ]\n}\n")


def multipart(path: Path, fields: dict[str, str]) -> tuple[bytes, str]:
    """A multipart/form-data body with ``fields`` and the file."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    return b"".join(parts) + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), boundary


def api(port: int, token: str, path: str, body: bytes, content_type: str, timeout: float = 3600) -> dict:
    request = urllib.request.Request(  # noqa: S310 - the server started here on 127.0.0.1
        f"http://127.0.0.1:{port}/api/v1{path}",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read())


def worker_peak_kib(master_pid: int) -> int:
    """The largest VmHWM among the server's worker processes (children of the master), in KiB."""
    peak = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master_pid) and "VmHWM" in fields:
            peak = max(peak, int(fields["VmHWM"].split()[0]))
    return peak


def log_entries(site: Site, start: int = 0) -> tuple[int, int]:
    """The audit log's size, and how many of its entries from index ``start`` record a message created."""
    from decoy import create_app
    from decoy.audit_bridge import get_store

    app = create_app({"DATA_DIR": str(site.data_dir), "ENV": "production", "DATABASE_URL": site.database_url})
    store = get_store(app)
    created = 0
    with app.extensions["decoy.engine"].connect() as connection:
        size = store.size(connection)
        for rows in store.iter_entry_chunks(connection, start):
            created += sum(json.loads(entry)["action"] == "message.create" for _index, entry, _leaf in rows)
    app.extensions["decoy.engine"].dispose()
    return size, created


def run_one(site: Site, export: Path, fmt: str) -> tuple[int, float, int]:
    """Import ``export`` into a new contact on a fresh server: (messages added, seconds, peak KiB); then
    checks that the audit log holds one entry for each message added."""
    size_before, _created = log_entries(site)
    port = free_port()
    command = [*decoy_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with serving(command, site.environment, port) as server:
        contact = api(
            port,
            site.token,
            f"/profiles/{site.profile_id}/contacts",
            json.dumps({"counterpart": f"bench_{uuid.uuid4().hex[:6]}"}).encode(),
            "application/json",
        )
        body, boundary = multipart(export, {"format": fmt, "decoy_name": "Sam Decoy"})
        started = time.perf_counter()
        answer = api(
            port,
            site.token,
            f"/contacts/{contact['id']}/imports",
            body,
            f"multipart/form-data; boundary={boundary}",
        )
        elapsed = time.perf_counter() - started
        peak = worker_peak_kib(server.pid)
    _size, created = log_entries(site, size_before)
    if created != int(answer["added"]):
        raise SystemExit(f"{answer['added']} messages added but {created} audit entries record one")
    return int(answer["added"]), elapsed, peak


def bench(label: str, site: Site, count: int) -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=12)
    work = Path(tempfile.mkdtemp(prefix="decoy-import-"))
    for fmt, writer, name in (
        ("whatsapp", whatsapp_export, "chat.txt"),
        ("telegram", telegram_export, "result.json"),
    ):
        results = []
        for size in (count // 10, count):
            export = work / f"{size}-{name}"
            writer(export, size, start)
            added, seconds, peak = run_one(site, export, fmt)
            results.append((size, added, seconds, peak, export.stat().st_size))
        for size, added, seconds, peak, file_size in results:
            print(
                f"{label:10} {fmt:9} {size:>7} messages ({file_size / 1e6:6.1f} MB): added {added:>7} in "
                f"{seconds:6.1f} s = {added / seconds:7.0f} messages/s; "
                f"worker peak RSS {peak / 1024:6.1f} MiB",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("messages", nargs="?", type=int, default=100_000)
    count = parser.parse_args().messages
    with tempfile.TemporaryDirectory(prefix="decoy-bench-") as directory:
        site = prepare(Path(directory))
        bench("sqlite", site, count)
    admin_url = os.environ.get("DECOY_BENCH_DATABASE_URL")
    if admin_url:
        with tempfile.TemporaryDirectory(prefix="decoy-bench-") as directory:
            site = prepare(Path(directory), admin_url)
            try:
                bench("postgresql", site, count)
            finally:
                site.dispose()


if __name__ == "__main__":
    main()
