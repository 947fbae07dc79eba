"""Witnesses of the log: cosignatures (c2sp.org/tlog-cosignature, ``cosignature/v1``) and a witness for
one log (c2sp.org/tlog-witness, ``add-checkpoint``), so that a party other than the log's operator vouches
that every checkpoint it saw extends the previous one.

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
import hashlib
import json
import os
import re
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit.checkpoint import Checkpoint, Verifier, key_string, read_key_string, split_note
from audit.errors import CheckpointError
from audit.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency

__all__ = [
    "Answer",
    "CosignatureVerifier",
    "Cosigner",
    "Witness",
    "WitnessState",
    "add_checkpoint_body",
    "cosignature_key_id",
    "cosigned_message",
    "merge_signatures",
    "parse_add_checkpoint",
    "valid_cosignatures",
    "wsgi_app",
]

#: The signature type of a timestamped Ed25519 checkpoint cosignature (c2sp.org/signed-note).
COSIGNATURE_V1 = 0x04
#: The content type of a witness's answer that names its view's size (a 409).
SIZE_TYPE = "text/x.tlog.size"
#: The most consistency proof lines a request may hold (the protocol's limit).
MAX_PROOF_LINES = 63
#: The largest request body a witness reads.
MAX_BODY = 16 * 1024
_OLD = re.compile(r"old (0|[1-9][0-9]{0,18})\Z", re.ASCII)
_MAX_TIME = (1 << 63) - 1


def _b64(text: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise CheckpointError("malformed base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointError("non-canonical base64")
    return raw


def cosignature_key_id(name: str, public_key: bytes) -> int:
    """The key ID of a cosigner: the first 4 bytes of SHA-256(name || 0x0A || 0x04 || public key)."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([COSIGNATURE_V1]) + public_key).digest()
    value: int = struct.unpack(">I", digest[:4])[0]
    return value


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    """What a ``cosignature/v1`` signs: the header line, the time line, then the checkpoint's whole note
    text (every line, with its final newline; no signature line)."""
    if type(timestamp) is not int or not 0 <= timestamp <= _MAX_TIME:
        raise CheckpointError("cosignature time out of range")
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


def _check_name(name: str) -> str:
    """A key name as c2sp.org/signed-note allows it: non-empty, no space, no plus, no control character."""
    if (
        type(name) is not str
        or not name
        or "+" in name
        or any(ch.isspace() or ord(ch) < 0x20 or ch == "\x7f" for ch in name)
    ):
        raise CheckpointError(f"invalid key name {name!r}")
    return name


class Cosigner:
    """A witness's Ed25519 cosigning key with its name (never the log's key)."""

    def __init__(self, name: str, seed: bytes) -> None:
        self.name = _check_name(name)
        if len(seed) != 32:
            raise CheckpointError("an Ed25519 seed is 32 bytes")
        self._seed = bytes(seed)
        self._key = Ed25519PrivateKey.from_private_bytes(self._seed)
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = cosignature_key_id(name, self.public_key)

    @classmethod
    def generate(cls, name: str) -> Cosigner:
        """A cosigner with a fresh random key."""
        return cls(name, os.urandom(32))

    @classmethod
    def from_private_key(cls, text: str) -> Cosigner:
        """Parse ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x04 || seed)>``."""
        name, identifier, seed = read_key_string(
            text, COSIGNATURE_V1, private=True, what="private key", kind="a cosignature/v1 key"
        )
        cosigner = cls(name, seed)
        if cosigner.key_id != identifier:
            raise CheckpointError("private key ID does not match the key")
        return cosigner

    def private_key_text(self) -> str:
        """The private key string (keep it secret)."""
        return key_string(self.name, self.key_id, COSIGNATURE_V1, self._seed, private=True)

    def verifier_key_text(self) -> str:
        """The verifier key string ``<name>+<hex key id>+<base64(0x04 || public key)>``."""
        return key_string(self.name, self.key_id, COSIGNATURE_V1, self.public_key)

    def verifier(self) -> CosignatureVerifier:
        """The matching verifier."""
        return CosignatureVerifier(self.name, self.public_key)

    def cosign(self, checkpoint_text: str, timestamp: int) -> str:
        """The cosignature line of a checkpoint's note text at ``timestamp`` (POSIX seconds)."""
        signature = self._key.sign(cosigned_message(checkpoint_text, timestamp))
        raw = struct.pack(">IQ", self.key_id, timestamp) + signature
        return f"\u2014 {self.name} {base64.b64encode(raw).decode('ascii')}\n"


