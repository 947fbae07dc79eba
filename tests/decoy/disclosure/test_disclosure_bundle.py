"""A disclosure bundle of one suspect (rule 10) and with no officer's name (rule 9): the export names its
contacts, purpose and recipient; the bundle holds only those contacts' material, their profiles and orders,
and the entries of exactly that; other contacts exist in it only as hashes inside the proofs; it verifies
offline; withheld and sensitive items are listed by hash only."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from audit import bundle as audit_bundle
from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS, check_transcripts
from decoy.cli import main
from tests.decoy.evidence.support import entries_for
from tests.support import code_for

OFFICERS = ("sam", "sol", "dana", "dirk", "nina", "lena", "adam")
BRAVO = ("bravo_marker_b7", "hello from bravo 23", "BRAVO-ATTACHMENT-BYTES", "bravo_handle_q9")


def _two_suspects(world: Any) -> tuple[int, int, int]:
    """Contact A on the world's profile, contact B on a second profile with an attachment."""
    alpha = world.contact(counterpart="alpha_marker_a1")
    world.message(alpha, body="hello from alpha 17")
    world.message(alpha, body="fine thanks", direction="out", sent_at="2026-03-02T10:05:00+01:00")
    second = world.profile(handle="bravo_handle_q9")
    bravo = world.contact(second, counterpart="bravo_marker_b7")
    answer = world.client.post(
        f"/api/v1/contacts/{bravo}/messages",
        headers=world.headers("dana"),
        data={
            "direction": "in",
            "sent_at": "2026-03-02T11:00:00+01:00",
            "body": "hello from bravo 23",
            "attachments": [(io.BytesIO(b"BRAVO-ATTACHMENT-BYTES"), "bravo.txt")],
        },
    )
    assert answer.status_code == 201, answer.get_json()
    return alpha, bravo, second


