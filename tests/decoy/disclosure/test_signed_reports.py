"""Signed copies of the proces-verbaal: the officer uploads the PDF they signed outside Decoy; it is kept by
its SHA-256 with the contact (the same file again is the same row), listed and downloaded with its hash,
refused when it is no PDF or the caller may not keep it, recorded under the officer's code, and checked
by `decoy audit verify`."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from sqlalchemy import text

from decoy.cli import main
from decoy.db import get_engine
from tests.decoy.evidence.support import World, entries_for
from tests.support import code_for, csrf_from, without_triggers

SIGNED = b"%PDF-1.7\n% the proces-verbaal as signed by hand, scanned\n%%EOF\n"
OTHER = b"%PDF-1.7\n% a second signed copy\n%%EOF\n"


def upload(world: World, contact: int, content: bytes = SIGNED, username: str = "dana",
           filename: str = "pv-signed.pdf") -> Any:
    """POST a signed copy through the API."""
    return world.post(f"/contacts/{contact}/signed-reports", username,
                      data={"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data")


@pytest.fixture
def contact(world: World) -> int:
    """A contact with one message."""
    found = world.contact()
    world.message(found)
    return found


def test_a_signed_copy_is_kept_listed_and_downloaded(world: World, contact: int, runner: Any) -> None:
    answer = upload(world, contact)
    assert answer.status_code == 201, answer.get_json()
    kept = answer.get_json()
    assert kept == {
        "id": kept["id"], "contact_id": contact, "sha256": hashlib.sha256(SIGNED).hexdigest(),
        "size": len(SIGNED), "filename": "pv-signed.pdf", "by": code_for("dana"),
        "at": "2026-03-02T09:00:00+00:00",
    }
    assert answer.headers["Location"].endswith(f"/api/v1/signed-reports/{kept['id']}/file")
    listed = world.get(f"/contacts/{contact}/signed-reports", "lena").get_json()
    assert listed == {"items": [kept]}
    download = world.get(f"/signed-reports/{kept['id']}/file", "sol")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.get_data() == SIGNED and download.headers["X-Content-SHA256"] == kept["sha256"]
    assert "attachment" in download.headers["Content-Disposition"]
    download.close()
    [entry] = entries_for(world.app, "report.signed_upload")
    assert entry["actor"] == code_for("dana")
    assert entry["object"] == {"type": "signed_report", "id": kept["id"]}
    assert entry["operation"] == world.operation_id
    assert entry["evidence"]["sha256"] == kept["sha256"] and len(entry["evidence"]["row_sha256"]) == 64
    assert entry["details"] == {"contact": contact, "filename": "pv-signed.pdf", "size": len(SIGNED)}
    [read] = entries_for(world.app, "report.signed_read")
    assert read["actor"] == code_for("sol") and read["details"]["sha256"] == kept["sha256"]
    verified = runner.invoke(main, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_the_same_file_again_answers_the_row_kept_before(world: World, contact: int) -> None:
    first = upload(world, contact).get_json()
    again = upload(world, contact, username="sol", filename="another name.pdf")
    assert again.status_code == 200 and again.get_json() == first
    second = upload(world, contact, OTHER)
    assert second.status_code == 201
    items = world.get(f"/contacts/{contact}/signed-reports").get_json()["items"]
    assert [item["id"] for item in items] == [first["id"], second.get_json()["id"]]
    assert len(entries_for(world.app, "report.signed_upload")) == 2
    # The same file with another contact is that contact's own copy.
    other = world.contact(counterpart="another_counterpart")
    assert upload(world, other).status_code == 201


def test_refusals(world: World, contact: int) -> None:
    not_pdf = upload(world, contact, b"\x89PNG\r\n\x1a\n a picture", filename="pv.pdf")
    assert not_pdf.status_code == 400 and not_pdf.get_json()["error"]["field"] == "file"
    empty = world.post(f"/contacts/{contact}/signed-reports", data={"note": "x"},
                       content_type="multipart/form-data")
    assert empty.status_code == 400 and empty.get_json()["error"]["field"] == "file"
    as_json = world.post(f"/contacts/{contact}/signed-reports", json={"file": "x"})
    assert as_json.status_code == 400 and as_json.get_json()["error"]["field"] == "file"
    assert upload(world, contact, username="lena").status_code == 403  # a legal officer keeps none
    assert upload(world, contact, username="nina").status_code == 404  # not assigned
    assert upload(world, contact, username="adam").status_code == 404  # an admin sees no evidence
    assert upload(world, 2_000_000).status_code == 404
    assert world.get(f"/contacts/{contact}/signed-reports", "nina").status_code == 404
    kept = upload(world, contact).get_json()
    assert world.get(f"/signed-reports/{kept['id']}/file", "nina").status_code == 404
    assert world.get(f"/signed-reports/{kept['id']}/file", "adam").status_code == 404
    assert world.get("/signed-reports/2000000/file").status_code == 404
    assert entries_for(world.app, "report.signed_read") == []
    assert len(entries_for(world.app, "report.signed_upload")) == 1


def test_the_contact_page_keeps_a_signed_copy(world: World, contact: int, auth: Any) -> None:
    auth.login("dana")
    page = world.client.get(f"/contacts/{contact}")
    html = page.get_data(as_text=True)
    assert 'id="proces-verbaal"' in html and 'name="file"' in html
    token = csrf_from(html)
    sent = world.client.post(f"/contacts/{contact}/signed-reports",
                             data={"csrf_token": token, "file": (io.BytesIO(SIGNED), "signed.pdf")},
                             content_type="multipart/form-data")
    assert sent.status_code == 302 and sent.headers["Location"].endswith("#proces-verbaal")
    html = world.client.get(f"/contacts/{contact}").get_data(as_text=True)
    assert hashlib.sha256(SIGNED).hexdigest() in html and code_for("dana") in html
    [row] = world.get(f"/contacts/{contact}/signed-reports").get_json()["items"]
    assert f"/signed-reports/{row['id']}" in html
    download = world.client.get(f"/signed-reports/{row['id']}")
    assert download.status_code == 200 and download.get_data() == SIGNED
    download.close()
    refused = world.client.post(f"/contacts/{contact}/signed-reports",
                                data={"csrf_token": token, "file": (io.BytesIO(b"plain words"), "x.pdf")},
                                content_type="multipart/form-data")
    assert refused.status_code == 400
    assert "only PDF documents are accepted" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("UPDATE signed_report SET filename = 'other.pdf'", "the stored row differs"),
        ("UPDATE signed_report SET sha256 = :other", "the stored row differs"),
        ("DELETE FROM signed_report", "is missing"),
    ],
)
def test_a_changed_or_removed_signed_copy_fails_verification(
    world: World, contact: int, runner: Any, statement: str, named: str
) -> None:
    kept = upload(world, contact).get_json()
    with world.app.app_context(), get_engine().begin() as connection:
        without_triggers(connection, "signed_report")
        connection.execute(text(statement), {"other": hashlib.sha256(OTHER).hexdigest()})
    verified = runner.invoke(main, ["audit", "verify"])
    assert verified.exit_code == 1
    assert f"signed report {kept['id']}" in verified.output and named in verified.output


def test_a_signed_copy_without_its_entry_fails_verification(world: World, contact: int, runner: Any) -> None:
    kept = upload(world, contact).get_json()
    with world.app.app_context(), get_engine().begin() as connection:
        connection.execute(
            text(
                "INSERT INTO signed_report (operation_id, contact_id, sha256, size, filename, uploaded_by, "
                "uploaded_at) SELECT operation_id, contact_id, :sha256, size, 'slipped in.pdf', uploaded_by, "
                "uploaded_at FROM signed_report WHERE id = :id"
            ),
            {"sha256": hashlib.sha256(OTHER).hexdigest(), "id": kept["id"]},
        )
    verified = runner.invoke(main, ["audit", "verify"])
    assert verified.exit_code == 1 and "rows without an audit entry" in verified.output
    assert "signed_report" in verified.output
