"""Checkpoints (c2sp.org/tlog-checkpoint) in Ed25519 signed notes (c2sp.org/signed-note).

Key strings follow Go's golang.org/x/mod/sumdb/note, so notes and keys interoperate with it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit.errors import CheckpointError, KeyFileError
from audit.merkle import HASH_SIZE

__all__ = [
    "SIGNATURE_DASH",
    "Checkpoint",
    "CheckpointError",
    "KeyFileError",
    "Signer",
    "Verifier",
    "b64decode_strict",
    "check_key_name",
    "key_id",
    "key_string",
    "load_signer",
    "publish",
    "read_key_string",
    "read_published",
    "split_published",
    "write_private_key",
]

_ED25519 = 0x01
SIGNATURE_DASH = "\u2014 "
_SIZE = re.compile(r"(0|[1-9][0-9]{0,18})\Z", re.ASCII)
_KEY_ID = re.compile(r"[0-9a-f]{8}\Z", re.ASCII)
_MAX_SIGNATURES = 100
_MAX_NOTE = 1 << 20
_MAX_TREE_SIZE = (1 << 63) - 1


def b64decode_strict(text: str) -> bytes:
    """Strict standard base64: the right alphabet, padding, and the canonical encoding only."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise CheckpointError("malformed base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointError("non-canonical base64")
    return raw


def check_key_name(name: str) -> str:
    """A key name is non-empty, has no Unicode space, no plus, and no control characters."""
    if (
        type(name) is not str
        or not name
        or "+" in name
        or any(ch.isspace() or ord(ch) < 0x20 or ch == "\x7f" for ch in name)
    ):
        raise CheckpointError(f"invalid key name {name!r}")
    return name


def _check_text(text: str) -> None:
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise CheckpointError("note contains a control character")


def key_string(name: str, identifier: int, key_type: int, key: bytes, *, private: bool = False) -> str:
    """A key as Go's note package writes it: ``[PRIVATE+KEY+]<name>+<hex key ID>+<base64(type || key)>``."""
    encoded = base64.b64encode(bytes([key_type]) + key).decode("ascii")
    return f"{'PRIVATE+KEY+' if private else ''}{name}+{identifier:08x}+{encoded}"


def read_key_string(
    text: str, key_type: int, *, private: bool, what: str, kind: str
) -> tuple[str, int, bytes]:
    """The name, key ID and 32-byte key of a key string of ``key_type`` (CheckpointError naming ``what``,
    e.g. "verifier key", and ``kind``, e.g. "an Ed25519 key", when it is not one)."""
    parts = text.strip().split("+", 4 if private else 2)  # the base64 key may itself contain "+"
    if private:
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise CheckpointError(f"malformed {what}")
        parts = parts[2:]
    if len(parts) != 3 or not _KEY_ID.match(parts[1]):
        raise CheckpointError(f"malformed {what}")
    raw = b64decode_strict(parts[2])
    if len(raw) != 33 or raw[0] != key_type:
        raise CheckpointError(f"{what} is not {kind}")
    return parts[0], int(parts[1], 16), raw[1:]


