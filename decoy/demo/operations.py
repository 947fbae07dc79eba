"""The demo's operations, loaded from operations.json through the services, as the demo's people."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlmodel import col, select

from .. import clock
from ..auth.principal import Principal
from ..auth.services import find_user, user_roles
from ..db import session_scope
from ..disclosure import classes as disclosure
from ..evidence import categories
from ..evidence import services as evidence
from ..imports import services as imports
from ..initiative import annotations as initiative
from ..integrity.checkpoints import make_checkpoint
from ..jobs import job_reviews
from ..models import Attachment, Contact
from ..models.reviews import Review
from ..operations import services as operations
from ..orders import closing, leads, withdrawals
from ..retention import disposal, holds
from ..reviews.services import decide_review
from ..safeguarding import cases as safeguarding

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
        #: Orders to withdraw once everything else of their operation is in place: (id, terms).
        self.withdrawals: list[tuple[int, dict[str, Any]]] = []

    def act(self, username: str, work: Any) -> Any:
        with session_scope(self.app) as session:
            user = find_user(session, username)
            assert user is not None  # noqa: S101 - the demo accounts exist
            return work(session, Principal(user, user_roles(session, user)))

    def at(self, days: float) -> datetime:
        return self.now + timedelta(days=days)


def load_demo_operations(app: Flask) -> None:
    """Create the demo operations, authorizations, profiles, contacts, messages, reviews and checkpoints."""

    data = json.loads(resources.files(__package__).joinpath("operations.json").read_text("utf-8"))
    demo = _Demo(app)
    made = [_load_operation(demo, data["authorization_defaults"], spec) for spec in data["operations"]]
    for spec, operation_id in zip(data["operations"], made, strict=True):
        if "status" in spec:
            demo.act("sam", lambda s, a, o=operation_id, st=spec["status"]: (
                operations.change_operation_status(session=s, actor=a, operation_id=o, status=st)))
    for authorization_id, withdrawn in demo.withdrawals:
        demo.act("lena", lambda s, a, i=authorization_id, w=withdrawn: withdrawals.withdraw_authorization(
            session=s, actor=a, authorization_id=i, reason=w["reason"], effective_at=demo.at(w["days"])))
    for spec, operation_id in zip(data["operations"], made, strict=True):
        _leads_and_closing(demo, operation_id, spec)
    job_reviews(app)
    for spec, operation_id in zip(data["operations"], made, strict=True):
        if spec.get("decide_first_review"):
            _decide_first_review(demo, operation_id)
    make_checkpoint(app)


def _leads_and_closing(demo: _Demo, operation_id: int, spec: dict[str, Any]) -> None:
    """The leads an operation passed on (with the SHA-256 of what was sent), then its closing."""
    for lead in spec.get("leads", []):
        sent = hashlib.sha256(lead["description"].encode()).hexdigest()
        demo.act("dana", lambda s, a, t=lead, h=sent: leads.record_lead(
            session=s, actor=a, operation_id=operation_id, recipient=t["recipient"],
            legal_basis=t["legal_basis"], tlp=t["tlp"], sha256=h, description=t["description"],
            passed_at=demo.at(t["days"])))
    if spec.get("legal_hold"):
        demo.act("lena", lambda s, a: holds.set_hold(
            session=s, actor=a, operation_id=operation_id, reason=spec["legal_hold"]))
    if spec.get("close"):
        demo.act("sam", lambda s, a: closing.close_operation(
            session=s, actor=a, operation_id=operation_id, reason=spec["close"]))
    if spec.get("after_closing"):
        # A message that arrived after the closing: recorded all the same, and flagged operation_closed.
        officer, direction, body, days = spec["after_closing"]
        contact_id = demo.act(officer, lambda s, a: s.exec(
            select(Contact.id).where(Contact.operation_id == operation_id).order_by(col(Contact.id))
        ).first())
        demo.act(officer, lambda s, a: evidence.log_message(
            session=s, actor=a, contact_id=contact_id, direction=direction,
            sent_at=demo.at(days).astimezone(PLATFORM_OFFSET), body=body))


def _load_operation(demo: _Demo, defaults: dict[str, Any], spec: dict[str, Any]) -> int:
    """One operation with its members, authorizations, profiles and contacts; returns its id."""
    created = demo.act("sam", lambda s, a: operations.create_operation(
        session=s, actor=a, name=spec["name"], team=spec["team"], description="Invented demo operation."))
    operation_id = int(created.id)
    for member in spec.get("members", []):
        _add_member(demo, operation_id, member)
    authorizations: dict[str, int] = {}
    for term in spec.get("authorizations", []):
        terms = {**defaults, **term}
        authorizations[term["reference"]] = _authorization(demo, operation_id, terms, authorizations)
    profiles = {
        profile["handle"]: _profile(demo, operation_id, authorizations[profile["authorization"]], profile)
        for profile in spec.get("profiles", [])
    }
    for member in spec.get("later_members", []):
        _add_member(demo, operation_id, member)
    for contact in spec.get("contacts", []):
        _contact(demo, profiles[contact["profile"]], contact)
    return operation_id


def _add_member(demo: _Demo, operation_id: int, username: str) -> None:
    demo.act("sam", lambda s, a: operations.add_member(
        session=s, actor=a, operation_id=operation_id, username=username))


def _authorization(demo: _Demo, operation_id: int, terms: dict[str, Any], known: dict[str, int]) -> int:
    """Register an order (as the legal officer) and attach its scanned document."""
    terms = dict(terms)
    reference = terms.pop("reference")
    start, end = terms.pop("from"), terms.pop("until")
    if "supersedes" in terms:
        terms["supersedes_id"] = known[terms.pop("supersedes")]
    if "oral_given" in terms:
        terms["oral_order_given_at"] = demo.at(terms.pop("oral_given"))
    withdrawn = terms.pop("withdrawn", None)
    made = demo.act("lena", lambda s, a: operations.register_authorization(
        session=s, actor=a, operation_id=operation_id, reference=reference,
        valid_from=demo.at(start), valid_until=demo.at(end), **terms))
    demo.act("lena", lambda s, a: operations.attach_order_document(
        session=s, actor=a, authorization_id=made.id,
        stream=io.BytesIO(ORDER_PDF + reference.encode()), filename=f"{reference}.pdf"))
    if withdrawn is not None:
        # Recorded once the contacts exist (their messages predate the withdrawal).
        demo.withdrawals.append((int(made.id), withdrawn))
    return int(made.id)


def _profile(demo: _Demo, operation_id: int, authorization_id: int, spec: dict[str, Any]) -> int:
    """Propose a profile and take it to its state: approved by a colleague, then suspended or retired."""
    state = spec.get("state", "active")
    made = demo.act("sam", lambda s, a: operations.propose_profile(
        session=s, actor=a, operation_id=operation_id, authorization_id=authorization_id,
        platform=spec.get("platform", "chatapp"), handle=spec["handle"],
        persona="Invented persona for the demonstration.", persona_age=spec.get("persona_age")))
    if state in {"active", "suspended", "retired"}:
        demo.act("sara", lambda s, a: operations.approve_profile(session=s, actor=a, profile_id=made.id))
    if state == "suspended":
        demo.act("sam", lambda s, a: operations.suspend_profile(
            session=s, actor=a, profile_id=made.id, reason="Paused while the team is on leave (demo)."))
    if state == "retired":
        demo.act("sam", lambda s, a: operations.retire_profile(
            session=s, actor=a, profile_id=made.id, reason="Persona no longer used (demo)."))
    return int(made.id)


def _contact(demo: _Demo, profile_id: int, spec: dict[str, Any]) -> None:
    """A contact and its messages; with ``screenshot``, the first carries one and is corrected later."""
    messages = spec["messages"]
    made = demo.act("dirk", lambda s, a: evidence.create_contact(
        session=s, actor=a, profile_id=profile_id, counterpart=spec["counterpart"],
        first_seen_at=demo.at(messages[0][3]).astimezone(PLATFORM_OFFSET)))
    screenshot = bool(spec.get("screenshot"))
    first_id = None
    logged_ids = []
    for number, (officer, direction, body, days) in enumerate(messages):
        files = [(io.BytesIO(_png()), "screenshot.png")] if screenshot and number == 0 else []
        logged = demo.act(officer, lambda s, a, d=direction, b=body, t=days, f=files: evidence.log_message(
            session=s, actor=a, contact_id=made.id, direction=d,
            sent_at=demo.at(t).astimezone(PLATFORM_OFFSET), body=b, files=f))
        first_id = first_id or logged.id
        logged_ids.append(logged.id)
    for officer, index, topic, age, *remark in spec.get("annotations", ()):
        demo.act(officer, lambda s, a, m=logged_ids[index], t=topic, y=age, r=remark: initiative.annotate(
            session=s, actor=a, message_id=m, topic=t, age=y, remark=r[0] if r else ""))
    if screenshot and first_id:
        demo.act("dirk", lambda s, a: evidence.log_message(
            session=s, actor=a, contact_id=made.id, direction="in", sent_at=demo.at(messages[0][3]),
            body="hello, how are you?", corrects_id=first_id))
    if "export" in spec:
        _import_export(demo, int(made.id), spec["export"])
    if "safeguarding" in spec:
        _safeguarding(demo, int(made.id), first_id, spec["safeguarding"])
    if "retention" in spec:
        _retention(demo, int(made.id), spec["retention"])


def _retention(demo: _Demo, contact_id: int, spec: dict[str, Any]) -> None:
    """The contact's category, then the legal officer's request to dispose of its content (awaiting the
    second legal officer's approval)."""
    officer, category, reason = spec["category"]
    demo.act(officer, lambda s, a: categories.change_category(
        session=s, actor=a, contact_id=contact_id, category=category, reason=reason))
    reference, why = spec["disposal"]
    demo.act("lena", lambda s, a: disposal.request_disposal(
        session=s, actor=a, contact_id=contact_id, reason=why, decision_reference=reference))


def _safeguarding(demo: _Demo, contact_id: int, first_id: int | None, spec: dict[str, Any]) -> None:
    """The contact's category that opens a safeguarding case, the case's actions, and the first message's
    screenshot marked sensitive by the legal officer."""
    officer, category, reason = spec["category"]
    demo.act(officer, lambda s, a: categories.change_category(
        session=s, actor=a, contact_id=contact_id, category=category, reason=reason))
    case = demo.act(officer, lambda s, a: safeguarding.open_case_of(s, contact_id))
    for officer, kind, reference, note in spec.get("actions", ()):
        demo.act(officer, lambda s, a, k=kind, r=reference, n=note: safeguarding.record_action(
            session=s, actor=a, case_id=case.id, kind=k, reference=r, note=n))
    if spec.get("sensitive_screenshot") and first_id:
        attachment = demo.act("lena", lambda s, a: s.exec(
            select(Attachment.id).where(Attachment.message_id == first_id)).first())
        demo.act("lena", lambda s, a: disclosure.decide(
            s, actor=a, kind="attachment", item_id=attachment, disclosure_class="sensitive",
            reason="An image that may show a minor: kept by hash only."))


def _import_export(demo: _Demo, contact_id: int, spec: dict[str, Any]) -> None:
    """The platform's own export of the chat (a WhatsApp text in the Dutch Android layout), imported."""
    zone = ZoneInfo(demo.app.config["TIMEZONE"])
    names = {"out": spec["decoy_name"], "in": spec["counterpart_name"]}
    lines = [
        f"{demo.at(days).astimezone(zone):%d-%m-%Y %H:%M} - {names[direction]}: {text}\n"
        for direction, text, days in spec["messages"]
    ]
    request = imports.ImportRequest(
        contact_id=contact_id, format="whatsapp", decoy_name=spec["decoy_name"], filename="WhatsApp-chat.txt"
    )
    demo.act("dirk", lambda s, a: imports.import_export(s, a, request, io.BytesIO("".join(lines).encode())))


def _decide_first_review(demo: _Demo, operation_id: int) -> None:
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
