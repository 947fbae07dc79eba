"""Signed proces-verbaal copies of a bundle (``contacts/<id>/signed_reports.json`` and their PDFs) against
their ``report.signed_upload`` entries, both ways. Standard library only."""

from __future__ import annotations

import hashlib
import json
import zipfile
from typing import Any

from audit.evidence_bundle.records import Entries

__all__ = ["SIGNED_REPORTS_NAME", "check_signed_reports"]

SIGNED_REPORTS_NAME = "signed_reports.json"


def _file_sha256(bundle: zipfile.ZipFile, name: str) -> str | None:
    try:
        return hashlib.sha256(bundle.read(name)).hexdigest()
    except KeyError:
        return None


def check_signed_reports(bundle: zipfile.ZipFile, entries: Entries) -> str | None:
    """The first signed copy that differs from its entry or whose PDF is missing, an entry without its
    copy, or a copy without its entry; None when they agree."""
    shown: dict[Any, tuple[str, dict[str, Any]]] = {}
    try:
        for name in sorted(bundle.namelist()):
            if name.startswith("contacts/") and name.endswith("/" + SIGNED_REPORTS_NAME):
                for report in json.loads(bundle.read(name).decode("utf-8")):
                    shown[report["id"]] = (name, report)
        for index in sorted(entries):
            entry = entries[index]
            if entry.get("action") != "report.signed_upload":
                continue
            report_id = (entry.get("object") or {}).get("id")
            found = shown.pop(report_id, None)
            if found is None:
                return f"entry {index}: signed report {report_id} is missing from the bundle"
            name, report = found
            sha256 = (entry.get("evidence") or {}).get("sha256")
            if report.get("sha256") != sha256 or _file_sha256(bundle, str(report.get("path"))) != sha256:
                return f"{name}: signed report {report_id} is not the file recorded in entry {index}"
            if report.get("by") != entry.get("actor"):
                by, actor = report.get("by"), entry.get("actor")
                return f"{name}: signed report {report_id} kept by {by!r}, entry {index} says {actor!r}"
    except (KeyError, TypeError, ValueError, AttributeError, UnicodeDecodeError) as exc:
        return f"a signed report record is malformed: {exc!r}"
    if shown:
        report_id, (name, _report) = next(iter(shown.items()))
        return f"{name}: signed report {report_id} has no audit entry in the bundle"
    return None
