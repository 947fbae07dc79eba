"""The production server's answers to malformed requests and its cookie: nothing of the stack, Secure by
default. Runs a real `decoy serve` (gunicorn) on 127.0.0.1 and speaks raw HTTP to it."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.reliability.support import decoy_env, initialise, running_server

MALFORMED = [
    b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"BREW /login HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /login HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /login HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    b"GET /login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
]


def _raw(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(payload)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
            if sum(map(len, chunks)) > 1 << 20:
                break
    return b"".join(chunks)


def test_malformed_requests_get_plain_answers_without_a_stack(tmp_path: Path):
    environment = decoy_env(tmp_path / "instance")
    initialise(environment, {})
    with running_server(environment, tmp_path / "server.log", workers=1) as server:
        for payload in MALFORMED:
            answer = _raw(server.port, payload)
            status = answer.split(b"\r\n", 1)[0]
            assert status.startswith(b"HTTP/1.1 4") or status.startswith(b"HTTP/1.1 5"), (
                payload[:40],
                answer[:200],
            )
            for leak in (b"Traceback", b'File "', b"gunicorn/", b"site-packages", b".py"):
                assert leak not in answer, (payload[:40], answer[:400])
        login = _raw(server.port, b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    headers = login.split(b"\r\n\r\n", 1)[0].lower()
    assert b"set-cookie: decoy_session=" in headers and b"; secure" in headers
