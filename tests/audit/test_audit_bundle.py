"""An evidence bundle verifies with no database and no Flask, and any change to it is named."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import ORIGIN, build_bundle, make_entry, read_zip, write_zip
from bundle_log import OPERATION_ENTRIES, SIZE, Log
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.bundle import CHECKPOINT_PATH, ENTRIES_PATH, MANIFEST_PATH, PUBLIC_KEY_PATH, verify_bundle
from audit.checkpoint import Checkpoint, Signer
from audit.entry import encode_entry
from audit.merkle import leaf_hash
from audit.tree import Tree


@pytest.fixture
def log(signer: Signer) -> Log:
    return Log(signer)


def test_a_good_bundle_verifies(tmp_path: Path, log: Log) -> None:
    report = verify_bundle(log.bundle(tmp_path / "b.zip"))
    assert report.ok, report.reason
    assert report.entries == len(OPERATION_ENTRIES) and report.checkpoints == 2


def test_the_expected_key_is_enforced(tmp_path: Path, log: Log, signer: Signer) -> None:
    path = log.bundle(tmp_path / "b.zip")
    assert verify_bundle(path, expected_key=signer.verifier_key_text()).ok
    other = Signer.generate(ORIGIN).verifier_key_text()
    report = verify_bundle(path, expected_key=other)
    assert not report.ok and report.file == PUBLIC_KEY_PATH


def _rezip_with(path: Path, name: str, data: bytes) -> None:
    files = read_zip(path)
    files[name] = data
    write_zip(path, files)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_changing_any_byte_of_any_file_is_named(tmp_path: Path, log: Log, data: st.DataObject) -> None:
    path = log.bundle(tmp_path / "b.zip")
    files = read_zip(path)
    name = data.draw(st.sampled_from(sorted(files)))
    content = bytearray(files[name])
    position = data.draw(st.integers(0, len(content) - 1))
    content[position] ^= data.draw(st.integers(1, 255))
    _rezip_with(path, name, bytes(content))
    report = verify_bundle(path)
    assert not report.ok
    if name == MANIFEST_PATH:
        assert report.file in files or "manifest" in report.reason, report.reason
    else:
        assert report.file == name, report.reason
        assert name in report.reason


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaging_the_zip_itself_is_reported_not_raised(
    tmp_path: Path, log: Log, data: st.DataObject
) -> None:
    path = log.bundle(tmp_path / "b.zip")
    raw = bytearray(path.read_bytes())
    raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    path.write_bytes(bytes(raw))
    report = verify_bundle(path)
    assert isinstance(report.ok, bool)  # any verdict, never an exception; most are failures
    if report.ok:
        assert read_zip(path).keys() == read_zip(log.bundle(tmp_path / "c.zip")).keys()


def test_a_removed_file_is_named(tmp_path: Path, log: Log) -> None:
    path = log.bundle(tmp_path / "b.zip")
    files = read_zip(path)
    del files["transcripts/contact-1.json"]
    write_zip(path, files)
    report = verify_bundle(path)
    assert not report.ok and report.file == "transcripts/contact-1.json" and "missing" in report.reason


def test_an_added_file_is_named(tmp_path: Path, log: Log) -> None:
    path = log.bundle(tmp_path / "b.zip")
    _rezip_with(path, "extra/planted.txt", b"planted")
    report = verify_bundle(path)
    assert not report.ok and report.file == "extra/planted.txt" and "not listed" in report.reason


def test_an_unlisted_file_is_named_even_when_the_manifest_is_rewritten(tmp_path: Path, log: Log) -> None:
    path = log.bundle(tmp_path / "b.zip", manifest_overrides={"README.txt": None})
    report = verify_bundle(path)
    assert not report.ok and report.file == "README.txt"


def test_an_entry_from_outside_the_proof_is_named(tmp_path: Path, log: Log) -> None:
    outsider = encode_entry(make_entry(500), 7)
    entries = log.entries(OPERATION_ENTRIES)
    entries[7] = (outsider, leaf_hash(outsider), log.tree.inclusion_proof(7, SIZE))
    path = build_bundle(tmp_path / "b.zip", log.signer, entries, log.note(SIZE))
    report = verify_bundle(path)
    assert not report.ok and report.first_bad_index == 7 and "inclusion proof" in report.reason


def test_an_entry_with_a_proof_for_another_index_is_named(tmp_path: Path, log: Log) -> None:
    entries = log.entries(OPERATION_ENTRIES)
    data, digest, _ = entries[4]
    entries[4] = (data, digest, log.tree.inclusion_proof(5, SIZE))
    report = verify_bundle(build_bundle(tmp_path / "b.zip", log.signer, entries, log.note(SIZE)))
    assert not report.ok and report.first_bad_index == 4


def test_a_swapped_checkpoint_is_refused(tmp_path: Path, log: Log) -> None:
    path = log.bundle(tmp_path / "b.zip")
    _rezip_with(path, CHECKPOINT_PATH, log.note(SIZE - 1).encode())
    report = verify_bundle(path)
    assert not report.ok and report.file == CHECKPOINT_PATH
    # Even with a manifest rebuilt to match, the proofs do not fit the older checkpoint.
    rebuilt = build_bundle(tmp_path / "c.zip", log.signer, log.entries(OPERATION_ENTRIES), log.note(SIZE - 1))
    report = verify_bundle(rebuilt)
    assert not report.ok and report.first_bad_index == OPERATION_ENTRIES[0] and report.file == ENTRIES_PATH


def test_a_checkpoint_signed_by_another_key_is_refused(tmp_path: Path, log: Log) -> None:
    impostor = Signer.generate(ORIGIN)
    note = impostor.sign(Checkpoint(ORIGIN, SIZE, log.tree.root()))
    path = build_bundle(tmp_path / "b.zip", log.signer, log.entries(OPERATION_ENTRIES), note)
    report = verify_bundle(path)
    assert not report.ok and report.file == CHECKPOINT_PATH


def test_an_inconsistent_previous_checkpoint_is_refused(tmp_path: Path, log: Log, signer: Signer) -> None:
    other = Log(signer, size=SIZE)
    other.data[2] = encode_entry(make_entry(777), 2)
    other.hashes[2] = leaf_hash(other.data[2])
    other.tree = Tree(other.hashes)
    path = log.bundle(tmp_path / "b.zip")
    forged_previous = json.dumps({"previous_checkpoint": other.note(5), "proof": []})
    _rezip_with(path, "audit/consistency.json", forged_previous.encode())
    files = read_zip(path)
    manifest = json.loads(files[MANIFEST_PATH])
    data = files["audit/consistency.json"]
    manifest["files"]["audit/consistency.json"] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    _rezip_with(path, MANIFEST_PATH, json.dumps(manifest).encode())
    report = verify_bundle(path)
    assert not report.ok and report.file == "audit/consistency.json"


def test_extra_checks_run_and_name_their_failure(tmp_path: Path, log: Log) -> None:
    path = log.bundle(tmp_path / "b.zip")
    seen: list[list[int]] = []

    def transcript_check(archive: zipfile.ZipFile, entries: dict[int, dict[str, Any]]) -> str | None:
        seen.append(sorted(entries))
        return "transcripts/contact-1.json: message 3 has no audit entry"

    assert verify_bundle(path).ok  # no checks but the audit part's own unless they are given
    report = verify_bundle(path, checks=[transcript_check])
    assert not report.ok and "message 3" in report.reason
    assert seen == [OPERATION_ENTRIES]
