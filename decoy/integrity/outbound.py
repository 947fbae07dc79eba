"""Requests to the parties outside the police that anchor the log (witnesses, time-stamp authorities):
one deadline for the whole exchange, however slowly the other side answers, no redirect followed and no
proxy taken from the environment, and at most 64 KiB of answer read."""

from __future__ import annotations

import http.client
import socket
import threading
from urllib.parse import urlsplit

MAX_ANSWER = 64 * 1024


def _cut(connection: http.client.HTTPConnection) -> None:
    """End a request past its deadline: shutting the socket down wakes the thread that reads it."""
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def post(url: str, body: bytes, content_type: str, timeout: float) -> tuple[int, str, bytes]:
    """POST ``body`` to ``url`` within ``timeout`` seconds in all; the status, the answer's content type
    and its first 64 KiB. OSError, http.client.HTTPException or ValueError when there is no answer."""
    address = urlsplit(url)
    kind = http.client.HTTPSConnection if address.scheme == "https" else http.client.HTTPConnection
    connection = kind(address.hostname or "", address.port, timeout=timeout)
    deadline = threading.Timer(timeout, _cut, args=(connection,))
    deadline.start()
    try:
        connection.request("POST", address.path or "/", body=body, headers={"Content-Type": content_type})
        answer = connection.getresponse()
        return answer.status, answer.getheader("Content-Type", ""), answer.read(MAX_ANSWER)
    finally:
        deadline.cancel()
        connection.close()