def key_id(name: str, public_key: bytes, key_type: int = _ED25519) -> int:
    """Return the C2SP key ID: the first 4 bytes of SHA-256(name || 0x0A || type || public key), the type
    0x01 for a log's Ed25519 key."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([key_type]) + public_key).digest()
    value: int = struct.unpack(">I", digest[:4])[0]
    return value


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and its RFC 9162 root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_key_name(self.origin)
        if type(self.size) is not int or not 0 <= self.size <= _MAX_TREE_SIZE:
            raise CheckpointError("checkpoint size out of range")
        if type(self.root) is not bytes or len(self.root) != HASH_SIZE:
            raise CheckpointError("checkpoint root must be 32 bytes")
        for line in self.extensions:
            if not line or "\n" in line:
                raise CheckpointError("extension lines must be non-empty single lines")
            _check_text(line)

    def body(self) -> str:
        """Return the note text: origin, size, base64 root, then any extension lines."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii"), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse a note text strictly (three lines, decimal size without leading zeros, 32-byte root)."""
        if type(body) is not str or not body.endswith("\n"):
            raise CheckpointError("checkpoint text must end with a newline")
        _check_text(body)
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("checkpoint text has fewer than three lines")
        origin, size_text, root_text, *extensions = lines
        if not _SIZE.match(size_text):
            raise CheckpointError(f"malformed tree size {size_text!r}")
        root = b64decode_strict(root_text)
        return cls(origin, int(size_text), root, tuple(extensions))


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


class Signer:
    """An Ed25519 note signer with its key name."""

    def __init__(self, name: str, seed: bytes) -> None:
        self.name = check_key_name(name)
        if len(seed) != 32:
            raise CheckpointError("an Ed25519 seed is 32 bytes")
        self._seed = bytes(seed)
        self._key = Ed25519PrivateKey.from_private_bytes(self._seed)
        self.public_key = _public_bytes(self._key.public_key())
        self.key_id = key_id(name, self.public_key)

    @classmethod
    def generate(cls, name: str) -> Signer:
        """Return a signer with a fresh random key."""
        return cls(name, os.urandom(32))

    @classmethod
    def from_private_key(cls, text: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>``."""
        name, identifier, seed = read_key_string(
            text, _ED25519, private=True, what="private key", kind="an Ed25519 key"
        )
        signer = cls(name, seed)
        if signer.key_id != identifier:
            raise CheckpointError("private key ID does not match the key")
        return signer

    def private_key_text(self) -> str:
        """Return the private key string (keep it secret)."""
        return key_string(self.name, self.key_id, _ED25519, self._seed, private=True)

    def verifier_key_text(self) -> str:
        """Return the public verifier key string ``<name>+<hex key id>+<base64(0x01 || public key)>``."""
        return key_string(self.name, self.key_id, _ED25519, self.public_key)

    def verifier(self) -> Verifier:
        """Return the matching verifier."""
        return Verifier(self.name, self.public_key)

    def sign_text(self, text: str) -> str:
        """Return a signed note of any note text."""
        if not text.endswith("\n") or not text.strip("\n"):
            raise CheckpointError("note text must be non-empty and end with a newline")
        _check_text(text)
        signature = self._key.sign(text.encode("utf-8"))
        encoded = base64.b64encode(struct.pack(">I", self.key_id) + signature).decode("ascii")
        return f"{text}\n{SIGNATURE_DASH}{self.name} {encoded}\n"

    def sign(self, checkpoint: Checkpoint) -> str:
        """Return the signed note of a checkpoint."""
        return self.sign_text(checkpoint.body())


