"""Benchmark: peak memory of the server worker while it receives a 5 MB and a 50 MB attachment.

For each size a fresh `decoy serve --workers 1` is started, warmed up with one small message, and the
worker's peak resident set (VmHWM in /proc) is read before and after one multipart upload streamed
from the client in chunks. The target is no growth with size: the upload is spooled to a temporary
file by Werkzeug and copied to the content-addressed store in 1 MiB chunks.

Usage: python bench/upload_memory.py
"""

from __future__ import annotations

import http.client
import json
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from messages_setup import Site, decoy_command, free_port, post_json, prepare, serving  # noqa: E402

SIZES = (1_000_000, 5_000_000, 50_000_000)
CHUNK = 1024 * 1024


def worker_of(master: int) -> int:
    """The single gunicorn worker under ``master``."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def peak_kib(pid: int) -> tuple[int, int]:
    """(VmHWM, VmRSS) of a process in KiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmHWM"].split()[0]), int(fields["VmRSS"].split()[0])


def upload(port: int, site: Site, size: int) -> dict[str, object]:
    """One multipart message whose attachment is ``size`` bytes, sent in chunks; the answer."""
    boundary = uuid.uuid4().hex
    sent_at = datetime.now(UTC).isoformat()
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in (("direction", "in"), ("sent_at", sent_at), ("body", "an exported chat"))
    ).encode()
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="export.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    connection.putrequest("POST", f"/api/v1/contacts/{site.contact_id}/messages")
    connection.putheader("Authorization", f"Bearer {site.token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    connection.endheaders()
    connection.send(head)
    pattern = bytes(range(256)) * (CHUNK // 256)
    left = size
    while left:
        piece = pattern[: min(CHUNK, left)]
        connection.send(piece)
        left -= len(piece)
    connection.send(tail)
    answer = connection.getresponse()
    body = json.loads(answer.read())
    connection.close()
    if answer.status != 201:
        raise RuntimeError(f"upload of {size} bytes answered {answer.status}: {body}")
    return body  # type: ignore[no-any-return]


def main() -> None:
    """Measure each size on a fresh worker."""
    with tempfile.TemporaryDirectory(prefix="decoy-bench-") as directory:
        site = prepare(Path(directory) / "sqlite")
        print(f"{'attachment':>12} {'worker peak before':>19} {'peak after':>11} {'growth':>9}")
        for size in SIZES:
            port = free_port()
            command = [*decoy_command(), "serve", "--port", str(port), "--workers", "1"]
            with serving(command, site.environment, port) as server:
                url = f"http://127.0.0.1:{port}/api/v1/contacts/{site.contact_id}/messages"
                status, _answer = post_json(
                    url,
                    site.token,
                    {"direction": "in", "sent_at": datetime.now(UTC).isoformat(), "body": "warm-up"},
                )
                assert status == 201, _answer
                worker = worker_of(server.pid)
                before, _rss = peak_kib(worker)
                upload(port, site, size)
                after, _rss = peak_kib(worker)
            print(
                f"{size / 1e6:>10.0f} MB {before / 1024:>16.1f} MiB {after / 1024:>7.1f} MiB "
                f"{(after - before) / 1024:>5.1f} MiB",
                flush=True,
            )


if __name__ == "__main__":
    main()
