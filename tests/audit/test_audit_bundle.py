"""An evidence bundle verifies with no database and no Flask, and any change to it is named."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import ORIGIN, build_bundle, make_entry, read_zip, write_zip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.bundle import CHECKPOINT_PATH, ENTRIES_PATH, MANIFEST_PATH, PUBLIC_KEY_PATH, verify_bundle
from audit.checkpoint import Checkpoint, Signer
from audit.entry import encode_entry
from audit.merkle import leaf_hash
from audit.tree import Tree

ROOT_DIR = Path(__file__).resolve().parents[2]
SIZE = 12
OPERATION_ENTRIES = [1, 4, 5, 9]  # the operation's entries among the log's


class Log:
    """A small log held in memory, as the export would read it from the store."""

    def __init__(self, signer: Signer, size: int = SIZE) -> None:
        self.signer = signer
        self.data = [
            encode_entry(make_entry(n, operation=1 if n in OPERATION_ENTRIES else 2), n) for n in range(size)
        ]
        self.hashes = [leaf_hash(d) for d in self.data]
        self.tree = Tree(self.hashes)

    def note(self, size: int) -> str:
        return self.signer.sign(Checkpoint(ORIGIN, size, self.tree.root(size)))

    def entries(self, indexes: list[int], size: int = SIZE) -> dict[int, tuple[bytes, bytes, list[bytes]]]:
        return {i: (self.data[i], self.hashes[i], self.tree.inclusion_proof(i, size)) for i in indexes}

    def bundle(self, path: Path, **options: Any) -> Path:
        return build_bundle(
            path,
            self.signer,
            self.entries(OPERATION_ENTRIES),
            self.note(SIZE),
            other_files={
                "transcripts/contact-1.json": b'{"messages": []}',
                "README.txt": b"How to verify.\n",
            },
            consistency=(self.note(5), self.tree.consistency_proof(5, SIZE)),
            **options,
        )


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


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "audit", *args],
        capture_output=True,
        text=True,
        cwd=ROOT_DIR,
        check=False,
        timeout=60,
    )


def test_the_command_line_exit_codes(tmp_path: Path, log: Log, signer: Signer) -> None:
    path = log.bundle(tmp_path / "b.zip")
    result = _cli("verify", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout
    key_file = tmp_path / "key.txt"
    key_file.write_text(signer.verifier_key_text() + "\n")
    assert _cli("verify", str(path), "--key", str(key_file)).returncode == 0
    assert _cli("verify", str(path), "--key", signer.verifier_key_text()).returncode == 0
    assert _cli("verify", str(path), "--key", Signer.generate(ORIGIN).verifier_key_text()).returncode == 1

    entries = log.entries(OPERATION_ENTRIES)
    data, _, proof = entries[9]
    entries[9] = (data, leaf_hash(data), log.tree.inclusion_proof(8, SIZE))
    bad = build_bundle(tmp_path / "bad.zip", log.signer, entries, log.note(SIZE))
    result = _cli("verify", str(bad))
    assert result.returncode == 1 and "first bad entry: 9" in result.stdout

    assert _cli("verify").returncode == 2
    assert _cli("verify", str(tmp_path / "missing.zip")).returncode == 2
    assert _cli("frobnicate", str(path)).returncode == 2
    not_zip = tmp_path / "not.zip"
    not_zip.write_bytes(b"not a zip")
    assert _cli("verify", str(not_zip)).returncode == 1


def test_importing_audit_does_not_import_flask_or_sqlalchemy() -> None:
    code = (
        "import sys, audit, audit.verify, audit.bundle, audit.merkle, audit.entry, audit.checkpoint\n"
        "import audit.__main__\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'decoy', 'sqlalchemy'})\n"
        "assert not bad, bad\n"
        "audit.AuditStore\n"
        "assert 'sqlalchemy' in sys.modules and 'flask' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT_DIR, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_command_line_verifier_imports_neither_flask_nor_decoy() -> None:
    """``python -m audit verify`` (here its help) runs with the audit package alone, and importing the
    package registers nothing: the evidence bundle's checks are handed over by the command line."""
    code = (
        "import runpy, sys\n"
        "import audit, audit.bundle\n"
        "assert not [name for name in vars(audit.bundle) if name.isupper() and 'CHECKS' in name]\n"
        "sys.argv = ['audit', 'verify', '--help']\n"
        "try:\n"
        "    runpy.run_module('audit', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'decoy', 'sqlalchemy'})\n"
        "assert not bad, bad\n"
        "assert 'audit.evidence_bundle' in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT_DIR, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "verify" in result.stdout


def test_the_command_line_runs_the_evidence_bundle_checks(tmp_path: Path, log: Log) -> None:
    """An operation's bundle whose transcripts lack its entries' contacts fails ``python -m audit verify``
    (which hands EVIDENCE_BUNDLE_CHECKS over), not verify_bundle without checks."""
    from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS

    transcript = {"contact": {"id": 99, "counterpart": "x"}, "messages": []}
    path = log.bundle(tmp_path / "b.zip")
    files = read_zip(path)
    files["operation.json"] = json.dumps({"id": 1}).encode()
    files["contacts/99/transcript.json"] = json.dumps(transcript).encode()
    rebuilt = build_bundle(
        tmp_path / "c.zip",
        log.signer,
        log.entries(OPERATION_ENTRIES),
        log.note(SIZE),
        other_files={n: data for n, data in files.items() if not n.startswith(("audit/", "manifest"))},
    )
    assert verify_bundle(rebuilt).ok
    assert not verify_bundle(rebuilt, checks=EVIDENCE_BUNDLE_CHECKS).ok
    result = _cli("verify", str(rebuilt))
    assert result.returncode == 1, result.stdout
