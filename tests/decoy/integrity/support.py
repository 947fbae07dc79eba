"""The integrity tests' world: evidence and every kind of legal record."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import Connection, text

from decoy.db import session_scope
from decoy.operations.authorizations import attach_order_document
from decoy.reviews.passes import review_pass
from tests.decoy.evidence.support import World
from tests.factories import actor_for

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 100
def user_id(connection: Connection, username: str) -> int:
    """The id of an account."""
    query = text("SELECT id FROM user_account WHERE username = :name")
    return int(connection.execute(query, {"name": username}).scalar_one())


def record_everything(world: World) -> dict[str, Any]:
    """A contact with two messages (one with a file), an order document and a decided review."""
    contact_id = world.contact()
    answer = world.post(
        f"/contacts/{contact_id}/messages",
        data={
            "direction": "in",
            "sent_at": "2026-03-02T10:00:00+01:00",
            "body": "hello, how are you",
            "attachments": [(io.BytesIO(PNG), "screen.png")],
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.get_json()
    message_id = answer.get_json()["id"]
    world.message(contact_id, body="a later message", sent_at="2026-03-02T10:05:00+01:00")
    export = b"02-03-2026 10:00 - Alex: hello, how are you\n02-03-2026 10:01 - Sam Decoy: fine thanks\n"
    imported = world.post(
        f"/contacts/{contact_id}/imports",
        data={"format": "whatsapp", "decoy_name": "Sam Decoy", "file": (io.BytesIO(export), "chat.txt")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 201, imported.get_json()
    session_started = world.post(f"/profiles/{world.profile_id}/capture-sessions",
                                 json={"device": "laptop VICE-07", "tool": "manual"})
    assert session_started.status_code == 201, session_started.get_json()
    ended = world.post(f"/capture-sessions/{session_started.get_json()['id']}/end",
                       json={"completeness_statement": "Every message of the session is recorded."})
    assert ended.status_code == 200, ended.get_json()
    with world.app.app_context(), session_scope(world.app) as session:
        document = attach_order_document(
            session=session,
            actor=actor_for(session, "lena"),
            authorization_id=world.authorization_id,
            stream=io.BytesIO(b"%PDF-1.4 an order"),
            filename="order.pdf",
        )
        document_id = document.id
    review_pass(world.app)
    reviews = world.get(f"/operations/{world.operation_id}/reviews", "lena").get_json()["items"]
    assert len(reviews) >= 2, reviews
    decided = world.post(
        f"/reviews/{reviews[0]['id']}/decision",
        "lena",
        json={"decision": "continue", "rationale": "within the order, checked the log"},
    )
    assert decided.status_code == 200, decided.get_json()
    return {
        "import": imported.get_json()["id"],
        "capture_session": session_started.get_json()["id"],
        "contact": contact_id,
        "message": message_id,
        "document": document_id,
        "review": reviews[0]["id"],
        "undecided_review": reviews[1]["id"],
    }
