"""The offline verifier's command line: exit codes, keys vouched for from outside the bundle, published
checkpoints, its imports, and bundles recorded before row hashes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from audit_helpers import ORIGIN, START, build_bundle, make_entry, read_zip
from bundle_log import OPERATION_ENTRIES, ROOT_DIR, SIZE, Log

from audit.bundle import CHECKPOINT_PATH, verify_bundle
from audit.checkpoint import Checkpoint, Signer
from audit.entry import EntryInput, encode_entry
from audit.merkle import leaf_hash
from audit.tree import Tree


@pytest.fixture
def log(signer: Signer) -> Log:
    return Log(signer)


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
