"""Witnesses (audit.witness, audit.cosignature): the cosignature/v1 byte layout against a vector built by
hand from c2sp.org/tlog-cosignature, a cosigned note that a standard signed-note reader still opens, and
a witness that cosigns only checkpoints extending its own view, answering as c2sp.org/tlog-witness says."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.checkpoint import Checkpoint, Signer
from audit.cosignature import CosignatureVerifier, Cosigner, merge_signatures, valid_cosignatures
from audit.errors import CheckpointError
from audit.merkle import EMPTY_ROOT, leaf_hash
from audit.tree import Tree
from audit.witness import SIZE_TYPE, Witness, WitnessState, add_checkpoint_body, parse_add_checkpoint

#: The Ed25519 seed of Go's golang.org/x/mod/sumdb/note example key (PeterNeumann).
GO_EXAMPLE_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
CHECKPOINT_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
TIME = 1679315147
ORIGIN = "decoy.example/audit"


def test_a_cosignature_line_is_laid_out_as_the_specification_says() -> None:
    """Key ID, timestamp and signature computed here from the specification alone, with raw Ed25519."""
    private = Ed25519PrivateKey.from_private_bytes(GO_EXAMPLE_SEED)
    public = private.public_key().public_bytes_raw()
    name = "witness.example/w1"
    # key ID = SHA-256(name || 0x0A || 0x04 || public key)[:4]
    key_id = hashlib.sha256(name.encode() + b"\n" + b"\x04" + public).digest()[:4]
    message = b"cosignature/v1\ntime 1679315147\n" + CHECKPOINT_TEXT.encode()
    payload = key_id + struct.pack(">Q", TIME) + private.sign(message)
    by_hand = "\u2014 " + name + " " + base64.b64encode(payload).decode() + "\n"
    cosigner = Cosigner(name, GO_EXAMPLE_SEED)
    assert cosigner.cosign(CHECKPOINT_TEXT, TIME) == by_hand
    assert len(payload) == 76
    typed_key = base64.b64encode(bytes([4]) + public).decode()
    assert cosigner.verifier_key_text() == f"{name}+{key_id.hex()}+{typed_key}"
    # The vector of docs/evidence-format.md, "Cosigned checkpoints".
    assert cosigner.verifier_key_text() == (
        "witness.example/w1+cc9a7044+BBpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    )
    assert by_hand == (
        "\u2014 witness.example/w1 zJpwRAAAAABkGFDLJeR//pqzhnEKVvEm2wWbh2RJ6oru5+cUUfm5X9NnlaGr8aS"
        "H9QE5RVZD4QGlxl2F5UpVIIi94p178KLfqPPsAA==\n"
    )


def _go_open(note: str, known: dict[tuple[str, int], Ed25519PublicKey]) -> str:
    """A signed-note reader written from Go's note.Open: signatures of unknown keys are ignored, a known
    key's must verify, and one known signature must."""
    cut = note.rindex("\n\n")
    text, block = note[: cut + 1], note[cut + 2 :]
    verified = 0
    for line in block.splitlines():
        assert line.startswith("\u2014 ")
        name, encoded = line[2:].split(" ", 1)
        raw = base64.b64decode(encoded, validate=True)
        key = known.get((name, int.from_bytes(raw[:4], "big")))
        if key is None:
            continue
        key.verify(raw[4:], text.encode())
        verified += 1
    assert verified, "no known signature"
    return text


def test_a_cosigned_note_opens_with_a_standard_reader_that_ignores_unknown_signatures() -> None:
    log = Signer(ORIGIN, bytes(range(32)))
    tree = Tree([leaf_hash(b"entry %d" % i) for i in range(5)])
    note = log.sign(Checkpoint(ORIGIN, 5, tree.root()))
    witnesses = [Cosigner.generate("om.example/w1"), Cosigner.generate("court.example/w2")]
    text = Checkpoint(ORIGIN, 5, tree.root()).body()
    cosigned = merge_signatures(note, [w.cosign(text, TIME + i) for i, w in enumerate(witnesses)])
    log_key = Ed25519PublicKey.from_public_bytes(log.public_key)
    assert _go_open(cosigned, {(ORIGIN, log.key_id): log_key}) == text
    assert log.verifier().verify_note(cosigned).size == 5
    found = valid_cosignatures(cosigned, [w.verifier() for w in witnesses])
    assert sorted(found.values()) == [TIME, TIME + 1]
    # Merging again adds nothing; a forged line of a known witness is an error, not a missing signature.
    assert merge_signatures(cosigned, [witnesses[0].cosign(text, TIME)]) == cosigned
    forged = merge_signatures(note, [witnesses[0].cosign(text.replace("5", "6", 1), TIME)])
    with pytest.raises(CheckpointError, match="does not verify"):
        valid_cosignatures(forged, [witnesses[0].verifier()])
    with pytest.raises(InvalidSignature):
        other = Cosigner("om.example/w1", bytes(32))
        _go_open(forged, {("om.example/w1", witnesses[0].key_id): Ed25519PublicKey.from_public_bytes(
            other.public_key)})


