"""The audit part of an evidence bundle (a ZIP): its format, small writers, and its verifier.

Standard library and cryptography only: a court's expert runs ``python -m audit verify BUNDLE.zip``
with no database and no Flask.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audit.checkpoint import Checkpoint, CheckpointError, Verifier, split_note
from audit.cosignature import CosignatureVerifier, valid_cosignatures
from audit.entry import decode_entry
from audit.merkle import verify_consistency, verify_inclusion

__all__ = [
    "BUNDLE_FORMAT",
    "CHECKPOINT_PATH",
    "CONSISTENCY_PATH",
    "ENTRIES_PATH",
    "MANIFEST_PATH",
    "MANIFEST_SIGNATURE_PATH",
    "PUBLIC_KEY_PATH",
    "TIMESTAMP_PATH",
    "BundleCheck",
    "BundleNote",
    "VerifyReport",
    "consistency_json",
    "entry_line",
    "manifest_json",
    "manifest_note_text",
    "verify_bundle",
]

BUNDLE_FORMAT = "decoy-evidence-bundle/1"
MANIFEST_PATH = "manifest.json"
MANIFEST_SIGNATURE_PATH = "manifest.sig"
CHECKPOINT_PATH = "audit/checkpoint.txt"
#: The time-stamp authority's token (RFC 3161) for the checkpoint's note text, when the bundle has one.
TIMESTAMP_PATH = "audit/checkpoint.tsr"
PUBLIC_KEY_PATH = "audit/public_key.txt"
ENTRIES_PATH = "audit/entries.jsonl"
CONSISTENCY_PATH = "audit/consistency.json"

#: A check of a bundle's other files against its proven entries (by index): a failure reason naming
#: the file or entry, or None. Decoy's evidence bundles: audit.evidence_bundle.EVIDENCE_BUNDLE_CHECKS.
BundleCheck = Callable[[zipfile.ZipFile, dict[int, dict[str, Any]]], str | None]
#: A remark on an intact bundle's proven entries (by index) that is no failure, or None.
BundleNote = Callable[[dict[int, dict[str, Any]]], str | None]


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of a verification; ``first_bad_index`` and ``file`` name what failed first.

    ``ok``: intact, as far as the key that signed it goes. For a bundle, whose key travels inside it,
    ``vouched_by`` says what vouches for that key (the key given out of band, or a published checkpoint);
    None means nothing does, and ``trusted`` is false: a forger re-signs with a key of their own.
    """

    ok: bool
    first_bad_index: int | None
    reason: str
    entries: int
    checkpoints: int
    file: str | None = None
    vouched_by: str | None = None
    notes: tuple[str, ...] = ()
    #: The witnesses (of those given) whose cosignature verified.
    witnessed_by: tuple[str, ...] = ()
    #: When and by whom the checkpoint was stamped, when its time-stamp token was checked.
    stamped: str | None = None

    @property
    def trusted(self) -> bool:
        """Intact, and signed by a key vouched for from outside the bundle."""
        return self.ok and self.vouched_by is not None


class _Failure(Exception):
    def __init__(self, reason: str, *, file: str | None = None, index: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.file, self.index = reason, file, index


def _b64(text: object, what: str, file: str, index: int | None = None) -> bytes:
    try:
        if type(text) is not str:
            raise ValueError("not a string")
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, binascii.Error) as exc:
        raise _Failure(f"{file}: {what} is not base64", file=file, index=index) from exc
    return raw


def entry_line(index: int, entry_bytes: bytes, leaf_hash: bytes, inclusion_proof: Sequence[bytes]) -> str:
    """Return one line of audit/entries.jsonl (with its newline)."""
    record = {
        "index": index,
        "entry": base64.b64encode(entry_bytes).decode("ascii"),
        "leaf_hash": base64.b64encode(leaf_hash).decode("ascii"),
        "inclusion_proof": [base64.b64encode(h).decode("ascii") for h in inclusion_proof],
    }
    return json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"


