"""The evidence bundle: it verifies offline, any tampering is named, and it reveals no other operation."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile

import pytest
from pypdf import PdfReader

from audit import bundle as audit_bundle
from audit.checkpoint import Checkpoint, Signer, split_note
from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS
from decoy.cli import main
from decoy.integrity.checkpoints import checkpoint_file
from tests.factories import make_authorization, make_operation, make_profile


def _bearer(factory, username):
    return {"Authorization": f"Bearer {factory.token(username)}"}


def _operation_with_evidence(app, client, factory, *, name, handle, counterpart, texts, detective):
    operation = make_operation(app, "sam", name=name, members=(detective,))
    authorization = make_authorization(app, "lena", operation)
    profile = make_profile(app, operation, authorization, "sam", approver="sara", handle=handle)
    headers = _bearer(factory, detective)
    contact = client.post(
        f"/api/v1/profiles/{profile}/contacts", json={"counterpart": counterpart}, headers=headers
    ).get_json()["id"]
    for number, text in enumerate(texts):
        data = {"direction": "in", "sent_at": f"2026-03-02T10:0{number}:00+01:00", "body": text}
        if number == 0:
            data["attachments"] = (io.BytesIO(b"\x89PNG\r\n\x1a\n" + name.encode() * 50), "screen.png")
            response = client.post(
                f"/api/v1/contacts/{contact}/messages",
                data=data,
                headers=headers,
                content_type="multipart/form-data",
            )
        else:
            response = client.post(f"/api/v1/contacts/{contact}/messages", json=data, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
    return operation


@pytest.fixture
def two_operations(app, client, factory):
    factory.user("sam", "supervisor")
    factory.user("sara", "supervisor")
    factory.user("lena", "legal")
    factory.user("dora", "detective")
    factory.user("dirk", "detective")
    first = _operation_with_evidence(
        app,
        client,
        factory,
        name="Operation Lantern",
        handle="sunny_day",
        counterpart="blue_kite_77",
        texts=["hello, how are you", '=HYPERLINK("http://example.invalid")', "<script>alert(1)</script>"],
        detective="dora",
    )
    second = _operation_with_evidence(
        app,
        client,
        factory,
        name="Operation Harbour",
        handle="quiet_river",
        counterpart="green_owl_42",
        texts=["good morning, nice weather", "see you tomorrow"],
        detective="dirk",
    )
    return first, second


def verify_bundle(path):
    """The offline verifier, as `python -m audit verify` runs it (with the evidence bundle's checks)."""
    return audit_bundle.verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS)


