"""A witness for one log (c2sp.org/tlog-witness, ``add-checkpoint``), so that a party other than the
log's operator vouches that every checkpoint it saw extends the previous one; it cosigns with
audit.cosignature.

A witness keeps its own view of the log (the size and root of the latest checkpoint it cosigned) in a
file it replaces atomically and syncs before it answers; a checkpoint that does not extend that view
(a consistency proof that fails, the same size with another root) is refused and never cosigned, so a
log rebuilt from its database and signed again with the log's own key is caught by the first witness it
is shown to. Standard library and ``cryptography`` only.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from audit.checkpoint import Checkpoint, Verifier, b64decode_strict, split_note
from audit.cosignature import Cosigner, cosigned_message
from audit.errors import CheckpointError
from audit.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency

__all__ = [
    "Answer",
    "Witness",
    "WitnessState",
    "add_checkpoint_body",
    "parse_add_checkpoint",
    "wsgi_app",
]

#: The content type of a witness's answer that names its view's size (a 409).
SIZE_TYPE = "text/x.tlog.size"
#: The most consistency proof lines a request may hold (the protocol's limit).
MAX_PROOF_LINES = 63
#: The largest request body a witness reads.
MAX_BODY = 16 * 1024
_OLD = re.compile(r"old (0|[1-9][0-9]{0,18})\Z", re.ASCII)


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], note_text: str) -> bytes:
    """An ``add-checkpoint`` request: the old size, the consistency proof from it, then the signed note."""
    lines = [f"old {old_size}\n", *(base64.b64encode(node).decode("ascii") + "\n" for node in proof)]
    return ("".join(lines) + "\n" + note_text).encode("utf-8")


def parse_add_checkpoint(body: bytes) -> tuple[int, list[bytes], str]:
    """The old size, the proof and the signed note of an ``add-checkpoint`` request (CheckpointError when
    it is malformed)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CheckpointError("the request is not UTF-8") from exc
    head, blank, note = text.partition("\n\n")
    if not blank:
        raise CheckpointError("the request has no empty line before the checkpoint")
    first, *rest = head.split("\n")
    old = _OLD.match(first)
    if old is None:
        raise CheckpointError("the request does not start with an old size line")
    if len(rest) > MAX_PROOF_LINES:
        raise CheckpointError("too many consistency proof lines")
    proof = [b64decode_strict(line) for line in rest]
    if any(len(node) != HASH_SIZE for node in proof):
        raise CheckpointError("a consistency proof line is not a 32-byte hash")
    return int(old.group(1)), proof, note


@dataclass(frozen=True)
class Answer:
    """A witness's answer: HTTP status, content type and body."""

    status: int
    content_type: str
    body: bytes

    @classmethod
    def text(cls, status: int, message: str) -> Answer:
        return cls(status, "text/plain; charset=utf-8", (message + "\n").encode("utf-8"))


@dataclass(frozen=True)
class View:
    """A witness's view of its log: the latest checkpoint it cosigned (size 0 before the first)."""

    size: int
    root: bytes
    note: str


