"""Cosignatures of checkpoints (c2sp.org/tlog-cosignature, ``cosignature/v1``): a witness's timestamped
Ed25519 signature line, added to the log's signed note, saying that as of that time this checkpoint is
the largest consistent tree head of the log the witness has seen.

The signed message is ``cosignature/v1``, ``time <POSIX seconds>`` and the checkpoint's note text; the
line's payload is the key ID (``SHA-256(name || 0x0A || 0x04 || public key)[:4]``), the time (8 bytes,
big-endian) and the signature. A reader that does not know the witness ignores the line (signed-note
rules). Standard library and ``cryptography`` only.
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit.checkpoint import (
    SIGNATURE_DASH,
    b64decode_strict,
    check_key_name,
    key_id,
    key_string,
    read_key_string,
    split_note,
)
from audit.errors import CheckpointError

__all__ = [
    "COSIGNATURE_V1",
    "CosignatureVerifier",
    "Cosigner",
    "cosignature_key_id",
    "cosigned_message",
    "merge_signatures",
    "valid_cosignatures",
]

#: The signature type of a timestamped Ed25519 checkpoint cosignature (c2sp.org/signed-note).
COSIGNATURE_V1 = 0x04
_MAX_TIME = (1 << 63) - 1


def cosignature_key_id(name: str, public_key: bytes) -> int:
    """The key ID of a cosigner: the first 4 bytes of SHA-256(name || 0x0A || 0x04 || public key)."""
    return key_id(name, public_key, COSIGNATURE_V1)


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    """What a ``cosignature/v1`` signs: the header line, the time line, then the checkpoint's whole note
    text (every line, with its final newline; no signature line)."""
    if type(timestamp) is not int or not 0 <= timestamp <= _MAX_TIME:
        raise CheckpointError("cosignature time out of range")
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


class Cosigner:
    """A witness's Ed25519 cosigning key with its name (never the log's key)."""

    def __init__(self, name: str, seed: bytes) -> None:
        self.name = check_key_name(name)
        if len(seed) != 32:
            raise CheckpointError("an Ed25519 seed is 32 bytes")
        self._seed = bytes(seed)
        self._key = Ed25519PrivateKey.from_private_bytes(self._seed)
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = key_id(name, self.public_key, COSIGNATURE_V1)

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
        return f"{SIGNATURE_DASH}{self.name} {base64.b64encode(raw).decode('ascii')}\n"


class CosignatureVerifier:
    """Checks one witness's ``cosignature/v1`` lines."""

    def __init__(self, name: str, public_key: bytes) -> None:
        self.name = check_key_name(name)
        if len(public_key) != 32:
            raise CheckpointError("an Ed25519 public key is 32 bytes")
        self.public_key = bytes(public_key)
        self.key_id = key_id(name, self.public_key, COSIGNATURE_V1)
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
            name, space, encoded = line.rstrip("\n").removeprefix(SIGNATURE_DASH).partition(" ")
            if not line.startswith(SIGNATURE_DASH) or not space or name != self.name:
                continue
            try:
                raw = b64decode_strict(encoded)
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
