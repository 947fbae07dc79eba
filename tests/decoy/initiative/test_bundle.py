"""The initiative record in an operation's bundle: ``contacts/<id>/initiative.json`` with the sheet, every
annotation, dismissal and assessment, verified offline against their entries and the transcript's times;
the PDF transcript has the sheet."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from audit import bundle as audit_bundle
from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS, check_initiative
from decoy.cli import main
from tests.decoy.evidence.support import audit_entries
from tests.support import code_for

from .support import annotate, conversation


def _bundle(world: Any, runner: Any, tmp_path: Path) -> tuple[int, list[int], Path]:
    contact = world.contact()
    ids = conversation(world, contact, [("out", "10:00"), ("in", "10:05"), ("out", "10:30")])
    annotate(world, ids[0], "age_stated", age=14)
    mark = annotate(world, ids[1], "payment_offered")
    annotate(world, ids[1], "payment_offered", retracts=mark["id"])
    annotate(world, ids[2], "meeting_proposed")
    annotate(world, ids[2], "sexual_topic", "lena", remark="context unclear")
    world.message(contact, direction="in", sent_at="2026-03-02T09:00:00+01:00")  # late: re-assessed
    path = tmp_path / "lantern.zip"
    result = runner.invoke(main, ["export", str(world.operation_id), "-o", str(path)])
    assert result.exit_code == 0, result.output
    return contact, ids, path


def test_the_sheet_is_in_the_bundle_and_verifies_offline(world: Any, runner: Any, tmp_path: Path) -> None:
    contact, ids, path = _bundle(world, runner, tmp_path)
    report = audit_bundle.verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS)
    assert report.ok, report.reason
    with zipfile.ZipFile(path) as bundle:
        record = json.loads(bundle.read(f"contacts/{contact}/initiative.json"))
        transcript = json.loads(bundle.read(f"contacts/{contact}/transcript.json"))
        pdf = bundle.read(f"contacts/{contact}/transcript.pdf")
    sheet = record["sheet"]
    assert sheet["topics"]["meeting_proposed"]["first_by"] == "decoy"
    assert sheet["topics"]["age_stated"] == {
        "first_by": "decoy",
        "message_id": ids[0],
        "at": "2026-03-02T10:00:00+01:00",
        "annotation_id": record["annotations"][0]["id"],
        "age": 14,
    }
    assert sheet["topics"]["payment_offered"] is None  # retracted
    assert sheet["topics"]["sexual_topic"] is None  # a legal officer's remark never counts
    assert sheet["age_to_meeting_seconds"] == 1800
    assert record["flags"] == ["decoy_raised_first"]
    assert [a["by"] for a in record["annotations"]] == [code_for("dana")] * 4 + [code_for("lena")]
    assert [a["cause"] for a in record["assessments"]][-1] == "message"
    messages = {m["id"]: m for m in transcript["messages"]}
    assert messages[ids[0]]["lifted_flags"] == ["decoy_initiated"]  # the late message came first
    assert messages[ids[2]]["later_flags"] == ["decoy_raised_first"]
    text = _pdf_text(pdf, tmp_path)
    assert "Initiative" in text and "Meeting proposed" in text and "the decoy" in text
    assert "0 h 30 min" in text


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    source = tmp_path / "transcript.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(source), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def _replaced(path: Path, name: str, change: Any) -> zipfile.ZipFile:
    """The bundle in memory with one member changed (the manifest is not re-signed: the check is called
    by itself)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as original, zipfile.ZipFile(buffer, "w") as copy:
        for info in original.infolist():
            data = original.read(info.filename)
            copy.writestr(info.filename, change(data) if info.filename == name else data)
    return zipfile.ZipFile(buffer)


def test_a_changed_sheet_annotation_or_missing_record_is_named(
    world: Any, runner: Any, tmp_path: Path
) -> None:
    contact, ids, path = _bundle(world, runner, tmp_path)
    entries = {index: entry for index, entry in enumerate(audit_entries(world.app))}
    name = f"contacts/{contact}/initiative.json"
    with zipfile.ZipFile(path) as bundle:
        assert check_initiative(bundle, entries) is None

    def edit(change: Any) -> Any:
        def apply(data: bytes) -> bytes:
            record = json.loads(data)
            change(record)
            return json.dumps(record).encode()

        return apply

    def first_by_counterpart(record: dict[str, Any]) -> None:
        record["sheet"]["topics"]["meeting_proposed"]["first_by"] = "counterpart"

    def other_age(record: dict[str, Any]) -> None:
        record["annotations"][0]["age"] = 18

    def other_remark(record: dict[str, Any]) -> None:
        record["annotations"][4]["remark"] = "no remark"

    def other_officer(record: dict[str, Any]) -> None:
        record["annotations"][3]["by"] = "sam"

    def dropped_assessment(record: dict[str, Any]) -> None:
        record["assessments"].pop(0)

    for change, expected in (
        (first_by_counterpart, "initiative sheet is not the one"),
        (other_age, "not the one its annotations give"),
        (other_officer, "made by 'sam'"),
        (other_remark, "differs from the row recorded"),
        (dropped_assessment, "missing from the initiative records"),
    ):
        with _replaced(path, name, edit(change)) as changed:
            problem = check_initiative(changed, entries)
        assert problem is not None and expected in problem, (change.__name__, problem)