def _export(runner: Any, world: Any, path: Path, *extra: str) -> None:
    result = runner.invoke(
        main, ["export", str(world.operation_id), "-o", str(path), "--as", "lena", *extra]
    )
    assert result.exit_code == 0, result.output


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    source = tmp_path / "page.pdf"
    source.write_bytes(data)
    done = subprocess.run(
        ["pdftotext", "-layout", str(source), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def _everything(path: Path, tmp_path: Path) -> tuple[str, list[dict[str, Any]]]:
    """Every text of the bundle (files as they are, PDFs as text) and its decoded audit entries."""
    texts, entries = [], []
    with zipfile.ZipFile(path) as bundle:
        for name in bundle.namelist():
            data = bundle.read(name)
            if name.endswith(".pdf"):
                texts.append(_pdf_text(data, tmp_path))
            elif name == "audit/entries.jsonl":
                for line in data.decode().splitlines():
                    entry = json.loads(base64.b64decode(json.loads(line)["entry"]))
                    entries.append(entry)
                    texts.append(json.dumps(entry, ensure_ascii=False))
            else:
                texts.append(data.decode("utf-8", errors="replace"))
    return "\n".join(texts), entries


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (*_strings(key), *_strings(item))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def test_a_bundle_of_contact_a_holds_nothing_of_contact_b(world: Any, runner: Any, tmp_path: Path) -> None:
    alpha, bravo, second = _two_suspects(world)
    path = tmp_path / "alpha.zip"
    _export(runner, world, path, "--contacts", str(alpha), "--purpose", "disclosure to the defence",
            "--recipient", "public prosecutor")
    report = audit_bundle.verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS)
    assert report.ok, report.reason
    text, entries = _everything(path, tmp_path)
    for marker in BRAVO:
        assert marker not in text, marker
    assert "alpha_marker_a1" in text and "hello from alpha 17" in text
    with zipfile.ZipFile(path) as bundle:
        names = bundle.namelist()
        profiles = json.loads(bundle.read("profiles.json"))
        operation = json.loads(bundle.read("operation.json"))
    assert not [n for n in names if n.startswith(f"contacts/{bravo}/")]
    assert [p["id"] for p in profiles] == [world.profile_id] and second != world.profile_id
    assert operation["export"] == {
        "contacts": [alpha], "purpose": "disclosure to the defence", "recipient": "public prosecutor"
    }
    # No entry of B's contact, messages or profile; the proofs hold them only as hashes.
    for entry in entries:
        details = entry.get("details") or {}
        assert details.get("contact") != bravo and details.get("profile") != second, entry["action"]
        assert entry["object"] != {"type": "contact", "id": bravo}
    [export] = entries_for(world.app, "operation.export")
    assert export["details"] == {
        "contacts": [alpha], "purpose": "disclosure to the defence", "recipient": "public prosecutor"
    }
    assert [e for e in entries if e["action"] == "operation.export"] == [export]


def test_no_officer_is_named_anywhere_in_the_bundle(world: Any, runner: Any, tmp_path: Path) -> None:
    alpha, _bravo, _second = _two_suspects(world)
    path = tmp_path / "all.zip"
    _export(runner, world, path)
    assert audit_bundle.verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS).ok
    text, entries = _everything(path, tmp_path)
    words = set(re.findall(r"[A-Za-z0-9_.-]+", text))
    assert not words & set(OFFICERS), words & set(OFFICERS)
    for entry in entries:
        assert entry["actor"] not in OFFICERS and not set(_strings(entry)) & set(OFFICERS), entry
    with zipfile.ZipFile(path) as bundle:
        for name in bundle.namelist():
            if name.endswith(".json"):
                assert not set(_strings(json.loads(bundle.read(name)))) & set(OFFICERS), name
            if name.endswith(".csv"):
                cells = set(re.split(r"[,\r\n]", bundle.read(name).decode()))
                assert not cells & set(OFFICERS), name
        transcript = json.loads(bundle.read(f"contacts/{alpha}/transcript.json"))
    recorded_by = {m["recorded_by"] for m in transcript["messages"]}
    assert recorded_by == {entries_for(world.app, "message.create")[0]["actor"]}


def test_an_unknown_contact_or_a_bad_field_is_refused_and_nothing_is_recorded(world: Any) -> None:
    alpha = world.contact()
    before = len(entries_for(world.app, "operation.export"))
    for query, field in (
        ("contacts=abc", "contacts"),
        ("contacts=999999", "contacts"),
        (f"contacts={alpha}&purpose=" + "x" * 501, "purpose"),
        (f"contacts={alpha}&recipient=a%0Ab", "recipient"),
    ):
        answer = world.get(f"/operations/{world.operation_id}/export?{query}", "lena")
        assert answer.status_code == 400 and answer.get_json()["error"]["field"] == field, query
    other = world.contact(counterpart="other_one")
    both = world.get(f"/operations/{world.operation_id}/export?contacts={alpha},{other}", "lena")
    assert both.status_code == 200
    assert len(entries_for(world.app, "operation.export")) == before + 1


def _decide(world: Any, kind: str, item_id: int, disclosure_class: str, **extra: Any) -> None:
    body = {"class": disclosure_class, "reason": "decided", **extra}
    answer = world.post(f"/{kind}/{item_id}/disclosure", "lena", json=body)
    assert answer.status_code == 200, answer.get_json()


