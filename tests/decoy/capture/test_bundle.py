"""The evidence bundle holds every capture session with its end, each transcript message names its operator
and session, the reports name them, and the bundle still verifies."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from pypdf import PdfReader

from audit import bundle as audit_bundle
from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS
from decoy.cli import main
from tests.support import code_for

from .support import STATEMENT, end, start


def _pdf_text(data: bytes) -> str:
    """The PDF's text with every run of white space (a line wrapped in a narrow column) as one space."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def test_the_bundle_holds_the_sessions_and_the_messages_name_them(
    world: Any, runner: Any, tmp_path: Any
) -> None:
    first = start(world)["id"]
    second = start(world, "dirk", device="desktop 3", tool="capture-cli 1.2")["id"]
    end(world, first, known_gaps="The app crashed at 10:40.")
    contact_id = world.contact()
    in_session = world.message(contact_id, username="sam", capture_session=second)["id"]
    outside = world.message(contact_id, body="typed outside", sent_at="2026-03-02T10:05:00+01:00")["id"]
    elsewhere = world.profile(handle="decoy_two")
    third = start(world, profile_id=elsewhere)["id"]

    path = tmp_path / "lantern.zip"
    result = runner.invoke(main, ["export", str(world.operation_id), "-o", str(path)])
    assert result.exit_code == 0, result.output
    report = audit_bundle.verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS)
    assert report.ok, report.reason
    with zipfile.ZipFile(path) as archive:
        sessions = json.loads(archive.read("capture_sessions.json"))
        transcript = json.loads(archive.read(f"contacts/{contact_id}/transcript.json"))
        contact_pdf = _pdf_text(archive.read(f"contacts/{contact_id}/transcript.pdf"))
        report_pdf = _pdf_text(archive.read("report.pdf"))
        manifest = json.loads(archive.read("manifest.json"))
    assert "capture_sessions.json" in json.dumps(manifest)

    assert [(s["id"], s["profile_id"], s["operated_by"]) for s in sessions] == [
        (first, world.profile_id, code_for("dana")),
        (second, world.profile_id, code_for("dirk")),
        (third, elsewhere, code_for("dana")),
    ]
    ended = sessions[0]
    assert (ended["device"], ended["tool"], ended["started_at"]) == (
        "laptop VICE-07",
        "manual",
        "2026-03-02T09:00:00+00:00",
    )
    assert isinstance(ended["operated_by_id"], int)
    assert ended["end"]["ended_by"] == code_for("dana")
    assert ended["end"]["completeness_statement"] == STATEMENT
    assert ended["end"]["known_gaps"] == "The app crashed at 10:40."
    assert sessions[1]["end"] is None

    messages = {m["id"]: m for m in transcript["messages"]}
    shown = (messages[in_session]["recorded_by"], messages[in_session]["operated_by"])
    assert shown == (code_for("sam"), code_for("dirk"))
    assert messages[in_session]["capture_session"] == second
    assert (messages[outside]["operated_by"], messages[outside]["capture_session"]) == (None, None)

    assert f"operated by {code_for('dirk')} in capture session {second}" in contact_pdf
    assert f"operated by {code_for('dirk')} in capture session {second}" in report_pdf
    assert "Capture sessions" in report_pdf and STATEMENT in report_pdf
    assert "still open when exported" in report_pdf


def test_a_bundle_without_sessions_says_so(world: Any, runner: Any, tmp_path: Any) -> None:
    path = tmp_path / "lantern.zip"
    assert runner.invoke(main, ["export", str(world.operation_id), "-o", str(path)]).exit_code == 0
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read("capture_sessions.json")) == []
        assert "No capture sessions recorded." in _pdf_text(archive.read("report.pdf"))
