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
from audit_helpers import ORIGIN, START, build_bundle, make_entry, read_zip, write_zip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.bundle import CHECKPOINT_PATH, ENTRIES_PATH, MANIFEST_PATH, PUBLIC_KEY_PATH, verify_bundle
from audit.checkpoint import Checkpoint, Signer
from audit.entry import EntryInput, encode_entry
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
    key_file = tmp_path / "key.txt"
    key_file.write_text(signer.verifier_key_text() + "\n")
    result = _cli("verify", str(path), "--key", str(key_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout and "vouched for by the key given" in result.stdout
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
    assert _cli("verify", str(path), "--checkpoint", str(tmp_path / "missing.txt")).returncode == 2
    not_zip = tmp_path / "not.zip"
    not_zip.write_bytes(b"not a zip")
    assert _cli("verify", str(not_zip)).returncode == 1


def test_an_intact_bundle_whose_key_nothing_vouches_for_exits_2(tmp_path: Path, log: Log) -> None:
    path = log.bundle(tmp_path / "b.zip")
    report = verify_bundle(path)
    assert report.ok and report.vouched_by is None and not report.trusted
    result = _cli("verify", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "KEY UNVERIFIED" in result.stdout and "--key" in result.stdout and "--checkpoint" in result.stdout


def _published(tmp_path: Path, *notes: str) -> Path:
    path = tmp_path / "checkpoints.txt"
    path.write_text("".join(note + "\n" for note in notes), encoding="utf-8")
    return path


def _forged(tmp_path: Path, log: Log) -> tuple[Path, Signer]:
    """The log's bundle as a forger makes it: an entry's content changed, the tree rebuilt and the
    checkpoint, its consistency proof and the manifest signed again, with a key of the forger's own."""
    forger = Signer.generate(ORIGIN)
    forged = Log(forger)
    forged.data[4] = encode_entry(make_entry(404, operation=1), 4)
    forged.hashes[4] = leaf_hash(forged.data[4])
    forged.tree = Tree(forged.hashes)
    return forged.bundle(tmp_path / "forged.zip"), forger


def test_a_bundle_signed_again_by_a_forger(tmp_path: Path, log: Log, signer: Signer) -> None:
    genuine = log.bundle(tmp_path / "b.zip")
    forged, _forger = _forged(tmp_path, log)
    assert verify_bundle(forged).ok  # intact as far as its own key goes: that is the forgery
    result = _cli("verify", str(forged))
    assert result.returncode == 2 and "KEY UNVERIFIED" in result.stdout, result.stdout
    result = _cli("verify", str(forged), "--key", signer.verifier_key_text())
    assert result.returncode == 1 and "is not the expected key" in result.stdout, result.stdout
    published = _published(tmp_path, log.note(5), log.note(SIZE))
    result = _cli("verify", str(forged), "--checkpoint", str(published))
    assert result.returncode == 1 and "not the log's" in result.stdout, result.stdout
    assert _cli("verify", str(genuine), "--key", signer.verifier_key_text()).returncode == 0
    result = _cli("verify", str(genuine), "--checkpoint", str(published))
    assert result.returncode == 0, result.stdout
    assert f"vouched for by the published checkpoint of size {SIZE}" in result.stdout


@pytest.mark.parametrize("size", [5, SIZE])
def test_a_published_checkpoint_vouches_when_the_bundle_is_consistent_with_it(
    tmp_path: Path, log: Log, size: int
) -> None:
    """The bundle's own checkpoint, or the one its consistency proof starts from, as a single note
    (as the legal officers receive it by mail, perhaps without its final newline)."""
    path = log.bundle(tmp_path / "b.zip")
    note = tmp_path / "note.txt"
    note.write_text(log.note(size).rstrip("\n"), encoding="utf-8")
    report = verify_bundle(path, published=[log.note(size)])
    assert report.trusted and report.vouched_by == f"the published checkpoint of size {size}"
    assert _cli("verify", str(path), "--checkpoint", str(note)).returncode == 0


def test_a_published_checkpoint_the_bundle_cannot_be_shown_consistent_with_vouches_for_nothing(
    tmp_path: Path, log: Log
) -> None:
    path = log.bundle(tmp_path / "b.zip")
    report = verify_bundle(path, published=[log.note(3), log.note(8)])
    assert report.ok and not report.trusted
    result = _cli("verify", str(path), "--checkpoint", str(_published(tmp_path, log.note(8))))
    assert result.returncode == 2, result.stdout


def test_a_published_checkpoint_with_another_root_is_a_fork(tmp_path: Path, log: Log, signer: Signer) -> None:
    path = log.bundle(tmp_path / "b.zip")
    other = Log(signer)
    other.data[2] = encode_entry(make_entry(222), 2)
    other.hashes[2] = leaf_hash(other.data[2])
    other.tree = Tree(other.hashes)
    report = verify_bundle(path, published=[other.note(SIZE)])
    assert not report.ok and report.file == CHECKPOINT_PATH and "fork" in report.reason
    report = verify_bundle(path, published=[other.note(5)])
    assert not report.ok and "fork" in report.reason


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


def _legacy_operation_bundle(path: Path, signer: Signer, max_profiles: int = 2) -> Path:
    """An operation's bundle as exports made before row hashes wrote it: its legal records without the
    account ids, its entries with the details they carried then and no row hash."""
    at = "2026-03-01T09:00:00+00:00"
    terms = {
        "reference": "OvJ-1", "kind": "court_ruling", "authority": "Court", "issuer_name": "",
        "legal_basis": "art. 126j Sv", "offence": "", "suspect_description": "", "justification": "",
        "method": "", "persona_constraints": "", "conditions": "", "review_interval_days": 30,
        "platforms": ["chatapp"], "may_initiate_contact": False, "max_profiles": 2, "issued_on": None,
        "supersedes_id": None,
    }
    times = {"valid_from": at, "valid_until": "2026-06-01T00:00:00+02:00", "written_order_due": None}
    inputs = [
        ("authorization.register", "lena", 7, {**terms, **times, "officers": ["dana"]}),
        ("profile.propose", "sam", 3, {"from": None, "to": "pending_approval", "reason": "proposed",
                                       "platform": "chatapp", "handle": "sunny_day", "persona": "",
                                       "authorization_id": 7}),
        ("profile.approve", "sol", 3, {"from": "pending_approval", "to": "active", "reason": "approved",
                                       "platform": "chatapp", "handle": "sunny_day", "authorization_id": 7}),
        ("review.decide", "lena", 5, {"decision": "continue", "rationale": "within the order",
                                      "kind": "periodic", "key": "periodic:7:1", "profiles": []}),
    ]
    data = [
        encode_entry(EntryInput(time=START, actor=actor, action=action,
                                object={"type": action.split(".")[0], "id": number}, operation=1,
                                request=None, evidence={}, details=details), index)
        for index, (action, actor, number, details) in enumerate(inputs)
    ]
    hashes = [leaf_hash(d) for d in data]
    tree = Tree(hashes)
    size = len(data)
    entries = {i: (data[i], hashes[i], tree.inclusion_proof(i, size)) for i in range(size)}
    authorization = {"id": 7, "operation_id": 1, **terms, **times, "max_profiles": max_profiles,
                     "registered_by": "lena", "registered_at": at, "officers": ["dana"], "superseded": False,
                     "documents": []}
    history = [
        {"from": None, "to": "pending_approval", "actor": "sam", "reason": "proposed", "at": at},
        {"from": "pending_approval", "to": "active", "actor": "sol", "reason": "approved", "at": at},
    ]
    profile = {"id": 3, "authorization_id": 7, "platform": "chatapp", "handle": "sunny_day", "persona": "",
               "status": "active", "proposed_by": "sam", "proposed_at": at, "approved_by": "sol",
               "approved_at": at, "history": history}
    review = {"id": 5, "kind": "periodic", "status": "done",
              "decision": {"decision": "continue", "rationale": "within the order", "decided_by": "lena",
                           "decided_at": "2026-03-02T10:00:00+01:00", "profiles": []}}
    files = {
        "operation.json": json.dumps({"id": 1}).encode(),
        "authorizations.json": json.dumps([authorization]).encode(),
        "profiles.json": json.dumps([profile]).encode(),
        "reviews.json": json.dumps([review]).encode(),
    }
    note = signer.sign(Checkpoint(ORIGIN, size, tree.root(size)))
    return build_bundle(path, signer, entries, note, other_files=files)


def test_a_bundle_from_before_row_hashes_is_checked_for_what_its_entries_carry(
    tmp_path: Path, signer: Signer
) -> None:
    from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS, EVIDENCE_BUNDLE_NOTES

    path = _legacy_operation_bundle(tmp_path / "old.zip", signer)
    report = verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS, notes=EVIDENCE_BUNDLE_NOTES)
    assert report.ok, report.reason
    assert report.notes == (
        "entries recorded before row hashes, whose records were checked for the fields they carry, not for "
        "every column: 4 (0, 1, 2, 3)",
    )
    result = _cli("verify", str(path), "--key", signer.verifier_key_text())
    assert result.returncode == 0 and "note: entries recorded before row hashes" in result.stdout
    altered = _legacy_operation_bundle(tmp_path / "altered.zip", signer, max_profiles=20)
    report = verify_bundle(altered, checks=EVIDENCE_BUNDLE_CHECKS)
    assert not report.ok and "authorizations.json: authorization 7" in report.reason
    assert "max_profiles is 20" in report.reason