class WitnessState:
    """A witness's durable view of one log, in one JSON file replaced atomically.

    ``update`` runs under a lock (a thread lock and an exclusive lock on a file beside the state, so that
    two processes cannot race either) and writes the new view, syncs it and its directory, before it
    returns: what a witness cosigned is never forgotten by a crash.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def read(self) -> View:
        """The stored view (size 0 and the empty root when nothing was cosigned yet)."""
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return View(0, EMPTY_ROOT, "")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"{self.path}: the witness state is damaged") from exc
        try:
            root = base64.b64decode(stored["root"], validate=True)
            size, note = stored["size"], stored.get("note", "")
        except (KeyError, TypeError, binascii.Error) as exc:
            raise CheckpointError(f"{self.path}: the witness state is damaged") from exc
        if type(size) is not int or size < 0 or len(root) != HASH_SIZE or type(note) is not str:
            raise CheckpointError(f"{self.path}: the witness state is damaged")
        return View(size, root, note)

    def _write(self, view: View) -> None:
        root = base64.b64encode(view.root).decode("ascii")
        stored = {"v": 1, "size": view.size, "root": root, "note": view.note}
        data = json.dumps(stored, sort_keys=True).encode("utf-8")
        temporary = self.path.with_name(self.path.name + ".tmp")
        with open(temporary, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def update(self, change: Callable[[View], View | Answer]) -> View | Answer:
        """Apply ``change`` to the stored view atomically: a View it answers is stored before this
        returns; an Answer (a refusal) leaves the view as it was."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path.with_name(self.path.name + ".lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                result = change(self.read())
                if isinstance(result, View):
                    self._write(result)
                return result
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class Witness:
    """A witness for one log (its origin and the log's verifier key), cosigning with its own key."""

    def __init__(
        self,
        cosigner: Cosigner,
        origin: str,
        log_key: Verifier,
        state: WitnessState,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cosigner = cosigner
        self.origin = origin
        self.log_key = log_key
        self.state = state
        self.clock = clock

    def add_checkpoint(self, body: bytes) -> Answer:
        """Answer an ``add-checkpoint`` request as c2sp.org/tlog-witness says."""
        try:
            old, proof, note = parse_add_checkpoint(body)
            text, _signatures = split_note(note)
            checkpoint = Checkpoint.parse(text)
        except CheckpointError as exc:
            return Answer.text(400, f"malformed request: {exc}")
        if checkpoint.origin != self.origin:
            return Answer.text(404, f"unknown log {checkpoint.origin!r}")
        try:
            self.log_key.open_note(note)
        except CheckpointError as exc:
            return Answer.text(403, f"the log's signature does not verify: {exc}")
        if old > checkpoint.size:
            return Answer.text(400, f"old size {old} is larger than the checkpoint's size {checkpoint.size}")
        if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
            return Answer.text(422, "a checkpoint of size 0 must have the empty tree's root")
        timestamp = int(self.clock())
        cosigned_message("", timestamp)  # a clock out of range fails here, before the view moves

        def extend(view: View) -> View | Answer:
            if old != view.size:
                return Answer(409, SIZE_TYPE, f"{view.size}\n".encode("ascii"))
            if old == checkpoint.size:
                if proof or checkpoint.root != view.root:
                    return Answer.text(422, f"a checkpoint of size {old} with another root: the log forked")
            elif old == 0:
                if proof:
                    return Answer.text(422, "a consistency proof from size 0 must be empty")
            elif not verify_consistency(old, checkpoint.size, view.root, checkpoint.root, proof):
                return Answer.text(422, f"the checkpoint does not extend size {old}: the log forked")
            return View(checkpoint.size, checkpoint.root, note)

        result = self.state.update(extend)
        if isinstance(result, Answer):
            return result
        line = self.cosigner.cosign(text, timestamp)
        return Answer(200, "text/plain; charset=utf-8", line.encode("utf-8"))


def wsgi_app(witness: Witness) -> Callable[[dict[str, Any], Callable[..., Any]], Iterator[bytes]]:
    """A WSGI application that serves the witness's ``POST /add-checkpoint``."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        if environ.get("PATH_INFO") != "/add-checkpoint":
            answer = Answer.text(404, "not found")
        elif environ.get("REQUEST_METHOD") != "POST":
            answer = Answer.text(405, "use POST")
        else:
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if not 0 < length <= MAX_BODY:
                answer = Answer.text(400, f"the request body must be 1 to {MAX_BODY} bytes")
            else:
                answer = witness.add_checkpoint(environ["wsgi.input"].read(length))
        reason = HTTPStatus(answer.status).phrase
        headers = [("Content-Type", answer.content_type), ("Content-Length", str(len(answer.body)))]
        if answer.status == 405:
            headers.append(("Allow", "POST"))
        start_response(f"{answer.status} {reason}", headers)
        return iter([answer.body])

    return application