def test_keys_round_trip_and_refuse_the_wrong_type() -> None:
    cosigner = Cosigner.generate("om.example/w1")
    assert Cosigner.from_private_key(cosigner.private_key_text()).public_key == cosigner.public_key
    verifier = CosignatureVerifier.from_key_text(cosigner.verifier_key_text())
    assert verifier.key_text() == cosigner.verifier_key_text()
    log = Signer.generate(ORIGIN)
    with pytest.raises(CheckpointError, match="cosignature/v1"):
        CosignatureVerifier.from_key_text(log.verifier_key_text())


class Log:
    """A log of numbered entries signed with the log's key, as Decoy's would be."""

    def __init__(self, signer: Signer, entries: int, prefix: bytes = b"entry") -> None:
        self.signer = signer
        self.tree = Tree([leaf_hash(b"%s %d" % (prefix, i)) for i in range(entries)])

    def note(self, size: int) -> str:
        return self.signer.sign(Checkpoint(ORIGIN, size, self.tree.root(size) if size else EMPTY_ROOT))

    def request(self, old: int, size: int) -> bytes:
        proof = self.tree.consistency_proof(old, size) if 0 < old < size else []
        return add_checkpoint_body(old, proof, self.note(size))


@pytest.fixture
def log_key() -> Signer:
    return Signer(ORIGIN, bytes(range(32)))


@pytest.fixture
def witness(tmp_path: Path, log_key: Signer) -> Witness:
    return Witness(Cosigner.generate("om.example/w1"), ORIGIN, log_key.verifier(),
                   WitnessState(tmp_path / "state.json"), clock=lambda: TIME)


def test_the_witness_cosigns_a_log_that_grows_and_remembers_it(witness: Witness, log_key: Signer) -> None:
    log = Log(log_key, 20)
    first = witness.add_checkpoint(log.request(0, 7))
    assert first.status == 200, first.body
    cosigned = merge_signatures(log.note(7), [first.body.decode()])
    assert witness.cosigner.verifier().cosigned_at(cosigned) == TIME
    assert witness.add_checkpoint(log.request(7, 20)).status == 200
    assert witness.add_checkpoint(log.request(20, 20)).status == 200  # the same head again: fresh
    view = json.loads(witness.state.path.read_text())
    assert view["size"] == 20 and base64.b64decode(view["root"]) == log.tree.root(20)
    # A client that believes the witness is elsewhere learns its size.
    stale = witness.add_checkpoint(log.request(7, 20))
    assert (stale.status, stale.content_type, stale.body) == (409, SIZE_TYPE, b"20\n")


def test_a_forked_log_signed_with_the_real_key_is_refused(witness: Witness, log_key: Signer) -> None:
    real = Log(log_key, 12)
    assert witness.add_checkpoint(real.request(0, 8)).status == 200
    # The database rebuilt with other entries and signed again with the log's own key.
    forked = Log(log_key, 12, prefix=b"rewritten")
    same_size = witness.add_checkpoint(forked.request(8, 8))
    assert same_size.status == 422 and b"forked" in same_size.body
    # A proof of the forked tree from size 8 does not extend the root the witness holds.
    longer = witness.add_checkpoint(forked.request(8, 12))
    assert longer.status == 422 and b"forked" in longer.body
    assert witness.state.read().root == real.tree.root(8)  # nothing of the fork was stored
    assert witness.add_checkpoint(real.request(8, 12)).status == 200


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ("origin", 404),
        ("key", 403),
        ("old larger", 400),
        ("malformed", 400),
        ("proof from zero", 422),
        ("empty root", 422),
    ],
)
def test_what_the_witness_refuses(witness: Witness, log_key: Signer, change: str, status: int) -> None:
    log = Log(log_key, 6)
    other = "other.example/log"
    stranger = Signer(other, bytes(32)).sign(Checkpoint(other, 6, log.tree.root()))
    impostor = Signer(ORIGIN, bytes(32)).sign(Checkpoint(ORIGIN, 6, log.tree.root()))
    body = {
        "origin": add_checkpoint_body(0, [], stranger),
        "key": add_checkpoint_body(0, [], impostor),
        "old larger": add_checkpoint_body(7, [], log.note(6)),
        "malformed": b"old 0\nnot base64!\n\n" + log.note(6).encode(),
        "proof from zero": add_checkpoint_body(0, [log.tree.root(3)], log.note(6)),
        "empty root": add_checkpoint_body(0, [], log_key.sign(Checkpoint(ORIGIN, 0, log.tree.root()))),
    }[change]
    answer = witness.add_checkpoint(body)
    assert answer.status == status, answer.body
    assert not witness.state.path.exists()  # a refusal stores nothing


def test_a_request_round_trips() -> None:
    proof = [hashlib.sha256(b"%d" % i).digest() for i in range(3)]
    note = Signer(ORIGIN, bytes(range(32))).sign(Checkpoint(ORIGIN, 9, bytes(32)))
    assert parse_add_checkpoint(add_checkpoint_body(5, proof, note)) == (5, proof, note)
    with pytest.raises(CheckpointError):
        parse_add_checkpoint(b"old 05\n\n" + note.encode())