def _export(runner, operation, path):
    result = runner.invoke(main, ["export", str(operation), "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_bundle_verifies_offline_with_the_standalone_verifier(
    app, client, factory, runner, two_operations, tmp_path
):
    bundle = _export(runner, two_operations[0], tmp_path / "lantern.zip")
    report = verify_bundle(bundle)
    assert report.ok, report.reason
    names = zipfile.ZipFile(bundle).namelist()
    for expected in (
        "manifest.json",
        "operation.json",
        "authorizations.json",
        "profiles.json",
        "reviews.json",
        "report.pdf",
        "VERIFY.md",
        "audit/entries.jsonl",
        "audit/checkpoint.txt",
        "audit/public_key.txt",
    ):
        assert expected in names
    assert any(re.fullmatch(r"contacts/\d+/transcript\.(json|csv|pdf)", n) for n in names)
    assert any(n.startswith("attachments/") for n in names)
    key = _public_key(client, factory)
    assert _offline(bundle, "--key", key).returncode == 0
    with app.app_context():
        published = str(checkpoint_file())
    done = _offline(bundle, "--checkpoint", published)
    assert done.returncode == 0, done.stdout + done.stderr
    # Without a key from elsewhere, the key inside the bundle vouches for nothing.
    done = _offline(bundle)
    assert done.returncode == 2 and "KEY UNVERIFIED" in done.stdout, done.stdout + done.stderr
    assert runner.invoke(main, ["audit", "verify", str(bundle)]).exit_code == 0


def _offline(bundle, *options):
    """``python -m audit verify`` in a process of its own, as a court's expert runs it."""
    return subprocess.run(
        [sys.executable, "-m", "audit", "verify", str(bundle), *options],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _public_key(client, factory):
    """The log's key as any signed-in account fetches it, outside any bundle."""
    answer = client.get("/api/v1/audit/public-key", headers=_bearer(factory, "dora"))
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    return answer.get_data(as_text=True).strip()


def _forge(source, target):
    """What a forger does to a bundle: change a file (here VERIFY.md), then sign the checkpoint, the
    previous checkpoint and the manifest again with a key of their own, and put that key in."""
    forger = Signer.generate("decoy.invalid/audit")
    with zipfile.ZipFile(source) as original:
        files = {name: original.read(name) for name in original.namelist()}
    files["VERIFY.md"] = b"Pass the key in audit/public_key.txt.\n"
    files["audit/public_key.txt"] = (forger.verifier_key_text() + "\n").encode()
    files["audit/checkpoint.txt"] = _resigned(forger, files["audit/checkpoint.txt"].decode()).encode()
    record = json.loads(files["audit/consistency.json"])
    record["previous_checkpoint"] = _resigned(forger, record["previous_checkpoint"])
    files["audit/consistency.json"] = json.dumps(record).encode()
    listed = {
        name: (hashlib.sha256(data).hexdigest(), len(data))
        for name, data in files.items()
        if name not in ("manifest.json", "manifest.sig")
    }
    files["manifest.json"] = audit_bundle.manifest_json(listed)
    files["manifest.sig"] = forger.sign_text(audit_bundle.manifest_note_text(files["manifest.json"])).encode()
    with zipfile.ZipFile(target, "w") as copy:
        for name, data in files.items():
            copy.writestr(name, data)
    return target


def _resigned(forger, note):
    text, _signatures = split_note(note)
    return forger.sign(Checkpoint.parse(text))


def test_a_bundle_signed_again_by_a_forger_is_not_vouched_for(
    app, client, factory, runner, two_operations, tmp_path
):
    _export(runner, two_operations[0], tmp_path / "earlier.zip")  # a previous checkpoint to extend
    genuine = _export(runner, two_operations[0], tmp_path / "lantern.zip")
    forged = _forge(genuine, tmp_path / "forged.zip")
    assert verify_bundle(forged).ok  # intact under the forger's own key: that is the forgery
    done = _offline(forged)
    assert done.returncode == 2 and "KEY UNVERIFIED" in done.stdout, done.stdout + done.stderr
    done = _offline(forged, "--key", _public_key(client, factory))
    assert done.returncode == 1 and "not the expected key" in done.stdout, done.stdout
    with app.app_context():
        published = str(checkpoint_file())
    assert _offline(forged, "--checkpoint", published).returncode == 1
    result = runner.invoke(main, ["audit", "verify", str(forged)])
    assert result.exit_code == 1 and "not the expected key" in result.output, result.output
    assert _offline(genuine, "--key", _public_key(client, factory)).returncode == 0
    assert _offline(genuine, "--checkpoint", published).returncode == 0


def test_verify_md_says_where_to_get_the_key_independently(runner, two_operations, tmp_path):
    with zipfile.ZipFile(_export(runner, two_operations[0], tmp_path / "lantern.zip")) as bundle:
        text = bundle.read("VERIFY.md").decode()
    assert "--key" in text and "--checkpoint" in text and "cat audit/public_key.txt" not in text
    for source in ("/api/v1/audit/public-key", "integrity page", "checkpoints.txt", "notification"):
        assert source in text, source


def test_export_is_an_audit_entry_covered_by_a_fresh_checkpoint(app, runner, two_operations, tmp_path):
    bundle = zipfile.ZipFile(_export(runner, two_operations[0], tmp_path / "lantern.zip"))
    lines = [json.loads(line) for line in bundle.read("audit/entries.jsonl").decode().splitlines()]
    import base64

    last = json.loads(base64.b64decode(lines[-1]["entry"]))
    assert last["action"] == "operation.export"
    size = int(bundle.read("audit/checkpoint.txt").decode().split("\n")[1])
    assert size == last["index"] + 1


def _rewrite(source, target, change):
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for info in original.infolist():
            data = original.read(info.filename)
            replaced = change(info.filename, data)
            if replaced is not None:
                copy.writestr(info.filename, replaced)


def test_a_changed_byte_in_any_file_is_named(runner, two_operations, tmp_path):
    bundle = _export(runner, two_operations[0], tmp_path / "lantern.zip")
    names = zipfile.ZipFile(bundle).namelist()
    for name in names:
        target = tmp_path / "tampered.zip"

        def flip(member, data, name=name):
            if member != name:
                return data
            return bytes([data[0] ^ 0x01]) + data[1:] if data else b"x"

        _rewrite(bundle, target, flip)
        report = verify_bundle(target)
        assert not report.ok, name
        assert name in report.reason or (report.file == name), (name, report.reason)


def test_a_removed_file_is_named(runner, two_operations, tmp_path):
    bundle = _export(runner, two_operations[0], tmp_path / "lantern.zip")
    for name in zipfile.ZipFile(bundle).namelist():
        target = tmp_path / "short.zip"
        _rewrite(bundle, target, lambda member, data, name=name: None if member == name else data)
        report = verify_bundle(target)
        assert not report.ok
        assert name in report.reason, (name, report.reason)


def test_an_entry_of_another_operation_is_detected(runner, two_operations, tmp_path):
    first = zipfile.ZipFile(_export(runner, two_operations[0], tmp_path / "a.zip"))
    second = zipfile.ZipFile(_export(runner, two_operations[1], tmp_path / "b.zip"))
    foreign = second.read("audit/entries.jsonl").decode().splitlines()[0]
    own = first.read("audit/entries.jsonl").decode().splitlines()
    merged = sorted([*own, foreign], key=lambda line: json.loads(line)["index"])
    target = tmp_path / "mixed.zip"
    _rewrite(
        tmp_path / "a.zip",
        target,
        lambda member, data: ("\n".join(merged) + "\n").encode() if member == "audit/entries.jsonl" else data,
    )
    assert not verify_bundle(target).ok


def test_a_swapped_checkpoint_is_detected(runner, two_operations, tmp_path):
    _export(runner, two_operations[0], tmp_path / "a.zip")
    later = zipfile.ZipFile(_export(runner, two_operations[0], tmp_path / "a2.zip"))
    newer_note = later.read("audit/checkpoint.txt")
    target = tmp_path / "swapped.zip"
    _rewrite(
        tmp_path / "a.zip",
        target,
        lambda member, data: newer_note if member == "audit/checkpoint.txt" else data,
    )
    report = verify_bundle(target)
    assert not report.ok and "checkpoint" in report.reason


def _all_text(bundle_path):
    texts = []
    with zipfile.ZipFile(bundle_path) as bundle:
        for name in bundle.namelist():
            data = bundle.read(name)
            if name.endswith(".pdf"):
                texts.extend(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
            else:
                texts.append(data.decode("utf-8", errors="replace"))
            texts.append(name)
    return "\n".join(texts)


def test_bundle_of_one_operation_holds_nothing_of_another(runner, two_operations, tmp_path):
    text = _all_text(_export(runner, two_operations[0], tmp_path / "lantern.zip"))
    assert "hello, how are you" in text and "blue_kite_77" in text and "sunny_day" in text
    for secret in (
        "Operation Harbour",
        "quiet_river",
        "green_owl_42",
        "good morning, nice weather",
        "see you tomorrow",
        "dirk",
    ):
        assert secret not in text, secret


def test_hostile_text_is_neutralised_in_csv_and_shown_literally_in_pdf(runner, two_operations, tmp_path):
    with zipfile.ZipFile(_export(runner, two_operations[0], tmp_path / "lantern.zip")) as bundle:
        csv_name = next(n for n in bundle.namelist() if n.endswith("transcript.csv"))
        csv_text = bundle.read(csv_name).decode("utf-8-sig")
        assert "\"'=HYPERLINK(" in csv_text
        pdf_name = next(n for n in bundle.namelist() if n.endswith("transcript.pdf"))
        pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(bundle.read(pdf_name))).pages)
        assert "<script>alert(1)</script>" in pdf_text


def test_only_legal_officers_export_and_unknown_operations_are_404(client, factory, two_operations):
    operation = two_operations[0]
    assert (
        client.get(f"/api/v1/operations/{operation}/export", headers=_bearer(factory, "dora")).status_code
        == 403
    )
    assert client.get("/api/v1/operations/999999/export", headers=_bearer(factory, "lena")).status_code == 404
    response = client.get(f"/api/v1/operations/{operation}/export", headers=_bearer(factory, "lena"))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(response.get_data())).testzip() is None