def split_note(note_text: str) -> tuple[str, list[tuple[str, int, bytes]]]:
    """Split a signed note into its text and its (key name, key ID, signature) lines."""
    if type(note_text) is not str or len(note_text) > _MAX_NOTE:
        raise CheckpointError("note is not text or is too large")
    _check_text(note_text)
    cut = note_text.rfind("\n\n")
    if cut < 0 or not note_text.endswith("\n"):
        raise CheckpointError("note has no signature block")
    text, block = note_text[: cut + 1], note_text[cut + 2 :]
    if not block:
        raise CheckpointError("note has no signatures")
    lines = block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise CheckpointError("note has too many signatures")
    signatures = []
    for line in lines:
        if not line.startswith(SIGNATURE_DASH):
            raise CheckpointError("malformed signature line")
        name, space, encoded = line[len(SIGNATURE_DASH) :].partition(" ")
        if not space or " " in encoded:
            raise CheckpointError("malformed signature line")
        check_key_name(name)
        raw = b64decode_strict(encoded)
        if len(raw) < 5:
            raise CheckpointError("signature too short")
        signatures.append((name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return text, signatures


class Verifier:
    """An Ed25519 note verifier for one key name and public key."""

    def __init__(self, name: str, public_key: bytes) -> None:
        self.name = check_key_name(name)
        if len(public_key) != 32:
            raise CheckpointError("an Ed25519 public key is 32 bytes")
        self.public_key = bytes(public_key)
        self.key_id = key_id(name, self.public_key)
        try:
            self._key = Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError as exc:
            raise CheckpointError("invalid Ed25519 public key") from exc

    @classmethod
    def from_key_text(cls, text: str) -> Verifier:
        """Parse ``<name>+<hex key id>+<base64(0x01 || public key)>``."""
        name, identifier, key = read_key_string(
            text, _ED25519, private=False, what="verifier key", kind="an Ed25519 key"
        )
        verifier = cls(name, key)
        if verifier.key_id != identifier:
            raise CheckpointError("verifier key ID does not match the key")
        return verifier

    def key_text(self) -> str:
        """Return the verifier key string."""
        return key_string(self.name, self.key_id, _ED25519, self.public_key)

    def open_note(self, note_text: str) -> str:
        """Return the note text if this key signed it; raise CheckpointError otherwise."""
        text, signatures = split_note(note_text)
        for name, identifier, signature in signatures:
            # Lines from other keys are ignored (witnesses, rotated keys); ours must verify.
            if name != self.name or identifier != self.key_id:
                continue
            try:
                self._key.verify(signature, text.encode("utf-8"))
            except InvalidSignature as exc:
                raise CheckpointError(f"signature by {self.name} does not verify") from exc
            return text
        raise CheckpointError(f"note has no signature by {self.name}+{self.key_id:08x}")

    def verify_note(self, note_text: str, origin: str | None = None) -> Checkpoint:
        """Return the checkpoint of a note signed by this key; raise CheckpointError otherwise."""
        checkpoint = Checkpoint.parse(self.open_note(note_text))
        if origin is not None and checkpoint.origin != origin:
            raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
        return checkpoint


def write_private_key(path: str | os.PathLike[str], signer: Signer) -> None:
    """Create a key file readable by its owner only; refuse to overwrite (FileExistsError)."""
    data = (signer.private_key_text() + "\n").encode("ascii")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
    except BaseException:
        os.close(descriptor)
        # A half-written key is worse than none: the next start would fail to parse it.
        os.unlink(path)
        raise
    os.close(descriptor)


def load_signer(path: str | os.PathLike[str]) -> Signer:
    """Read a private key file; raise KeyFileError if it is missing, unreadable or malformed."""
    try:
        text = Path(path).read_text(encoding="ascii")
    except FileNotFoundError as exc:
        raise KeyFileError(f"signing key file {os.fspath(path)} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"signing key file {os.fspath(path)} is unreadable: {exc}") from exc
    try:
        return Signer.from_private_key(text)
    except CheckpointError as exc:
        raise KeyFileError(f"signing key file {os.fspath(path)} is malformed: {exc}") from exc


def publish(note_text: str, path: str | os.PathLike[str]) -> None:
    """Append a signed note to an append-only text file, followed by a blank line, and fsync it."""
    split_note(note_text)
    data = (note_text + "\n").encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        # One write call: O_APPEND keeps concurrent publishers from interleaving within a note.
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_published(path: str | os.PathLike[str]) -> list[str]:
    """Return the signed notes in a file written by publish, oldest first."""
    return split_published(Path(path).read_text(encoding="utf-8"))


def split_published(content: str) -> list[str]:
    """Return the signed notes in published text (notes separated by blank lines), oldest first."""
    notes: list[str] = []
    current: list[str] = []
    in_signatures = False
    for line in content.split("\n"):
        if line == "" and current and current[-1].startswith(SIGNATURE_DASH) and in_signatures:
            notes.append("\n".join(current) + "\n")
            current, in_signatures = [], False
        elif line == "" and not current:
            continue
        else:
            if line == "":
                in_signatures = True
            current.append(line)
    if current:
        raise CheckpointError("published file ends with an incomplete note")
    return notes
