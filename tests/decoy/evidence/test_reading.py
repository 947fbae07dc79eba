"""The read services: one audit entry per read in the caller's transaction, none for a refused read."""

from __future__ import annotations

import ast
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

import decoy
from decoy.audit_bridge import get_store
from decoy.db import get_engine
from decoy.errors import NotFound
from decoy.evidence import reading
from decoy.operations.authorizations import attach_order_document
from tests.factories import actor_for
from tests.support import code_for

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 10
PDF = b"%PDF-1.4\n%%EOF\n"
READING = Path(reading.__file__).resolve()


@dataclass
class Evidence:
    """One of each kind of evidence in the world's operation."""

    contact_id: int
    message_id: int
    attachment_id: int
    document_id: int
    signed_report_id: int


@pytest.fixture
def evidence(world: Any) -> Evidence:
    """A contact, a message with a screenshot, and an order document."""
    contact_id = world.contact(counterpart="sunny_day_22")
    answer = world.post(
        f"/contacts/{contact_id}/messages",
        data={
            "direction": "in",
            "sent_at": "2026-03-02T10:00:00+01:00",
            "body": "sunny greetings",
            "attachments": [(io.BytesIO(PNG), "screen.png")],
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    with world.app.app_context(), _session(world.app) as session:
        document = attach_order_document(
            session=session,
            actor=actor_for(session, "lena"),
            authorization_id=world.authorization_id,
            stream=io.BytesIO(PDF),
            filename="order.pdf",
        )
        session.commit()
        document_id = int(document.id)  # type: ignore[arg-type]
    signed = world.client.post(
        f"/api/v1/contacts/{contact_id}/signed-reports",
        headers=world.headers("dana"),
        data={"file": (io.BytesIO(PDF), "signed.pdf")},
    )
    assert signed.status_code == 201, signed.get_json()
    return Evidence(
        contact_id, int(body["id"]), int(body["attachments"][0]["id"]), document_id, signed.get_json()["id"]
    )


@contextmanager
def _session(app: Any) -> Iterator[Session]:
    with Session(get_engine(app), expire_on_commit=False) as session:
        yield session


def audit_entries(app: Any) -> list[dict[str, Any]]:
    """Every committed audit entry, decoded (read on a connection of its own)."""
    from audit.entry import decode_entry

    with app.app_context(), _session(app) as session:
        rows = get_store(app).entries(session.connection(), 0, 1_000_000)
    return [decode_entry(data) for _index, data, _leaf in rows]


Read = Callable[[Session, Any, Any, Evidence], Any]


def _expected(world: Any, found: Evidence) -> dict[str, tuple[str, Any, dict[str, Any]]]:
    """Per read: the action, the object and the details its entry holds."""
    return {
        "contact": ("contact.read", {"type": "contact", "id": found.contact_id}, {}),
        "contacts": (
            "contact.list",
            {"type": "profile", "id": world.profile_id},
            {"contacts": [found.contact_id]},
        ),
        "messages": (
            "contact.read",
            {"type": "contact", "id": found.contact_id},
            {"after": None, "messages": [found.message_id]},
        ),
        "transcript page": (
            "contact.read",
            {"type": "contact", "id": found.contact_id},
            {"page": True, "messages": [found.message_id]},
        ),
        "message": ("message.read", {"type": "message", "id": found.message_id}, {}),
        "download": (
            "attachment.download",
            {"type": "attachment", "id": found.attachment_id},
            {"message": found.message_id},
        ),
        "search": (
            "evidence.search",
            {"type": "search", "id": None},
            {"q": "sunny", "contacts": [found.contact_id], "messages": [found.message_id]},
        ),
        "document": (
            "authorization.document_read",
            {"type": "authorization", "id": world.authorization_id},
            {"document_id": found.document_id},
        ),
        "signed report": (
            "report.signed_read",
            {"type": "signed_report", "id": found.signed_report_id},
            {"contact": found.contact_id, "sha256": hashlib.sha256(PDF).hexdigest()},
        ),
    }


READS: dict[str, Read] = {
    "contact": lambda s, a, w, e: reading.read_contact(session=s, actor=a, contact_id=e.contact_id),
    "contacts": lambda s, a, w, e: reading.read_contacts(session=s, actor=a, profile_id=w.profile_id),
    "messages": lambda s, a, w, e: reading.read_messages(session=s, actor=a, contact_id=e.contact_id),
    "transcript page": lambda s, a, w, e: reading.read_transcript_page(
        session=s, actor=a, contact_id=e.contact_id
    ),
    "message": lambda s, a, w, e: reading.read_message(session=s, actor=a, message_id=e.message_id),
    "download": lambda s, a, w, e: reading.download_attachment(
        session=s, actor=a, attachment_id=e.attachment_id
    ),
    "search": lambda s, a, w, e: reading.search_evidence(session=s, actor=a, query="sunny"),
    "document": lambda s, a, w, e: reading.read_authorization_document(
        session=s, actor=a, document_id=e.document_id
    ),
    "signed report": lambda s, a, w, e: reading.read_signed_report(
        session=s, actor=a, report_id=e.signed_report_id
    ),
}
OBJECT_READS = [name for name in READS if name != "search"]


@pytest.mark.parametrize("name", list(READS))
def test_a_read_records_one_entry_in_the_callers_transaction(world, evidence, name):
    read = READS[name]
    action, obj, details = _expected(world, evidence)[name]
    before = audit_entries(world.app)
    with world.app.app_context(), _session(world.app) as session:
        lena = actor_for(session, "lena")
        read(session, lena, world, evidence)
        session.rollback()
        assert audit_entries(world.app) == before, "a rolled-back read left an entry"
        read(session, lena, world, evidence)
        session.commit()
    added = audit_entries(world.app)[len(before) :]
    assert [(e["action"], e["actor"], e["object"], e["details"]) for e in added] == [
        (action, code_for("lena"), obj, details)
    ]
    assert added[0]["operation"] == (None if name == "search" else world.operation_id)


@pytest.mark.parametrize("name", OBJECT_READS)
@pytest.mark.parametrize("username", ["nina", "adam"])
def test_an_object_the_caller_may_not_see_is_not_found_and_nothing_is_recorded(
    world, evidence, name, username
):
    before = audit_entries(world.app)
    with world.app.app_context(), _session(world.app) as session:
        with pytest.raises(NotFound):
            READS[name](session, actor_for(session, username), world, evidence)
        session.commit()
    assert audit_entries(world.app) == before


def test_an_admin_searching_is_not_found_and_nothing_is_recorded(world, evidence):
    before = audit_entries(world.app)
    with world.app.app_context(), _session(world.app) as session:
        with pytest.raises(NotFound):
            READS["search"](session, actor_for(session, "adam"), world, evidence)
        session.commit()
    assert audit_entries(world.app) == before


def test_an_object_that_does_not_exist_is_not_found_and_nothing_is_recorded(world, evidence):
    missing = Evidence(2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000)
    before = audit_entries(world.app)
    with world.app.app_context(), _session(world.app) as session:
        lena = actor_for(session, "lena")
        for name in OBJECT_READS:
            if name != "contacts":
                with pytest.raises(NotFound):
                    READS[name](session, lena, world, missing)
        with pytest.raises(NotFound):
            reading.read_contacts(session=session, actor=lena, profile_id=2_000_000)
        session.commit()
    assert audit_entries(world.app) == before


# Reads of the audit log itself are recorded where the log is served, not as reads of evidence.
NOT_EVIDENCE = {"audit.read"}
READ_ACTION = re.compile(r"(\.|_)(read|list|download|search)$")


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(Path(decoy.__file__).resolve().parent.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _names(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Attribute):
            yield node.attr
        elif isinstance(node, ast.alias):
            yield node.name
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name


def test_only_the_read_services_record_reads_of_evidence():
    """A new view cannot record (or skip recording) a read of its own: it has to call a read service."""
    recorder_users = []
    read_actions = []
    for path, tree in _modules():
        if path == READING:
            continue
        if any("record_read" in name for name in _names(tree)):
            recorder_users.append(str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.keyword) and node.arg == "action"):
                continue
            action = node.value.value if isinstance(node.value, ast.Constant) else None
            if isinstance(action, str) and READ_ACTION.search(action) and action not in NOT_EVIDENCE:
                read_actions.append(f"{path}:{node.value.lineno} {action}")
    assert recorder_users == []
    assert read_actions == []


def test_the_read_services_take_their_arguments_by_keyword_and_no_request_state():
    source = READING.read_text(encoding="utf-8")
    tree = ast.parse(source)
    services = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and (node.name.startswith("read_") or node.name in {"download_attachment", "search_evidence"})
    ]
    assert len(services) == len(READS)
    for node in services:
        assert not node.args.args and {a.arg for a in node.args.kwonlyargs} >= {"session", "actor"}, node.name
    used = set(_names(tree))
    assert not used & {"request", "g", "current_user", "get_session"}