class CosignatureVerifier:
    """Checks one witness's ``cosignature/v1`` lines."""

    def __init__(self, name: str, public_key: bytes) -> None:
        self.name = _check_name(name)
        if len(public_key) != 32:
            raise CheckpointError("an Ed25519 public key is 32 bytes")
        self.public_key = bytes(public_key)
        self.key_id = cosignature_key_id(name, self.public_key)
        try:
            self._key = Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError as exc:
            raise CheckpointError("invalid Ed25519 public key") from exc

    @classmethod
    def from_key_text(cls, text: str) -> CosignatureVerifier:
        """Parse ``<name>+<hex key id>+<base64(0x04 || public key)>``."""
        name, identifier, key = read_key_string(
            text, COSIGNATURE_V1, private=False, what="witness key", kind="a cosignature/v1 key"
        )
        verifier = cls(name, key)
        if verifier.key_id != identifier:
            raise CheckpointError("witness key ID does not match the key")
        return verifier

    def key_text(self) -> str:
        """The verifier key string."""
        return key_string(self.name, self.key_id, COSIGNATURE_V1, self.public_key)

    def line_in(self, lines: Iterable[str]) -> str | None:
        """The first of ``lines`` (a witness's answer) that carries this witness's name and key ID, with its
        newline; None when there is none (it is not checked here: see cosigned_at)."""
        for line in lines:
            name, space, encoded = line.rstrip("\n").removeprefix("\u2014 ").partition(" ")
            if not line.startswith("\u2014 ") or not space or name != self.name:
                continue
            try:
                raw = _b64(encoded)
            except CheckpointError:
                continue
            if raw[:4] == struct.pack(">I", self.key_id):
                return line.rstrip("\n") + "\n"
        return None

    def cosigned_at(self, note_text: str) -> int | None:
        """The time of this witness's valid cosignature on the note, or None when it has none. A line
        with this witness's name and key ID that does not verify is an error (CheckpointError)."""
        text, signatures = split_note(note_text)
        for name, identifier, payload in signatures:
            if name != self.name or identifier != self.key_id:
                continue  # another key's line: ignored
            if len(payload) != 8 + 64:
                raise CheckpointError(f"cosignature by {self.name} is malformed")
            timestamp = int.from_bytes(payload[:8], "big")
            try:
                self._key.verify(payload[8:], cosigned_message(text, timestamp))
            except InvalidSignature as exc:
                raise CheckpointError(f"cosignature by {self.name} does not verify") from exc
            return timestamp
        return None


def valid_cosignatures(note_text: str, witnesses: Iterable[CosignatureVerifier]) -> dict[str, int]:
    """The witnesses (by verifier key) whose cosignature on the note verifies, with its time; a line of a
    known witness that does not verify raises CheckpointError."""
    found = {}
    for witness in witnesses:
        timestamp = witness.cosigned_at(note_text)
        if timestamp is not None:
            found[witness.key_text()] = timestamp
    return found


def merge_signatures(note_text: str, lines: Iterable[str]) -> str:
    """The signed note with further signature lines (cosignatures) added once each, after its own."""
    text, _signatures = split_note(note_text)
    block = note_text[len(text) + 1 :]
    present = set(block.splitlines(keepends=True))
    for line in lines:
        if not line.endswith("\n"):
            line += "\n"
        if line not in present:
            block += line
            present.add(line)
    merged = text + "\n" + block
    split_note(merged)  # still a well-formed note
    return merged


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
    proof = [_b64(line) for line in rest]
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