def consistency_json(previous_note: str, proof: Sequence[bytes]) -> bytes:
    """Return audit/consistency.json proving the bundle's checkpoint extends ``previous_note``."""
    record = {
        "previous_checkpoint": previous_note,
        "proof": [base64.b64encode(h).decode("ascii") for h in proof],
    }
    return json.dumps(record, sort_keys=True, indent=1, ensure_ascii=False).encode("utf-8")


def manifest_json(files: Mapping[str, tuple[str, int]]) -> bytes:
    """Return manifest.json for files given as path -> (sha256 hex, size)."""
    listed = {path: {"sha256": digest, "size": size} for path, (digest, size) in sorted(files.items())}
    return json.dumps({"format": BUNDLE_FORMAT, "files": listed}, indent=1, sort_keys=True).encode("utf-8")


def manifest_note_text(manifest: bytes) -> str:
    """The text of the signed note that binds a manifest (and so every file it lists) to the log's key."""
    return f"{BUNDLE_FORMAT} manifest\nsha256 {hashlib.sha256(manifest).hexdigest()}\n"


def _check_manifest_signature(bundle: zipfile.ZipFile, verifier: Verifier) -> None:
    note = _text(bundle, MANIFEST_SIGNATURE_PATH)
    try:
        signed = verifier.open_note(note)
    except CheckpointError as exc:
        raise _Failure(f"{MANIFEST_SIGNATURE_PATH}: {exc}", file=MANIFEST_SIGNATURE_PATH) from exc
    if signed != manifest_note_text(_read(bundle, MANIFEST_PATH)):
        raise _Failure(
            f"{MANIFEST_SIGNATURE_PATH}: the signature is not over this {MANIFEST_PATH}", file=MANIFEST_PATH
        )


def _read(bundle: zipfile.ZipFile, path: str) -> bytes:
    try:
        return bundle.read(path)
    except KeyError as exc:
        raise _Failure(f"{path} is missing", file=path) from exc


