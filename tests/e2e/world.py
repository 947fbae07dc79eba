"""A small invented world for the browser tests, built quickly through the real services and factories.

Two operations: "Operation Lantern" (supervisors sam and sol, detective dana) with an active profile
and a conversation, and "Operation Harbour" (supervisor sol, detective nina) that dana may not see.
Legal officer lena reads both; admin adam reads neither. The scheduler's review pass has run, so
both operations have their reviews. All text is neutral and invented.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from decoy import clock
from decoy.db import session_scope
from decoy.evidence import services as evidence
from decoy.reviews.passes import review_pass
from tests.factories import actor_for, make_authorization, make_operation, make_profile

from .support import Site

PEOPLE = {
    "sam": ("supervisor",),
    "sol": ("supervisor",),
    "dana": ("detective",),
    "nina": ("detective",),
    "lena": ("legal",),
    "adam": ("admin",),
}


@dataclass
class World:
    """The ids of what was built."""

    operation_id: int
    authorization_id: int
    profile_id: int
    contact_id: int
    other_operation_id: int
    other_profile_id: int
    other_contact_id: int


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A valid grey PNG image, small enough to build here (a stand-in for a screenshot)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def contact_with_messages(app: Any, username: str, profile_id: int, counterpart: str) -> int:
    """A contact with an incoming message (with an image), a reply, a correction and a flagged message."""
    now = clock.now()
    with app.app_context(), session_scope(app) as session:
        actor = actor_for(session, username)
        contact = evidence.create_contact(session=session, actor=actor, profile_id=profile_id,
                                          counterpart=counterpart, first_seen_at=now - timedelta(hours=2))
        contact_id = int(contact.id)  # type: ignore[arg-type]
    steps: list[dict[str, Any]] = [
        {"direction": "in", "body": "hello, how are you", "files": [(io.BytesIO(tiny_png()), "chat.png")]},
        {"direction": "out", "body": "fine, thanks. and you?"},
        {"direction": "in", "body": "hello, how are you doing", "corrects_id": "first"},
        {"direction": "in", "body": "see you tomorrow", "sent_at": now - timedelta(days=400)},
    ]
    first = None
    for number, step in enumerate(steps):
        corrects = first if step.pop("corrects_id", None) else None
        sent_at = step.pop("sent_at", now - timedelta(minutes=90 - number * 10))
        with app.app_context(), session_scope(app) as session:
            message = evidence.log_message(
                session=session, actor=actor_for(session, username), contact_id=contact_id,
                sent_at=sent_at, corrects_id=corrects, **step,
            )
            first = first or int(message.id)  # type: ignore[arg-type]
    return contact_id


def build_world(site: Site) -> World:
    """Create the people, both operations, their authorizations, profiles and conversations."""
    for username, roles in PEOPLE.items():
        site.user(username, *roles)
    app = site.app
    operation_id = make_operation(app, "sam", name="Operation Lantern", members=("sol", "dana"))
    authorization_id = make_authorization(app, "lena", operation_id, officers=["dana", "sam"])
    profile_id = make_profile(app, operation_id, authorization_id, "sam", approver="sol", handle="sunny_day")
    contact_id = contact_with_messages(app, "dana", profile_id, "river_fox_88")

    other_id = make_operation(app, "sol", name="Operation Harbour", members=("nina",))
    other_authorization = make_authorization(app, "lena", other_id, officers=["nina"])
    other_profile = make_profile(app, other_id, other_authorization, "sol", approver="sam",
                                 handle="quiet_reader")
    other_contact = contact_with_messages(app, "nina", other_profile, "blue_kite_12")
    review_pass(app)  # the scheduler's pass: plans the reviews the authorizations and flags call for
    return World(operation_id, authorization_id, profile_id, contact_id,
                 other_id, other_profile, other_contact)
