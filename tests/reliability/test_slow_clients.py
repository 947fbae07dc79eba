"""A client that sends its upload slowly holds no database lock: other officers keep recording evidence.

On SQLite every writing transaction holds the single write lock from its first statement, so the upload
endpoints end their access-check transaction before reading the body (decoy.db.before_reading_body).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

#: Far below the 30 s SQLite busy timeout a blocked writer would wait before its 503.
PROMPT_SECONDS = 5.0


@pytest.fixture
def served(world) -> Iterator[int]:
    server = make_server("127.0.0.1", 0, world.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


BOUNDARY = "slowboundary"
HEAD = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="order.pdf"\r\n'
    "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
).encode()
TAIL = b"\n%%EOF\r\n--" + BOUNDARY.encode() + b"--\r\n"
FILLER = 100_000


def _start_slow_upload(port: int, path: str, token: str) -> socket.socket:
    """Send the headers and the first bytes of a 100 kB multipart upload, then nothing more (for now)."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
    connection.sendall(
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nConnection: close\r\n"
            f"Content-Length: {len(HEAD) + FILLER + len(TAIL)}\r\n\r\n"
        ).encode()
        + HEAD
    )
    return connection


def _finish_slow_upload(connection: socket.socket) -> bytes:
    """Send the rest of the body and read the answer, so that the server ends the request cleanly."""
    connection.sendall(b" " * FILLER + TAIL)
    answer = b""
    while chunk := connection.recv(65536):
        answer += chunk
    connection.close()
    return answer


@pytest.mark.parametrize("endpoint", ["order document", "message attachment"])
def test_a_slow_upload_does_not_hold_up_other_evidence(world, served, endpoint):
    contact_id = world.contact()
    if endpoint == "order document":
        path, user = f"/api/v1/authorizations/{world.authorization_id}/documents", "lena"
    else:
        path, user = f"/api/v1/contacts/{contact_id}/messages", "dana"
    slow = _start_slow_upload(served, path, world.tokens[user])
    try:
        time.sleep(1)  # the slow request has passed its access check and is reading the body
        client = http.client.HTTPConnection("127.0.0.1", served, timeout=60)
        started = time.monotonic()
        client.request(
            "POST",
            f"/api/v1/contacts/{contact_id}/messages",
            body=json.dumps({"direction": "in", "sent_at": "2026-03-02T10:00:00+01:00", "body": "hello"}),
            headers={**world.headers("dana"), "Content-Type": "application/json"},
        )
        answer = client.getresponse()
        answer.read()
        took = time.monotonic() - started
        client.close()
    finally:
        slow_answer = _finish_slow_upload(slow)
    assert slow_answer.startswith(b"HTTP/1.1 "), "the slow upload was answered once it was complete"
    assert answer.status == 201
    assert took < PROMPT_SECONDS, f"the message waited {took:.1f} s behind a slow upload"
