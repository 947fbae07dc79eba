"""Redacted copies of attachments: only a legal officer attaches one, with a statement of what was redacted
and why; it must differ from the original, which stays as it was; the latest copy of each attachment is
what a bundle carries (``redactions_of``); recorded under the legal officer's code and checked by
`decoy audit verify`."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from sqlalchemy import text

from decoy.cli import main
from decoy.db import get_engine, session_scope
from decoy.disclosure.redactions import redactions_of
from tests.decoy.evidence.support import World, entries_for
from tests.support import code_for, without_triggers

ORIGINAL = b"\x89PNG\r\n\x1a\n" + b"a screenshot with a face" * 20
BLURRED = b"\x89PNG\r\n\x1a\n" + b"a screenshot with the face blurred" * 20
BLURRED_AGAIN = b"\x89PNG\r\n\x1a\n" + b"the face and a name blurred" * 20
STATEMENT = "The face of a third person in the background is blurred; she is no party to the case."


@pytest.fixture
def attachment(world: World) -> dict[str, Any]:
    """A message with a screenshot: its attachment's id and hash."""
    contact = world.contact()
    answer = world.post(f"/contacts/{contact}/messages", data={
        "direction": "in", "sent_at": "2026-03-02T10:00:00+01:00", "body": "hello, how are you",
        "attachments": [(io.BytesIO(ORIGINAL), "screen.png")]}, content_type="multipart/form-data")
    assert answer.status_code == 201, answer.get_json()
    [sent] = answer.get_json()["attachments"]
    with world.app.app_context(), session_scope(world.app) as session:
        found = session.execute(text("SELECT id FROM attachment WHERE sha256 = :sha256"),
                                {"sha256": sent["sha256"]}).scalar_one()
    return {"id": found, "sha256": sent["sha256"], "contact": contact}


def redact(world: World, attachment_id: int, content: bytes = BLURRED, username: str = "lena",
           statement: str | None = STATEMENT, filename: str = "screen-blurred.png") -> Any:
    """POST a redacted copy through the API."""
    data: dict[str, Any] = {"file": (io.BytesIO(content), filename)}
    if statement is not None:
        data["statement"] = statement
    return world.post(f"/attachments/{attachment_id}/redactions", username, data=data,
                      content_type="multipart/form-data")


def test_a_legal_officer_attaches_a_redacted_copy(
    world: World, attachment: dict[str, Any], runner: Any
) -> None:
    answer = redact(world, attachment["id"])
    assert answer.status_code == 201, answer.get_json()
    made = answer.get_json()
    assert made == {
        "id": made["id"], "attachment_id": attachment["id"], "sha256": hashlib.sha256(BLURRED).hexdigest(),
        "original_sha256": attachment["sha256"], "size": len(BLURRED), "media_type": "image/png",
        "filename": "screen-blurred.png", "statement": STATEMENT, "by": code_for("lena"),
        "at": "2026-03-02T09:00:00+00:00",
    }
    assert world.get(f"/attachments/{attachment['id']}/redactions").get_json() == {"items": [made]}
    [entry] = entries_for(world.app, "attachment.redact")
    assert entry["actor"] == code_for("lena")
    assert entry["object"] == {"type": "redaction", "id": made["id"]}
    assert entry["operation"] == world.operation_id
    assert entry["evidence"]["sha256"] == made["sha256"] and len(entry["evidence"]["row_sha256"]) == 64
    assert entry["details"]["original_sha256"] == attachment["sha256"]
    assert entry["details"]["attachment"] == attachment["id"]
    # The original is untouched and still what the message serves.
    original = world.get(f"/attachments/{attachment['id']}")
    assert original.get_data() == ORIGINAL
    original.close()
    verified = runner.invoke(main, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_the_latest_redacted_copy_is_the_one_a_bundle_carries(
    world: World, attachment: dict[str, Any]
) -> None:
    first = redact(world, attachment["id"]).get_json()
    second = redact(world, attachment["id"], BLURRED_AGAIN, statement="The face and a name are blurred.")
    assert second.status_code == 201
    listed = world.get(f"/attachments/{attachment['id']}/redactions", "dana").get_json()["items"]
    assert [item["id"] for item in listed] == [first["id"], second.get_json()["id"]]
    with world.app.app_context(), session_scope(world.app) as session:
        found = redactions_of(session, [attachment["id"], attachment["id"] + 1000])
        assert set(found) == {attachment["id"]}
        assert found[attachment["id"]].sha256 == hashlib.sha256(BLURRED_AGAIN).hexdigest()
        assert redactions_of(session, []) == {}


def test_refusals(world: World, attachment: dict[str, Any]) -> None:
    missing = redact(world, attachment["id"], statement=None)
    assert missing.status_code == 400 and missing.get_json()["error"]["field"] == "statement"
    blank = redact(world, attachment["id"], statement="   ")
    assert blank.status_code == 400 and blank.get_json()["error"]["field"] == "statement"
    no_file = world.post(f"/attachments/{attachment['id']}/redactions", "lena",
                         data={"statement": STATEMENT}, content_type="multipart/form-data")
    assert no_file.status_code == 400 and no_file.get_json()["error"]["field"] == "file"
    same = redact(world, attachment["id"], ORIGINAL)
    assert same.status_code == 409 and same.get_json()["error"]["field"] == "file"
    assert redact(world, attachment["id"], username="dana").status_code == 403  # a detective of it
    assert redact(world, attachment["id"], username="sol").status_code == 403  # a supervisor of it
    assert redact(world, attachment["id"], username="nina").status_code == 404  # not assigned
    assert redact(world, attachment["id"], username="adam").status_code == 404  # no evidence for admins
    assert redact(world, 2_000_000).status_code == 404
    assert world.get(f"/attachments/{attachment['id']}/redactions", "nina").status_code == 404
    assert world.get(f"/attachments/{attachment['id']}/redactions", "adam").status_code == 404
    assert entries_for(world.app, "attachment.redact") == []
    assert world.get(f"/attachments/{attachment['id']}/redactions").get_json() == {"items": []}


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("UPDATE redaction SET statement = 'nothing was redacted'", "the stored row differs"),
        ("UPDATE redaction SET made_by = (SELECT id FROM user_account WHERE username = 'sam')",
         "the stored row differs"),
        ("DELETE FROM redaction", "is missing"),
    ],
)
def test_a_changed_or_removed_redaction_fails_verification(
    world: World, attachment: dict[str, Any], runner: Any, statement: str, named: str
) -> None:
    made = redact(world, attachment["id"]).get_json()
    with world.app.app_context(), get_engine().begin() as connection:
        without_triggers(connection, "redaction")
        connection.execute(text(statement))
    verified = runner.invoke(main, ["audit", "verify"])
    assert verified.exit_code == 1
    assert f"redaction {made['id']}" in verified.output and named in verified.output


def test_a_redacted_file_that_changed_in_the_store_fails_verification(
    world: World, attachment: dict[str, Any], runner: Any
) -> None:
    from decoy import blobstore

    made = redact(world, attachment["id"]).get_json()
    with world.app.app_context():
        blobstore.path_for(made["sha256"]).write_bytes(BLURRED_AGAIN)
    verified = runner.invoke(main, ["audit", "verify"])
    assert verified.exit_code == 1 and f"redaction {made['id']}" in verified.output
