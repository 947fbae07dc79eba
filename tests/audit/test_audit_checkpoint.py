"""Signed notes and checkpoints interoperate with Go's sumdb/note and refuse every alteration."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    KeyFileError,
    Signer,
    Verifier,
    load_signer,
    publish,
    read_published,
    write_private_key,
)
from audit.merkle import EMPTY_ROOT

# golang.org/x/mod/sumdb/note example (note_test.go).
GO_PRIVATE = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_PUBLIC = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6K"
    "E6RyyBwJnAM=\n"
)

ROOT = bytes(range(32))


def test_keys_and_signature_match_go_sumdb_note() -> None:
    signer = Signer.from_private_key(GO_PRIVATE)
    assert signer.private_key_text() == GO_PRIVATE
    assert signer.verifier_key_text() == GO_PUBLIC
    assert f"{signer.key_id:08x}" == "c74f20a3"
    assert signer.sign_text(GO_TEXT) == GO_NOTE
    assert Verifier.from_key_text(GO_PUBLIC).open_note(GO_NOTE) == GO_TEXT


def test_checkpoint_round_trip(signer: Signer) -> None:
    checkpoint = Checkpoint("decoy.example/audit", 42, ROOT)
    assert checkpoint.body() == f"decoy.example/audit\n42\n{base64.b64encode(ROOT).decode()}\n"
    note = signer.sign(checkpoint)
    assert note.startswith(checkpoint.body() + "\n\u2014 decoy.example/audit ")
    verifier = Verifier.from_key_text(signer.verifier_key_text())
    assert verifier.verify_note(note) == checkpoint
    assert verifier.verify_note(note, origin="decoy.example/audit") == checkpoint
    with pytest.raises(CheckpointError):
        verifier.verify_note(note, origin="elsewhere.example/log")
    fresh = Signer.from_private_key(Signer.generate("x.example/log").private_key_text())
    assert fresh.verifier().verify_note(fresh.sign(Checkpoint("x.example/log", 0, EMPTY_ROOT))).size == 0


def test_a_wrong_key_is_refused(signer: Signer) -> None:
    note = signer.sign(Checkpoint("decoy.example/audit", 1, ROOT))
    other = Signer.generate("decoy.example/audit").verifier()
    with pytest.raises(CheckpointError, match="no signature"):
        other.verify_note(note)


def test_an_altered_body_or_signature_is_refused(signer: Signer) -> None:
    note = signer.sign(Checkpoint("decoy.example/audit", 7, ROOT))
    verifier = signer.verifier()
    for altered in [
        note.replace("\n7\n", "\n8\n", 1),
        note.replace("decoy.example/audit\n", "decoy.example/audiT\n", 1),
        note.replace(base64.b64encode(ROOT).decode(), base64.b64encode(bytes(32)).decode(), 1),
    ]:
        with pytest.raises(CheckpointError):
            verifier.verify_note(altered)
    text, _, line = note.rpartition("\u2014 ")
    raw = bytearray(base64.b64decode(line.split(" ")[1]))
    for position in (0, 4, 40, 67):
        mutated = bytearray(raw)
        mutated[position] ^= 0x01
        altered = f"{text}\u2014 decoy.example/audit {base64.b64encode(bytes(mutated)).decode()}\n"
        with pytest.raises(CheckpointError):
            verifier.verify_note(altered)


def test_unknown_signatures_are_ignored_but_a_bad_known_one_rejects(signer: Signer) -> None:
    note = signer.sign(Checkpoint("decoy.example/audit", 3, ROOT))
    witness = Signer.generate("witness.example/w1")
    cosigned = note + witness.sign_text(note.split("\n\n")[0] + "\n").split("\n\n")[1]
    assert signer.verifier().verify_note(cosigned).size == 3
    assert witness.verifier().verify_note(cosigned).size == 3


@pytest.mark.parametrize(
    "body",
    [
        "o\n01\n" + base64.b64encode(ROOT).decode() + "\n",
        "o\n-1\n" + base64.b64encode(ROOT).decode() + "\n",
        "o\n1\n" + base64.b64encode(ROOT[:31]).decode() + "\n",
        "o\n1\n" + base64.b64encode(ROOT).decode().rstrip("=") + "\n",
        "o\n1\n" + base64.b64encode(ROOT).decode(),
        "o\n1\n",
        "o\n1\n" + base64.b64encode(ROOT).decode() + "\n\n",
        "o\n\u0661\n" + base64.b64encode(ROOT).decode() + "\n",
        "o o\n1\n" + base64.b64encode(ROOT).decode() + "\n",
        "\n1\n" + base64.b64encode(ROOT).decode() + "\n",
    ],
)
def test_malformed_checkpoint_bodies_are_refused(body: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse(body)


def test_extension_lines_are_kept() -> None:
    body = "o\n1\n" + base64.b64encode(ROOT).decode() + "\nextra\n"
    assert Checkpoint.parse(body).body() == body


@pytest.mark.parametrize(
    "note",
    [
        "",
        "no signatures\n",
        "text\n\n",
        "text\n\n\u2014 name\n",
        "text\n\n- name AAAAAAAA\n",
        "text\n\n\u2014 n !!\n",
    ],
)
def test_malformed_notes_are_refused(signer: Signer, note: str) -> None:
    with pytest.raises(CheckpointError):
        signer.verifier().verify_note(note)


@pytest.mark.parametrize(
    "key",
    [
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+Peter Neumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3",
        GO_PUBLIC,
    ],
)
def test_malformed_private_keys_are_refused(key: str) -> None:
    with pytest.raises(CheckpointError):
        Signer.from_private_key(key)


def test_malformed_verifier_keys_are_refused() -> None:
    for key in [GO_PUBLIC.replace("c74f20a3", "c74f20a4"), GO_PUBLIC + "=", GO_PRIVATE, "a+b"]:
        with pytest.raises(CheckpointError):
            Verifier.from_key_text(key)


def test_private_key_file_is_private_and_never_overwritten(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "audit.key"
    write_private_key(path, signer)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_signer(path).private_key_text() == signer.private_key_text()
    with pytest.raises(FileExistsError):
        write_private_key(path, Signer.generate("other.example/log"))
    assert load_signer(path).key_id == signer.key_id


def test_bad_key_files_give_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        load_signer(tmp_path / "missing.key")
    (tmp_path / "bad.key").write_text("PRIVATE+KEY+nonsense\n")
    with pytest.raises(KeyFileError, match="malformed"):
        load_signer(tmp_path / "bad.key")
    (tmp_path / "binary.key").write_bytes(b"\xff\xfe")
    with pytest.raises(KeyFileError, match="unreadable"):
        load_signer(tmp_path / "binary.key")


def test_published_notes_append_and_read_back(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "checkpoints.txt"
    notes = [signer.sign(Checkpoint("decoy.example/audit", size, ROOT)) for size in (1, 2, 5)]
    # The file is created 0o640 less the umask (`decoy` commands set 0o077 for the whole process).
    previous = os.umask(0o022)
    try:
        for note in notes:
            publish(note, path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert read_published(path) == notes
    assert path.read_text().count("\n\n") == 6
    with pytest.raises(CheckpointError):
        publish("not a note", path)
