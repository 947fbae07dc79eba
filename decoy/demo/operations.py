"""The demo's operations: every kind of object in every state, with neutral invented text only."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Flask

from .. import clock
from ..auth.principal import Principal
from ..auth.services import find_user, user_roles
from ..db import session_scope

PLATFORM_OFFSET = timezone(timedelta(hours=1))
ORDER_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] "
    b"/Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)


def _png(width: int = 24, height: int = 16) -> bytes:
    """A small grey PNG standing in for a screenshot."""
    raw = b"".join(b"\x00" + bytes([0x99, 0xAA, 0xBB]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class _Demo:
    """Runs services as the demo's people, each step in its own transaction."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.now = clock.now()

    def act(self, username: str, work: Any) -> Any:
        with session_scope(self.app) as session:
            user = find_user(session, username)
            assert user is not None  # noqa: S101 - the demo accounts exist
            return work(session, Principal(user, user_roles(session, user)))

    def at(self, days: float) -> datetime:
        return self.now + timedelta(days=days)


def load_demo_operations(app: Flask) -> None:
    """Create the demo operations, authorizations, profiles, contacts, messages, reviews and checkpoints."""
    from ..evidence import services as evidence
    from ..integrity.checkpoints import make_checkpoint
    from ..jobs import job_reviews
    from ..operations import services as operations

    demo = _Demo(app)

    def operation(name: str, team: str, members: tuple[str, ...]) -> int:
        created = demo.act(
            "sam",
            lambda s, a: operations.create_operation(
                session=s, actor=a, name=name, team=team, description="Invented demo operation."
            ),
        )
        for member in members:
            demo.act(
                "sam",
                lambda s, a, m=member: operations.add_member(
                    session=s, actor=a, operation_id=created.id, username=m
                ),
            )
        return int(created.id)

    def authorization(operation_id: int, reference: str, start: float, end: float, **terms: Any) -> int:
        values: dict[str, Any] = {
            "kind": "court_ruling",
            "authority": "District Court (demo)",
            "issuer_name": "Judge A. Example",
            "legal_basis": "art. 126j Sv",
            "offence": "Invented offence for the demonstration",
            "suspect_description": "Unknown adult users of the platform (demo)",
            "justification": "Invented facts for the demonstration.",
            "method": "Decoy profile on a chat platform",
            "review_interval_days": 14,
            "platforms": ["chatapp", "photoshare"],
            "max_profiles": 3,
            "officers": ["dirk", "dana"],
            "persona_constraints": "Stated age as in the ruling (demo)",
            "conditions": "The decoy never starts a conversation.",
        }
        values.update(terms)
        made = demo.act(
            "lena",
            lambda s, a: operations.register_authorization(
                session=s,
                actor=a,
                operation_id=operation_id,
                reference=reference,
                valid_from=demo.at(start),
                valid_until=demo.at(end),
                **values,
            ),
        )
        demo.act(
            "lena",
            lambda s, a: operations.attach_order_document(
                session=s,
                actor=a,
                authorization_id=made.id,
                stream=io.BytesIO(ORDER_PDF + reference.encode()),
                filename=f"{reference}.pdf",
            ),
        )
        return int(made.id)

    def profile(
        operation_id: int,
        authorization_id: int,
        handle: str,
        platform: str = "chatapp",
        state: str = "active",
    ) -> int:
        made = demo.act(
            "sam",
            lambda s, a: operations.propose_profile(
                session=s,
                actor=a,
                operation_id=operation_id,
                authorization_id=authorization_id,
                platform=platform,
                handle=handle,
                persona="Invented persona for the demonstration.",
            ),
        )
        if state in {"active", "suspended", "retired"}:
            demo.act("sara", lambda s, a: operations.approve_profile(session=s, actor=a, profile_id=made.id))
        if state == "suspended":
            demo.act(
                "sam",
                lambda s, a: operations.suspend_profile(
                    session=s, actor=a, profile_id=made.id, reason="Paused while the team is on leave (demo)."
                ),
            )
        if state == "retired":
            demo.act(
                "sam",
                lambda s, a: operations.retire_profile(
                    session=s, actor=a, profile_id=made.id, reason="Persona no longer used (demo)."
                ),
            )
        return int(made.id)

    def contact(
        profile_id: int,
        counterpart: str,
        messages: list[tuple[str, str, str, float]],
        screenshot: bool = False,
    ) -> None:
        made = demo.act(
            "dirk",
            lambda s, a: evidence.create_contact(
                session=s,
                actor=a,
                profile_id=profile_id,
                counterpart=counterpart,
                first_seen_at=demo.at(messages[0][3]).astimezone(PLATFORM_OFFSET),
            ),
        )
        first_id = None
        for number, (officer, direction, body, days) in enumerate(messages):
            files = [(io.BytesIO(_png()), "screenshot.png")] if screenshot and number == 0 else []
            logged = demo.act(
                officer,
                lambda s, a, d=direction, b=body, t=days, f=files: evidence.log_message(
                    session=s,
                    actor=a,
                    contact_id=made.id,
                    direction=d,
                    sent_at=demo.at(t).astimezone(PLATFORM_OFFSET),
                    body=b,
                    files=f,
                ),
            )
            first_id = first_id or logged.id
        if screenshot and first_id:
            demo.act(
                "dirk",
                lambda s, a: evidence.log_message(
                    session=s,
                    actor=a,
                    contact_id=made.id,
                    direction="in",
                    sent_at=demo.at(messages[0][3]),
                    body="hello, how are you?",
                    corrects_id=first_id,
                ),
            )

    lantern = operation("Operation Lantern", "Vice team North", ("dirk", "dana", "sara"))
    lapsed = authorization(lantern, "RB-2026-0101", -90, -30)
    current = authorization(lantern, "RB-2026-0102", -31, 60, supersedes_id=lapsed)
    sunny = profile(lantern, current, "sunny_day")
    profile(lantern, current, "quiet_meadow", state="pending_approval")
    paused = profile(lantern, current, "river_stone", platform="photoshare", state="suspended")
    profile(lantern, current, "old_lighthouse", state="retired")
    contact(
        sunny,
        "blue_kite_77",
        [
            ("dirk", "in", "hello, how are you", -3),
            ("dirk", "out", "fine thanks, and you?", -2.99),
            ("dana", "in", "good, nice weather today", -2.9),
        ],
        screenshot=True,
    )
    contact(sunny, "green_owl_42", [("dirk", "out", "hi there", -1.5), ("dirk", "in", "hello", -1.4)])
    contact(paused, "red_fox_19", [("dana", "in", "are you there?", -0.5)])
    # A chat history captured late: its first messages predate every authorization of the operation.
    contact(
        sunny, "yellow_bee_5", [("dana", "in", "long time no see", -120), ("dana", "in", "hello again", -1)]
    )

    harbour = operation("Operation Harbour", "Vice team South", ("dana", "sara"))
    expiring = authorization(
        harbour,
        "OvJ-2026-0220",
        -20,
        10,
        kind="written_order",
        authority="Public Prosecution Service (demo)",
        officers=["dana"],
    )
    authorization(
        harbour,
        "OvJ-2026-0221",
        -2,
        28,
        kind="urgent_oral_order",
        written_order_days=1,
        authority="Public Prosecution Service (demo)",
        officers=["dana"],
    )
    harbour_profile = profile(harbour, expiring, "harbour_view")
    demo.act(
        "sam", lambda s, a: operations.add_member(session=s, actor=a, operation_id=harbour, username="dirk")
    )
    contact(
        harbour_profile,
        "grey_gull_8",
        [("dana", "in", "good morning", -1), ("dirk", "out", "good morning to you", -0.9)],
    )

    unapproved = profile(harbour, expiring, "harbour_lights", platform="videochat", state="pending_approval")
    contact(unapproved, "white_cloud_3", [("dana", "in", "hello, is this the right channel?", -0.2)])

    operation("Operation Meadow", "Vice team North", ("dirk",))
    for name, status in (("Operation Lantern", "active"), ("Operation Harbour", "active")):
        target = lantern if name == "Operation Lantern" else harbour
        demo.act(
            "sam",
            lambda s, a, t=target, st=status: operations.change_operation_status(
                session=s, actor=a, operation_id=t, status=st
            ),
        )

    job_reviews(app)
    _decide_first_review(app, demo, lantern)
    make_checkpoint(app)


def _decide_first_review(app: Flask, demo: _Demo, operation_id: int) -> None:
    from sqlmodel import col, select

    from ..models.reviews import Review
    from ..reviews.services import decide_review

    def decide(session: Any, actor: Any) -> None:
        review = session.exec(
            select(Review).where(Review.operation_id == operation_id).order_by(col(Review.due_at))
        ).first()
        if review is not None:
            decide_review(
                session=session,
                actor=actor,
                review_id=review.id,
                decision="continue",
                rationale="Checked the log and the limits: the operation stays inside the ruling (demo).",
            )

    demo.act("lena", decide)