def test_withheld_and_sensitive_items_are_listed_by_hash_and_journal_notes_never_appear(
    world: Any, runner: Any, tmp_path: Path
) -> None:
    contact = world.contact(counterpart="charlie_marker_c3")
    kept = world.message(contact, body="hello, how are you")["id"]
    withheld = world.message(contact, body="withheld words 41", direction="out",
                             sent_at="2026-03-02T10:10:00+01:00")["id"]
    answer = world.client.post(
        f"/api/v1/contacts/{contact}/messages",
        headers=world.headers("dana"),
        data={"direction": "in", "sent_at": "2026-03-02T10:20:00+01:00", "body": "a picture",
              "attachments": [(io.BytesIO(b"SENSITIVE-IMAGE-BYTES"), "image.bin")]},
    )
    assert answer.status_code == 201, answer.get_json()
    with_file = answer.get_json()
    attachment = world.get(f"/messages/{with_file['id']}").get_json()["attachments"][0]["id"]
    _decide(world, "messages", withheld, "withheld", ground="art. 149b Sv", decision_reference="PG-2026-17")
    _decide(world, "attachments", attachment, "sensitive")
    journal = f"/contacts/{contact}/journal"
    internal = world.post(journal, "dana", json={"body": "internal note 58"}).get_json()
    disclosed = world.post(journal, "dana", json={"body": "disclosed note 63"}).get_json()
    _decide(world, "notes", disclosed["id"], "case_file")
    path = tmp_path / "charlie.zip"
    _export(runner, world, path, "--contacts", str(contact))
    report = audit_bundle.verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS)
    assert report.ok, report.reason
    text, entries = _everything(path, tmp_path)
    for absent in ("withheld words 41", "SENSITIVE-IMAGE-BYTES", "internal note 58"):
        assert absent not in text, absent
    assert "hello, how are you" in text and "disclosed note 63" in text
    with zipfile.ZipFile(path) as bundle:
        listed = json.loads(bundle.read("withheld.json"))
        transcript = json.loads(bundle.read(f"contacts/{contact}/transcript.json"))
        notes = json.loads(bundle.read(f"contacts/{contact}/notes.json"))
    by_kind = {item["kind"]: item for item in listed}
    assert by_kind["message"]["id"] == withheld and by_kind["message"]["ground"] == "art. 149b Sv"
    assert by_kind["message"]["decision_reference"] == "PG-2026-17"
    # A withheld text is listed by the commitment its entry recorded, never by its guessable SHA-256.
    [message_entry] = [
        e for e in entries if e["action"] == "message.create" and e["object"]["id"] == withheld
    ]
    assert "sha256" not in by_kind["message"]
    assert by_kind["message"]["commitment"] == message_entry["evidence"]["body_commitment"]
    assert hashlib.sha256(b"withheld words 41").hexdigest() not in text
    assert by_kind["attachment"]["sha256"] == hashlib.sha256(b"SENSITIVE-IMAGE-BYTES").hexdigest()
    assert "viewing_arrangement" in by_kind["attachment"]
    assert [m["id"] for m in transcript["messages"]] == [kept, with_file["id"]]
    [shown_file] = transcript["messages"][1]["attachments"]
    assert (shown_file["path"], shown_file["disclosure"]) == (None, "sensitive")
    assert [n["id"] for n in notes] == [disclosed["id"]] and internal["id"] != disclosed["id"]
    with zipfile.ZipFile(path) as bundle:
        report_text = _pdf_text(bundle.read("report.pdf"), tmp_path)
    page = report_text[report_text.index("Withheld and sensitive material"):]
    digest = by_kind["message"]["commitment"]
    assert digest[:32] in page and digest[32:] in page and "art. 149b Sv" in page and "PG-2026-17" in page


def test_a_listing_that_lies_about_a_hash_is_named(world: Any, runner: Any, tmp_path: Path) -> None:
    contact = world.contact()
    withheld = world.message(contact, body="withheld words 41")["id"]
    _decide(world, "messages", withheld, "withheld", ground="art. 149b Sv", decision_reference="PG-2026-17")
    path = tmp_path / "lie.zip"
    _export(runner, world, path)
    with zipfile.ZipFile(path) as bundle:
        entries = {
            record["index"]: json.loads(base64.b64decode(record["entry"]))
            for record in map(json.loads, bundle.read("audit/entries.jsonl").decode().splitlines())
        }
        assert check_transcripts(bundle, entries) is None
        listed = json.loads(bundle.read("withheld.json"))
    listed[0]["sha256"] = hashlib.sha256(b"other words").hexdigest()
    with _replaced(path, "withheld.json", json.dumps(listed).encode()) as changed:
        problem = check_transcripts(changed, entries)
    assert problem is not None and "other than its entry's" in problem
    with _replaced(path, "withheld.json", b"[]") as changed:
        problem = check_transcripts(changed, entries)
    assert problem is not None and f"message {withheld} is missing from the transcripts" in problem


