"""Helpers of the tests of disclosure classes and the journal: decide a class and write notes through the
API, a message with a file, and changing a row behind the database's triggers."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import text

from decoy.db import session_scope
from tests.support import without_triggers

REASON = "the item concerns a third party"


def decide(world: Any, kind: str, item_id: int, cls: str, username: str = "lena", expect: int = 200,
           **extra: Any) -> Any:
    """Decide an item's class through the API (``kind`` as the path names it: contacts, messages, ...)."""
    body = {"class": cls, "reason": REASON, **extra}
    response = world.post(f"/{kind}/{item_id}/disclosure", username, json=body)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def note(world: Any, path: str, body: str = "hello, how are you", username: str = "dana",
         expect: int = 201) -> Any:
    """Write a journal note through the API (``path``: /contacts/<id> or /operations/<id>)."""
    response = world.post(f"{path}/journal", username, json={"body": body})
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def message_with_file(world: Any, contact_id: int) -> tuple[int, int]:
    """Record a message with one attachment; return the ids of both."""
    answer = world.post(
        f"/contacts/{contact_id}/messages",
        data={
            "direction": "in",
            "sent_at": "2026-03-02T10:05:00+01:00",
            "body": "see this",
            "attachments": [(io.BytesIO(b"plain words"), "words.txt")],
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.get_json()
    found = answer.get_json()
    return found["id"], found["attachments"][0]["id"]


def run_sql(app: Any, statement: str, **values: Any) -> None:
    """Run one SQL statement in its own transaction."""
    with app.app_context(), session_scope(app) as session:
        session.connection().execute(text(statement), values)


def tamper(app: Any, table: str, statement: str, **values: Any) -> None:
    """Change rows of ``table`` as someone with the database owner's rights could, past its triggers."""
    with app.app_context(), session_scope(app) as session:
        connection = session.connection()
        without_triggers(connection, table)
        connection.execute(text(statement), values)