def test_reviews_and_decisions_are_in_the_bundle_and_report(
    client, runner, factory, clock, two_operations, tmp_path
):
    operation = two_operations[0]
    clock.advance(days=31)
    assert runner.invoke(main, ["scheduler", "--once"]).exit_code == 0
    headers = _bearer(factory, "lena")
    reviews = client.get(f"/api/v1/operations/{operation}/reviews", headers=headers).get_json()["items"]
    assert reviews, "the scheduler generated the periodic review"
    decided = client.post(
        f"/api/v1/reviews/{reviews[0]['id']}/decision",
        headers=headers,
        json={"decision": "continue", "rationale": "within the ruling, checked the log"},
    )
    assert decided.status_code == 200, decided.get_data(as_text=True)
    bundle = _export(runner, operation, tmp_path / "lantern.zip")
    assert verify_bundle(bundle).ok
    with zipfile.ZipFile(bundle) as archive:
        records = json.loads(archive.read("reviews.json"))
        report = "".join(p.extract_text() for p in PdfReader(io.BytesIO(archive.read("report.pdf"))).pages)
    done = [r for r in records if r["id"] == reviews[0]["id"]]
    assert done and done[0]["decision"]["rationale"] == "within the ruling, checked the log"
    assert "within the ruling, checked the log" in report