def _check_manifest(bundle: zipfile.ZipFile) -> None:
    names = [info.filename for info in bundle.infolist() if not info.is_dir()]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        name = sorted(duplicates)[0]
        raise _Failure(f"{name} appears more than once in the bundle", file=name)
    try:
        manifest = json.loads(_read(bundle, MANIFEST_PATH).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Failure(f"{MANIFEST_PATH} is not valid JSON", file=MANIFEST_PATH) from exc
    if (
        type(manifest) is not dict
        or manifest.get("format") != BUNDLE_FORMAT
        or type(manifest.get("files")) is not dict
    ):
        raise _Failure(f"{MANIFEST_PATH} is not a {BUNDLE_FORMAT} manifest", file=MANIFEST_PATH)
    listed: dict[str, Any] = manifest["files"]
    present = set(names) - {MANIFEST_PATH, MANIFEST_SIGNATURE_PATH}
    for name in sorted(set(listed) - present):
        raise _Failure(f"{name} is listed in the manifest but missing from the bundle", file=name)
    for name in sorted(present - set(listed)):
        raise _Failure(f"{name} is in the bundle but not listed in the manifest", file=name)
    for name in sorted(listed):
        record = listed[name]
        if (
            type(record) is not dict
            or type(record.get("sha256")) is not str
            or type(record.get("size")) is not int
        ):
            raise _Failure(f"{MANIFEST_PATH}: malformed record for {name}", file=MANIFEST_PATH)
        digest, size = hashlib.sha256(), 0
        with bundle.open(name) as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
        if size != record["size"]:
            raise _Failure(f"{name}: size {size} differs from the manifest ({record['size']})", file=name)
        if digest.hexdigest() != record["sha256"]:
            raise _Failure(f"{name}: SHA-256 differs from the manifest", file=name)


def _text(bundle: zipfile.ZipFile, path: str) -> str:
    try:
        return _read(bundle, path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Failure(f"{path} is not UTF-8", file=path) from exc


def _check_checkpoint(bundle: zipfile.ZipFile, expected_key: str | None) -> tuple[Verifier, Checkpoint]:
    try:
        verifier = Verifier.from_key_text(_text(bundle, PUBLIC_KEY_PATH))
    except CheckpointError as exc:
        raise _Failure(f"{PUBLIC_KEY_PATH}: {exc}", file=PUBLIC_KEY_PATH) from exc
    if expected_key is not None:
        try:
            expected = Verifier.from_key_text(expected_key)
        except CheckpointError as exc:
            raise _Failure(f"the expected key is malformed: {exc}") from exc
        if expected.key_text() != verifier.key_text():
            raise _Failure(
                f"{PUBLIC_KEY_PATH} is not the expected key {expected.key_text()}", file=PUBLIC_KEY_PATH
            )
    try:
        checkpoint = verifier.verify_note(_text(bundle, CHECKPOINT_PATH))
    except CheckpointError as exc:
        raise _Failure(f"{CHECKPOINT_PATH}: {exc}", file=CHECKPOINT_PATH) from exc
    return verifier, checkpoint


def _check_entries(bundle: zipfile.ZipFile, checkpoint: Checkpoint) -> dict[int, dict[str, Any]]:
    decoded: dict[int, dict[str, Any]] = {}
    previous = -1
    for number, line in enumerate(_text(bundle, ENTRIES_PATH).splitlines(), start=1):
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise _Failure(f"{ENTRIES_PATH} line {number} is not JSON", file=ENTRIES_PATH) from exc
        if type(record) is not dict or set(record) != {"index", "entry", "leaf_hash", "inclusion_proof"}:
            raise _Failure(f"{ENTRIES_PATH} line {number} is malformed", file=ENTRIES_PATH)
        index = record["index"]
        if type(index) is not int or index <= previous:
            raise _Failure(f"{ENTRIES_PATH} line {number}: indexes must increase", file=ENTRIES_PATH)
        previous = index
        where = f"entry {index}"
        data = _b64(record["entry"], f"{where} bytes", ENTRIES_PATH, index)
        stated = _b64(record["leaf_hash"], f"{where} leaf hash", ENTRIES_PATH, index)
        proof_texts = record["inclusion_proof"]
        if type(proof_texts) is not list:
            raise _Failure(f"{where}: inclusion proof is not a list", file=ENTRIES_PATH, index=index)
        proof = [_b64(h, f"{where} proof", ENTRIES_PATH, index) for h in proof_texts]
        digest = hashlib.sha256(b"\x00" + data).digest()
        if digest != stated:
            raise _Failure(
                f"{where}: leaf hash does not match the entry bytes", file=ENTRIES_PATH, index=index
            )
        try:
            entry = decode_entry(data)
        except ValueError as exc:
            raise _Failure(f"{where}: {exc}", file=ENTRIES_PATH, index=index) from exc
        if entry["index"] != index:
            raise _Failure(
                f"{where}: the entry records index {entry['index']}", file=ENTRIES_PATH, index=index
            )
        if not verify_inclusion(index, checkpoint.size, digest, proof, checkpoint.root):
            raise _Failure(
                f"{where}: inclusion proof fails against the checkpoint (size {checkpoint.size})",
                file=ENTRIES_PATH,
                index=index,
            )
        decoded[index] = entry
    return decoded


def _check_consistency(
    bundle: zipfile.ZipFile, verifier: Verifier, checkpoint: Checkpoint
) -> Checkpoint | None:
    """The earlier checkpoint audit/consistency.json proves the bundle's extends, if it is present."""
    if CONSISTENCY_PATH not in bundle.namelist():
        return None
    try:
        record = json.loads(_text(bundle, CONSISTENCY_PATH))
        previous = verifier.verify_note(record["previous_checkpoint"], origin=checkpoint.origin)
        proof_texts = record["proof"]
        if type(proof_texts) is not list:
            raise ValueError("proof is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise _Failure(f"{CONSISTENCY_PATH}: {exc}", file=CONSISTENCY_PATH) from exc
    proof = [_b64(h, "proof", CONSISTENCY_PATH) for h in proof_texts]
    if not verify_consistency(previous.size, checkpoint.size, previous.root, checkpoint.root, proof):
        raise _Failure(
            f"{CONSISTENCY_PATH}: the checkpoint does not extend the previous one (size {previous.size})",
            file=CONSISTENCY_PATH,
        )
    return previous


def _vouch(
    verifier: Verifier, checkpoint: Checkpoint, previous: Checkpoint | None, published: Sequence[str]
) -> str | None:
    """What among the published checkpoints vouches for the bundle's key, or None.

    A published note signed by the bundle's key, at the bundle checkpoint's size or at the size its
    consistency proof starts from, with the same root, vouches for the key and for the bundle's tree.
    One at either size with another root is a fork: the bundle is refused.
    """
    signed: list[Checkpoint] = []
    for note in published:
        try:
            signed.append(verifier.verify_note(note, origin=checkpoint.origin))
        except CheckpointError:
            continue  # another log's or another key's note
    if not signed:
        raise _Failure(
            f"none of the {len(published)} published checkpoints given is signed by the bundle's key "
            f"{verifier.key_text()}: that key is not the log's",
            file=PUBLIC_KEY_PATH,
        )
    known = [checkpoint] + ([previous] if previous is not None else [])
    matched: list[int] = []
    for candidate in signed:
        for ours in known:
            if candidate.size != ours.size:
                continue
            if candidate.root != ours.root:
                where = CHECKPOINT_PATH if ours is checkpoint else CONSISTENCY_PATH
                raise _Failure(
                    f"{where}: a published checkpoint of size {ours.size} has another root (a forked log)",
                    file=where,
                )
            matched.append(candidate.size)
    # The bundle's own checkpoint, when it was published, before the one its proof starts from.
    return f"the published checkpoint of size {max(matched)}" if matched else None


def _check_witnesses(bundle: zipfile.ZipFile, keys: Sequence[str], quorum: int) -> tuple[str, ...]:
    """The witnesses among ``keys`` whose cosignature verifies on the bundle's own checkpoint; at least
    ``quorum`` of them, or the bundle fails. Keys are counted once per public key (a cosignature does not
    sign the witness's name, so one key under two names is one witness). A cosignature on an earlier
    checkpoint does not count: it says nothing of the entries after it."""
    try:
        verifiers = [CosignatureVerifier.from_key_text(key) for key in keys]
    except CheckpointError as exc:
        raise _Failure(f"a witness key given is malformed: {exc}") from exc
    try:
        valid = valid_cosignatures(_text(bundle, CHECKPOINT_PATH), verifiers)
    except CheckpointError as exc:
        raise _Failure(f"{CHECKPOINT_PATH}: {exc}", file=CHECKPOINT_PATH) from exc
    cosigned: dict[bytes, str] = {}
    for verifier in verifiers:
        if verifier.key_text() in valid:
            cosigned.setdefault(verifier.public_key, verifier.name)
    given = len({verifier.public_key for verifier in verifiers})
    if len(cosigned) < quorum:
        raise _Failure(
            f"{CHECKPOINT_PATH}: {len(cosigned)} of the {given} witnesses given cosigned the checkpoint; "
            f"{quorum} required",
            file=CHECKPOINT_PATH,
        )
    return tuple(cosigned.values())


def _check_stamp(bundle: zipfile.ZipFile, certificates: bytes) -> str:
    """The bundle's time-stamp token checked against the checkpoint's note text and the authorities'
    certificates (PEM): when and by whom it was stamped."""
    from audit.timestamp import StampError, check_stamp, load_certificates

    if TIMESTAMP_PATH not in bundle.namelist():
        raise _Failure(f"{TIMESTAMP_PATH}: the bundle carries no time-stamp token", file=TIMESTAMP_PATH)
    text, _signatures = split_note(_text(bundle, CHECKPOINT_PATH))
    try:
        roots, intermediates = load_certificates(certificates)
        stamp = check_stamp(_read(bundle, TIMESTAMP_PATH), text.encode("utf-8"), roots, intermediates)
    except StampError as exc:
        raise _Failure(f"{TIMESTAMP_PATH}: {exc}", file=TIMESTAMP_PATH) from exc
    return f"{stamp.at.isoformat()} by {stamp.signer}"


def verify_bundle(
    path: str | os.PathLike[str],
    expected_key: str | None = None,
    *,
    published: Sequence[str] = (),
    checks: Iterable[BundleCheck] = (),
    notes: Iterable[BundleNote] = (),
    witnesses: Sequence[str] = (),
    quorum: int = 0,
    tsa_certs: bytes | None = None,
) -> VerifyReport:
    """Verify an evidence bundle: manifest, checkpoint signature, entries and proofs, then ``checks``.

    The bundle carries its own key, so an intact report proves nothing about who signed it unless the
    key is vouched for (``vouched_by``): by ``expected_key`` (given out of band), or by ``published``
    (signed notes published by the log) holding the bundle's checkpoint or the one its consistency proof
    starts from. ``notes`` remark on the proven entries of an intact bundle. ``witnesses`` (cosignature
    verifier keys) are checked on the checkpoint, and ``quorum`` of them must have cosigned it; with
    ``tsa_certs`` (PEM), the checkpoint's time-stamp token must verify against them.
    """
    entries = checkpoints = 0
    try:
        with zipfile.ZipFile(path) as bundle:
            _check_manifest(bundle)
            verifier, checkpoint = _check_checkpoint(bundle, expected_key)
            checkpoints = 1
            decoded = _check_entries(bundle, checkpoint)
            entries = len(decoded)
            previous = _check_consistency(bundle, verifier, checkpoint)
            checkpoints += previous is not None
            for check in checks:
                problem = check(bundle, decoded)
                if problem is not None:
                    raise _Failure(problem)
            # Last: the signature binds the manifest, and so every file it lists, to the log's key.
            _check_manifest_signature(bundle, verifier)
            witnessed_by = _check_witnesses(bundle, witnesses, quorum)
            stamped = None if tsa_certs is None else _check_stamp(bundle, tsa_certs)
            vouched_by = "the key given" if expected_key is not None else None
            if published:
                vouched_by = _vouch(verifier, checkpoint, previous, published) or vouched_by
            remarks = tuple(filter(None, (note(decoded) for note in notes)))
    except _Failure as failure:
        return VerifyReport(False, failure.index, failure.reason, entries, checkpoints, failure.file)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        RuntimeError,
        NotImplementedError,
    ) as exc:
        # Includes a CRC mismatch, which zipfile reports naming the damaged member.
        return VerifyReport(False, None, f"the bundle is not a readable ZIP: {exc}", entries, checkpoints)
    except Exception as exc:  # a damaged archive can make zipfile raise almost anything
        return VerifyReport(False, None, f"the bundle is damaged: {exc!r}", entries, checkpoints)
    reason = f"intact: {entries} entries proven in checkpoint {checkpoint.origin} size {checkpoint.size}"
    if vouched_by is None:
        reason += f", signed by the key inside the bundle ({verifier.key_text()}), which nothing vouches for"
    else:
        reason += f", signed by {verifier.key_text()}, vouched for by {vouched_by}"
    if witnessed_by:
        reason += f"; cosigned by {len(witnessed_by)} witness{'es' if len(witnessed_by) > 1 else ''}: "
        reason += ", ".join(witnessed_by)
    if stamped is not None:
        reason += f"; time-stamped {stamped}"
    return VerifyReport(True, None, reason, entries, checkpoints, None, vouched_by, remarks, witnessed_by,
                        stamped)
