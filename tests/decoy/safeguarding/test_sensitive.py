"""Sensitive material: never downloaded as an ordinary file; opened only by legal officers and the
operation's supervisors, each time with a reason that is recorded before a byte leaves; never in a
disclosure bundle (its hash is); its hashes exported for victim identification as VICS 2.0 JSON and CSV."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from audit import bundle as audit_bundle
from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS
from decoy.cli import main
from decoy.db import session_scope
from decoy.models import SensitiveOpening
from tests.decoy.disclosure.classes_support import tamper
from tests.decoy.evidence.support import entries_for
from tests.support import AuthActions, code_for

#: A stand-in for an image (neutral bytes with a PNG signature).
IMAGE = b"\x89PNG\r\n\x1a\n" + b"placeholder picture bytes 7731" * 40
OTHER = b"\x89PNG\r\n\x1a\n" + b"an ordinary screenshot 5520" * 40


def _upload(world: Any, contact: int, content: bytes, name: str) -> int:
    answer = world.post(f"/contacts/{contact}/messages", data={
        "direction": "in", "sent_at": "2026-03-02T10:20:00+01:00", "body": "hello, how are you",
        "attachments": [(io.BytesIO(content), name)]}, content_type="multipart/form-data")
    assert answer.status_code == 201, answer.get_json()
    message = answer.get_json()["id"]
    return int(world.get(f"/messages/{message}").get_json()["attachments"][0]["id"])


@pytest.fixture
def marked(world: Any) -> dict[str, int]:
    """A contact with a sensitive attachment and an ordinary one."""
    contact = world.contact()
    sensitive = _upload(world, contact, IMAGE, "picture.png")
    ordinary = _upload(world, contact, OTHER, "screen.png")
    answer = world.post(f"/attachments/{sensitive}/disclosure", "lena",
                        json={"class": "sensitive", "reason": "an image of a minor: hash only"})
    assert answer.status_code == 200, answer.get_json()
    return {"contact": contact, "sensitive": sensitive, "ordinary": ordinary}


def _read(answer: Any) -> Any:
    """The response with its body read and its file closed."""
    answer.get_data()
    answer.close()
    return answer


def _open(world: Any, attachment: int, username: str = "lena", reason: str = "prepare the hearing") -> Any:
    return _read(world.post(f"/attachments/{attachment}/open", username, json={"reason": reason}))


def test_the_ordinary_download_refuses_sensitive_material_for_everyone(world: Any, marked: Any) -> None:
    for username in ("dana", "sam", "lena"):
        answer = world.get(f"/attachments/{marked['sensitive']}", username)
        assert answer.status_code == 403, username
        assert IMAGE not in answer.get_data()
    assert _read(world.get(f"/attachments/{marked['ordinary']}")).get_data() == OTHER
    assert entries_for(world.app, "attachment.download")[-1]["object"]["id"] == marked["ordinary"]
    assert len(entries_for(world.app, "attachment.download")) == 1  # a refusal reads nothing


def test_only_legal_officers_and_supervisors_open_it_with_a_reason(world: Any, marked: Any) -> None:
    attachment = marked["sensitive"]
    assert _open(world, attachment, "dana").status_code == 403
    assert _open(world, attachment, "nina").status_code == 404
    assert _open(world, attachment, "adam").status_code == 404
    blank = _open(world, attachment, reason="  ")
    assert blank.status_code == 400 and blank.get_json()["error"]["field"] == "reason"
    ordinary = _open(world, marked["ordinary"])
    assert ordinary.status_code == 409 and ordinary.get_json()["error"]["field"] == "attachment"
    assert entries_for(world.app, "attachment.open_sensitive") == []

    opened = _open(world, attachment)
    assert opened.status_code == 200 and opened.get_data() == IMAGE
    assert opened.mimetype == "application/octet-stream"  # never an image a browser would show
    assert opened.headers["Content-Disposition"].startswith("attachment")
    assert _open(world, attachment, "sam", reason="check before the hand-over").status_code == 200
    [first, second] = entries_for(world.app, "attachment.open_sensitive")
    assert (first["actor"], second["actor"]) == (code_for("lena"), code_for("sam"))
    assert first["details"]["attachment"] == attachment
    assert first["details"]["reason_sha256"] == hashlib.sha256(b"prepare the hearing").hexdigest()
    with world.app.app_context(), session_scope(world.app) as session:
        reasons = [row.reason for row in session.exec(select(SensitiveOpening)).all()]
    assert reasons == ["prepare the hearing", "check before the hand-over"]


def test_the_bundle_carries_the_hash_never_the_bytes(
    world: Any, marked: Any, runner: Any, tmp_path: Path
) -> None:
    _open(world, marked["sensitive"])
    world.post(f"/contacts/{marked['contact']}/category", json={"category": "real_minor", "reason": "age 13"})
    path = tmp_path / "bundle.zip"
    result = runner.invoke(main, ["export", str(world.operation_id), "-o", str(path), "--as", "lena"])
    assert result.exit_code == 0, result.output
    assert audit_bundle.verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS).ok
    with zipfile.ZipFile(path) as bundle:
        everything = b"".join(bundle.read(name) for name in bundle.namelist())
        listed = json.loads(bundle.read("withheld.json"))
    assert IMAGE not in everything and OTHER in everything
    assert b"prepare the hearing" not in everything and b"age 13" not in everything
    sha256 = hashlib.sha256(IMAGE).hexdigest()
    assert sha256 in json.dumps(listed)


def test_the_hashes_export_as_vics_and_csv(world: Any, marked: Any) -> None:
    path = f"/operations/{world.operation_id}/sensitive-hashes"
    assert world.get(f"{path}.csv", "dana").status_code == 403
    assert world.get(f"{path}.csv", "sam").status_code == 403
    assert world.get(f"{path}.csv", "nina").status_code == 404
    answer = world.get(f"{path}.csv", "lena")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    [row] = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert row["attachment_id"] == str(marked["sensitive"])
    assert row["sha256"] == hashlib.sha256(IMAGE).hexdigest()
    assert row["md5"] == hashlib.md5(IMAGE, usedforsecurity=False).hexdigest()
    assert row["sha1"] == hashlib.sha1(IMAGE, usedforsecurity=False).hexdigest()
    assert row["message_sent_at"] == "2026-03-02T09:20:00.000000Z" and row["size"] == str(len(IMAGE))
    vics = world.get(f"{path}.json", "lena").get_json()
    assert vics["@odata.context"].endswith("ProjectVic/DataModels/2.0.xml/CUSTOM/$metadata#Cases")
    [case] = vics["value"]
    assert case["CaseNumber"] == "Operation Lantern" and case["SourceApplicationName"] == "Decoy"
    [medium] = case["Media"]
    assert medium["MD5"] == hashlib.md5(IMAGE, usedforsecurity=False).hexdigest().upper()
    assert medium["SHA1"] == hashlib.sha1(IMAGE, usedforsecurity=False).hexdigest().upper()
    assert medium["MediaSize"] == len(IMAGE) and hashlib.sha256(IMAGE).hexdigest() in medium["Comments"]
    assert world.get(f"{path}.json", "lena").get_json()["value"][0]["CaseID"] == case["CaseID"]  # stable
    assert len(entries_for(world.app, "sensitive.hash_export")) == 3


def test_pages_show_no_download_of_sensitive_material(
    world: Any, marked: Any, factory: Any, clock: Any
) -> None:
    auth = AuthActions(world.client, factory, clock)
    auth.login("dana")
    page = world.client.get(f"/contacts/{marked['contact']}").get_data(as_text=True)
    assert f'href="/attachments/{marked["sensitive"]}"' not in page
    assert f'href="/attachments/{marked["sensitive"]}/open"' not in page
    assert f'href="/attachments/{marked["ordinary"]}"' in page
    assert "Sensitive material: never shown" in page
    assert world.client.get(f"/attachments/{marked['sensitive']}/open").status_code == 403
    auth.logout()
    auth.login("lena")
    page = world.client.get(f"/contacts/{marked['contact']}").get_data(as_text=True)
    assert f'href="/attachments/{marked["sensitive"]}/open"' in page
    form = world.client.get(f"/attachments/{marked['sensitive']}/open")
    assert form.status_code == 200 and IMAGE not in form.get_data()


def test_verify_checks_the_openings(world: Any, marked: Any, runner: Any) -> None:
    _open(world, marked["sensitive"])
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    tamper(world.app, "sensitive_opening", "UPDATE sensitive_opening SET reason = 'nothing'")
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code != 0 and "opening of sensitive material" in result.output


def test_the_same_file_captured_again_is_sensitive_too(world: Any, marked: Any, runner: Any,
                                                      tmp_path: Path) -> None:
    """Files are stored by their SHA-256: the same bytes under another attachment are never served, and
    an export that would copy them is refused until their class is decided."""
    other = world.contact(counterpart="second_sender_3")
    again = _upload(world, other, IMAGE, "forwarded.png")
    for username in ("dana", "lena"):
        assert world.get(f"/attachments/{again}", username).status_code == 403
    assert _open(world, again).get_data() == IMAGE  # opened with a reason, like the marked one
    path = tmp_path / "bundle.zip"
    result = runner.invoke(main, ["export", str(world.operation_id), "-o", str(path), "--as", "lena"])
    assert result.exit_code != 0 and f"attachment {again} holds the same file" in result.output
    world.post(f"/attachments/{again}/disclosure", "lena", json={"class": "sensitive", "reason": "same file"})
    result = runner.invoke(main, ["export", str(world.operation_id), "-o", str(path), "--as", "lena"])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(path) as bundle:
        assert IMAGE not in b"".join(bundle.read(name) for name in bundle.namelist())


def test_an_import_whose_media_is_sensitive_is_listed_not_copied(world: Any, runner: Any,
                                                                 tmp_path: Path) -> None:
    from tests.decoy.imports.support import post_import, zipped

    contact = world.contact()
    chat = (b"02-03-2026 09:00 - Berichten en gesprekken zijn end-to-end versleuteld.\n"
            b"02-03-2026 10:00 - Alex: IMG-20260301-WA0001.jpg (bestand bijgevoegd)\n"
            b"02-03-2026 10:01 - Sam Decoy: hello, how are you\n")
    export = zipped({"WhatsApp-chat met Alex.txt": chat, "IMG-20260301-WA0001.jpg": IMAGE})
    answer = post_import(world, contact, export, filename="WhatsApp-chat met Alex.zip")
    assert answer.status_code == 201, answer.get_json()
    [attachment] = [a for m in world.get(f"/contacts/{contact}/messages").get_json()["items"]
                    for a in m["attachments"] if a["sha256"] == hashlib.sha256(IMAGE).hexdigest()]
    world.post(f"/attachments/{attachment['id']}/disclosure", "lena",
               json={"class": "sensitive", "reason": "an image of a minor"})
    path = tmp_path / "bundle.zip"
    result = runner.invoke(main, ["export", str(world.operation_id), "-o", str(path), "--as", "lena"])
    assert result.exit_code == 0, result.output
    assert audit_bundle.verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS).ok
    with zipfile.ZipFile(path) as bundle:
        names = bundle.namelist()
        imports = json.loads(bundle.read(f"contacts/{contact}/imports.json"))
    assert f"attachments/{hashlib.sha256(export).hexdigest()}" not in names
    assert [(i["path"], i["disclosure"], i["sha256"]) for i in imports] == [
        (None, "sensitive", hashlib.sha256(export).hexdigest())
    ]


def test_a_message_number_in_other_digits_is_refused_not_a_server_error(
    world: Any, marked: Any, factory: Any, clock: Any
) -> None:
    from tests.support import csrf_from

    auth = AuthActions(world.client, factory, clock)
    auth.login("dana")
    page = world.client.get(f"/contacts/{marked['contact']}").get_data(as_text=True)
    for typed in ("²", "١", "12345678901"):
        answer = world.client.post(f"/contacts/{marked['contact']}/trafficking-signal",
                                   data={"signal-csrf_token": csrf_from(page), "signal-message_id": typed,
                                         "signal-reason": "r"})
        assert answer.status_code == 302, typed
    assert entries_for(world.app, "safeguarding.open") == []


def test_a_page_shows_as_sensitive_what_its_message_contact_or_bytes_make_sensitive(
    world: Any, marked: Any
) -> None:
    from decoy.disclosure.classes import sensitive_attachment_ids
    from decoy.models import Attachment

    by_message = world.contact(counterpart="marked_message_1")
    in_marked_message = _upload(world, by_message, OTHER + b"1", "a.png")
    by_contact = world.contact(counterpart="marked_contact_2")
    in_marked_contact = _upload(world, by_contact, OTHER + b"2", "b.png")
    same_bytes = _upload(world, by_contact, IMAGE, "c.png")
    plain = _upload(world, by_contact, OTHER + b"3", "d.png")  # sensitive by its contact alone
    with world.app.app_context(), session_scope(world.app) as session:
        rows = {a.id: a for a in session.exec(select(Attachment)).all()}
    world.post(f"/messages/{rows[in_marked_message].message_id}/disclosure", "lena",
               json={"class": "sensitive", "reason": "r"})
    world.post(f"/contacts/{by_contact}/disclosure", "lena", json={"class": "sensitive", "reason": "r"})
    with world.app.app_context(), session_scope(world.app) as session:
        found = sensitive_attachment_ids(session, list(rows.values()))
    assert found == {marked["sensitive"], in_marked_message, in_marked_contact, same_bytes, plain}
    assert marked["ordinary"] not in found