def _replaced(path: Path, name: str, data: bytes) -> zipfile.ZipFile:
    """The bundle in memory with one member replaced (the check is called by itself)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as original, zipfile.ZipFile(buffer, "w") as copy:
        for info in original.infolist():
            copy.writestr(info.filename, data if info.filename == name else original.read(info.filename))
    return zipfile.ZipFile(buffer)


def test_a_redacted_copy_is_carried_in_the_originals_place(world: Any, runner: Any, tmp_path: Path) -> None:
    contact = world.contact()
    answer = world.client.post(
        f"/api/v1/contacts/{contact}/messages",
        headers=world.headers("dana"),
        data={"direction": "in", "sent_at": "2026-03-02T10:20:00+01:00", "body": "a picture",
              "attachments": [(io.BytesIO(b"ORIGINAL-PHOTO-BYTES"), "photo.bin")]},
    )
    message = answer.get_json()["id"]
    attachment = world.get(f"/messages/{message}").get_json()["attachments"][0]["id"]
    redacted = world.client.post(
        f"/api/v1/attachments/{attachment}/redactions",
        headers=world.headers("lena"),
        data={"file": (io.BytesIO(b"REDACTED-PHOTO-BYTES"), "photo-redacted.bin"),
              "statement": "a third party's face blurred"},
    )
    assert redacted.status_code == 201, redacted.get_json()
    path = tmp_path / "redacted.zip"
    _export(runner, world, path, "--contacts", str(contact))
    report = audit_bundle.verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS)
    assert report.ok, report.reason
    text, _entries = _everything(path, tmp_path)
    assert "ORIGINAL-PHOTO-BYTES" not in text and "REDACTED-PHOTO-BYTES" in text
    with zipfile.ZipFile(path) as bundle:
        transcript = json.loads(bundle.read(f"contacts/{contact}/transcript.json"))
    [shown] = transcript["messages"][0]["attachments"]
    assert shown["sha256"] == hashlib.sha256(b"ORIGINAL-PHOTO-BYTES").hexdigest() and shown["path"] is None
    copy = shown["redacted"]
    assert copy["sha256"] == hashlib.sha256(b"REDACTED-PHOTO-BYTES").hexdigest()
    assert (copy["statement"], copy["by"]) == ("a third party's face blurred", code_for("lena"))


def test_the_signed_proces_verbaal_travels_with_its_contact(world: Any, runner: Any, tmp_path: Path) -> None:
    contact = world.contact()
    world.message(contact)
    signed = b"%PDF-1.7 a signed copy, invented for the test"
    answer = world.client.post(
        f"/api/v1/contacts/{contact}/signed-reports",
        headers=world.headers("dana"),
        data={"file": (io.BytesIO(signed), "pv-signed.pdf")},
    )
    assert answer.status_code == 201, answer.get_json()
    path = tmp_path / "signed.zip"
    _export(runner, world, path, "--contacts", str(contact))
    report = audit_bundle.verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS)
    assert report.ok, report.reason
    digest = hashlib.sha256(signed).hexdigest()
    with zipfile.ZipFile(path) as bundle:
        [listed] = json.loads(bundle.read(f"contacts/{contact}/signed_reports.json"))
        assert bundle.read(f"signed_reports/{digest}.pdf") == signed
    assert (listed["sha256"], listed["by"]) == (digest, code_for("dana"))
