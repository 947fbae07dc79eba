"""docs/evidence-format.md is enough to check a bundle's manifest signature without Decoy's code.

The test reads the manifest signature test vector from the document and checks it with `cryptography`
alone, as an independent verifier written from section 4 would; then checks that Decoy's own writer
produces the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.bundle import manifest_json, manifest_note_text
from audit.checkpoint import Signer

DOC = Path(__file__).resolve().parents[2] / "docs" / "evidence-format.md"


def _vector() -> tuple[str, bytes, str]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Manifest signature test vector") :]
    key = re.search(r"verifier key\s+`([^`]+)`", section)
    blocks = re.findall(r"```\n(.*?)```", section, flags=re.S)
    assert key is not None and len(blocks) >= 2
    return key.group(1), blocks[0].removesuffix("\n").encode("utf-8"), blocks[1]


def test_the_documented_manifest_signature_verifies_from_the_document_alone() -> None:
    key_text, manifest, note = _vector()
    name, key_id_hex, key_b64 = key_text.split("+", 2)
    raw_key = base64.b64decode(key_b64)
    assert raw_key[0] == 1 and len(raw_key) == 33
    # Section 3: key ID = first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key).
    assert hashlib.sha256(name.encode() + b"\n" + raw_key).digest()[:4].hex() == key_id_hex
    body, _, signature_line = note.partition("\n\n")
    body += "\n"
    assert body == f"decoy-evidence-bundle/1 manifest\nsha256 {hashlib.sha256(manifest).hexdigest()}\n"
    dash, signer_name, blob = signature_line.strip("\n").split(" ")
    assert dash == "\u2014" and signer_name == name
    decoded = base64.b64decode(blob)
    assert decoded[:4].hex() == key_id_hex
    Ed25519PublicKey.from_public_bytes(raw_key[1:]).verify(decoded[4:], body.encode("utf-8"))


def test_decoys_writer_produces_the_documented_vector() -> None:
    key_text, manifest, note = _vector()
    signer = Signer("decoy.example/audit", bytes(range(32)))
    assert signer.verifier_key_text() == key_text
    written = manifest_json({"audit/public_key.txt": (hashlib.sha256(b"x\n").hexdigest(), 2)})
    assert written == manifest
    assert signer.sign_text(manifest_note_text(written)) == note
    # Ed25519 is deterministic: the same seed and text give the same signature (RFC 8032).
    seed_key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    assert seed_key.public_key().public_bytes_raw() == base64.b64decode(key_text.split("+", 2)[2])[1:]


def test_the_documented_row_hash_vector() -> None:
    """Section 1's row hash vector: SHA-256 of the canonical columns, as both verifiers compute it."""
    from audit.entry import canonical_json
    from audit.evidence_bundle import decision_row_sha256

    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"Test vector: the decision `([^`]+)`\s+has the row hash `([0-9a-f]{64})`", text)
    assert found is not None
    columns, digest = found.group(1), found.group(2)
    assert hashlib.sha256(columns.encode("utf-8")).hexdigest() == digest
    decoded = json.loads(columns)
    assert canonical_json(decoded).decode("utf-8") == columns
    # The bundle shows the decision in the operation's zone, with the account's name beside its id.
    shown = {
        "id": decoded["id"], "decision": decoded["decision"], "rationale": decoded["rationale"],
        "decided_by": "lena", "decided_by_id": decoded["decided_by"], "profiles": decoded["profiles"],
        "decided_at": "2026-03-02T10:00:00+01:00",
    }
    assert decision_row_sha256(decoded["review_id"], shown) == digest


def test_the_documented_text_commitments_are_hmac_sha256_under_the_key() -> None:
    """Section 1, "Text commitments": each vector recomputed with the standard library alone, and by the
    function Decoy's verifier uses."""
    import hmac

    from audit.evidence_bundle.records import text_commitment

    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Text commitments") : text.index("## 2. The Merkle tree")]
    key = re.search(r"key: the bytes 0 to 31, `([0-9a-f]{64})`", section)
    assert key is not None and bytes.fromhex(key.group(1)) == bytes(range(32))
    row = r"^\| (`[^`]*`|\(empty\)) \| `([0-9a-f]{64})` \| `([0-9a-f]{64})` \|$"
    rows = re.findall(row, section, flags=re.M)
    assert len(rows) == 3
    for shown, commitment, sha256 in rows:
        plain = "" if shown == "(empty)" else shown.strip("`")
        assert hmac.new(bytes(range(32)), plain.encode(), hashlib.sha256).hexdigest() == commitment
        assert text_commitment(key.group(1), plain) == commitment
        assert hashlib.sha256(plain.encode()).hexdigest() == sha256


def test_the_documented_cosigned_checkpoint_verifies_from_the_document() -> None:
    """Section 5, "Cosigned checkpoint test vector": the log's line opens with the log's key, the witness's
    line verifies over the cosignature/v1 message with raw Ed25519, and Decoy's writer gives the same note."""
    from audit.checkpoint import Checkpoint, Signer, Verifier
    from audit.cosignature import Cosigner, merge_signatures

    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Cosigned checkpoint test vector") :]
    key_text = re.search(r"verifier key\s+`([^`]+)`", section)
    note = re.findall(r"```\n(.*?)```", section, flags=re.S)[0]
    assert key_text is not None
    log = Verifier.from_key_text("decoy.example/audit+21b25ec3+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4")
    checkpoint = log.verify_note(note)
    name, key_id_hex, typed = key_text.group(1).split("+", 2)
    raw_key = base64.b64decode(typed)
    assert raw_key[0] == 4
    assert hashlib.sha256(name.encode() + b"\n" + raw_key).digest()[:4].hex() == key_id_hex
    line = [row for row in note.splitlines() if row.startswith(f"\u2014 {name} ")][0]
    payload = base64.b64decode(line.split(" ")[2])
    assert payload[:4].hex() == key_id_hex and int.from_bytes(payload[4:12], "big") == 1679315147
    message = b"cosignature/v1\ntime 1679315147\n" + checkpoint.body().encode()
    Ed25519PublicKey.from_public_bytes(raw_key[1:]).verify(payload[12:], message)
    seed = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
    written = Signer("decoy.example/audit", bytes(range(32))).sign(
        Checkpoint("decoy.example/audit", checkpoint.size, checkpoint.root)
    )
    cosigned = merge_signatures(written, [Cosigner(name, seed).cosign(checkpoint.body(), 1679315147)])
    assert cosigned == note
