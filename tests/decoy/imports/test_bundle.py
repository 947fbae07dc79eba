"""An import in the evidence bundle: the original file, imports.json, the provenance of every imported
message and the flags reconciliation found; the bundle verifies, and without the original file it does not."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

from pypdf import PdfReader

from audit import bundle as audit_bundle
from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS
from decoy.cli import main

from .support import post_import, whatsapp_android

CHAT = [
    ("02-03-2026 10:00", "Alex", "hello, how are you"),
    ("02-03-2026 10:01", "Sam Decoy", "fine thanks"),
]


def _export(world: Any, runner: Any, path: Any) -> None:
    result = runner.invoke(main, ["export", str(world.operation_id), "-o", str(path)])
    assert result.exit_code == 0, result.output


def test_the_bundle_holds_the_original_file_and_the_provenance(
    world: Any, runner: Any, tmp_path: Any
) -> None:
    contact = world.contact()
    typed = world.message(
        contact, body="fine thank you", direction="out", sent_at="2026-03-02T10:01:00+01:00"
    )
    content = whatsapp_android(CHAT)
    answer = post_import(world, contact, content).get_json()
    path = tmp_path / "lantern.zip"
    _export(world, runner, path)
    report = audit_bundle.verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS)
    assert report.ok, report.reason
    sha256 = hashlib.sha256(content).hexdigest()
    with zipfile.ZipFile(path) as archive:
        assert archive.read(f"attachments/{sha256}") == content
        imports = json.loads(archive.read(f"contacts/{contact}/imports.json"))
        transcript = json.loads(archive.read(f"contacts/{contact}/transcript.json"))
        pdf = " ".join(
            page.extract_text()
            for page in PdfReader(io.BytesIO(archive.read(f"contacts/{contact}/transcript.pdf"))).pages
        )
    assert [(i["id"], i["sha256"], i["format"], i["path"]) for i in imports] == [
        (answer["id"], sha256, "whatsapp", f"attachments/{sha256}")
    ]
    assert imports[0]["result"]["added"] == 3
    assert [(r["message_id"], r["outcome"]) for r in imports[0]["reconciliations"]] == [
        (typed["id"], "differs_from_export")
    ]
    by_body = {m["body"]: m for m in transcript["messages"]}
    assert by_body["fine thank you"]["later_flags"] == ["differs_from_export"]
    assert (by_body["hello, how are you"]["import_id"], by_body["hello, how are you"]["source"]) == (
        answer["id"],
        "line 2",
    )
    assert by_body["hello, how are you"]["assumed_timezone"] == "Europe/Amsterdam"
    assert by_body["Berichten en gesprekken zijn end-to-end versleuteld."]["direction"] == "system"
    assert f"imported (import {answer['id']}, line 2)" in " ".join(pdf.split())
    assert "typed by hand; the platform's export gives another text" in " ".join(pdf.split())


def test_a_bundle_without_the_original_file_does_not_verify(world: Any, runner: Any, tmp_path: Any) -> None:
    contact = world.contact()
    content = whatsapp_android(CHAT)
    post_import(world, contact, content)
    path = tmp_path / "lantern.zip"
    _export(world, runner, path)
    sha256 = hashlib.sha256(content).hexdigest()
    altered = tmp_path / "altered.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(altered, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == f"attachments/{sha256}":
                data = data.replace(b"fine thanks", b"fine thanks!")
            target.writestr(item, data)
    report = audit_bundle.verify_bundle(altered, checks=EVIDENCE_BUNDLE_CHECKS)
    assert not report.ok


def test_backups_and_store_moves_count_the_original_file_as_referenced(world: Any) -> None:
    from decoy.backup.databases import referenced_hashes as backed_up
    from decoy.blobstore.moving import referenced_hashes as moved
    from decoy.db import get_engine

    content = whatsapp_android(CHAT)
    post_import(world, world.contact(), content)
    sha256 = hashlib.sha256(content).hexdigest()
    with world.app.app_context(), get_engine().connect() as connection:
        assert sha256 in backed_up(connection)
        assert sha256 in moved(connection)
