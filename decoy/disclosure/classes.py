"""Disclosure classes: what a disclosure may show of a contact, a message, an attachment or a journal note.

Every item has a class: ``case_file`` (the default of contacts, messages and attachments: disclosed),
``journal`` (internal, never in a disclosure bundle; the default of journal notes), ``withheld`` (listed
by hash and description, its content absent; with the legal ground, e.g. "art. 149b Sv", and the
reference of the decision that withholds it) or ``sensitive`` (never exported; listed by hash with the
viewing arrangement). A class changes only by a legal officer's recorded decision with a reason; the
decisions are append-only, and an item's latest decision is its class. Every decision has its audit
entry, with its row hash (decoy.disclosure.rows), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func
from sqlmodel import Session, col, select

from .. import access, audit_bridge, clock
from ..access import Actor
from ..errors import Forbidden, InvalidInput, RuleViolation
from ..evidence.fingerprint import columns
from ..models import MAX_ID, Attachment, Contact, Message
from ..models.disclosure import CLASSES, DEFAULT_CLASS, ITEM_KINDS, DisclosureDecision, JournalNote
from . import codes
from .rows import decision_row_sha256

MAX_REASON = 5_000
MAX_GROUND = 200
MAX_REFERENCE = 200
#: How many item ids one query of ``classes_of`` asks about (well inside both databases' limits).
IDS_PER_QUERY = 10_000

#: The table of each kind of item.
MODELS: dict[str, Any] = {
    "contact": Contact, "message": Message, "attachment": Attachment, "note": JournalNote,
}


def _kind(kind: object) -> str:
    if not isinstance(kind, str) or kind not in ITEM_KINDS:
        raise InvalidInput(_("kind must be one of %(kinds)s", kinds=", ".join(ITEM_KINDS)), field="kind")
    return kind


def visible_item(session: Session, actor: Actor, kind: str, item_id: int, *, lock: bool = False) -> Any:
    """The contact, message, attachment or note, or NotFound when it does not exist or ``actor`` may not
    see its operation; ``lock`` holds its row until the transaction ends (PostgreSQL)."""
    model = MODELS[_kind(kind)]
    found = None
    if 0 < item_id <= MAX_ID:
        query = select(model).where(model.id == item_id)
        found = session.exec(query.with_for_update() if lock else query).first()
    return access.require_visible(session, actor, found, kind)


def require_decider(session: Session, actor: Actor, kind: str, item_id: int, *, lock: bool = False) -> Any:
    """The item, when ``actor`` is a legal officer (NotFound when they may not see it, Forbidden for
    anyone else who may)."""
    item = visible_item(session, actor, kind, item_id, lock=lock)
    if not actor.has_role("legal"):
        raise Forbidden(_("only a legal officer decides the disclosure class of an item"))
    return item


def _optional(value: object, field: str, max_chars: int) -> str | None:
    """A short text (trimmed) or None when it is absent or empty."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(_("%(field)s must be a string", field=field), field=field)
    text = value.strip()
    if len(text) > max_chars:
        raise InvalidInput(
            _("%(field)s is longer than %(max)d characters", field=field, max=max_chars), field=field
        )
    if "\x00" in text:
        raise InvalidInput(_("%(field)s contains U+0000, which cannot be stored", field=field), field=field)
    return text or None


def _class(value: object) -> str:
    if not isinstance(value, str) or value not in CLASSES:
        raise InvalidInput(_("class must be one of %(classes)s", classes=", ".join(CLASSES)), field="class")
    return value


def _reason(value: object) -> str:
    text = _optional(value, "reason", MAX_REASON)
    if text is None:
        raise InvalidInput(_("reason: a decision of the class needs its reason"), field="reason")
    return text


def latest(session: Session, kind: str, item_id: int) -> DisclosureDecision | None:
    """The item's latest decision (its class now), or None while it has its default class."""
    return session.exec(
        select(DisclosureDecision)
        .where(DisclosureDecision.item_kind == kind, DisclosureDecision.item_id == item_id)
        .order_by(col(DisclosureDecision.id).desc())
        .limit(1)
    ).first()


def decide(
    session: Session,
    *,
    actor: codes.Acting,
    kind: str,
    item_id: int,
    disclosure_class: str,
    reason: str,
    ground: str | None = None,
    decision_reference: str | None = None,
) -> DisclosureDecision:
    """Record a legal officer's decision of the class of an item, with its audit entry; the caller commits.

    ``kind`` is ``contact``, ``message``, ``attachment`` or ``note``. NotFound when the actor may not see
    the item, Forbidden when they are not a legal officer, InvalidInput naming the field (``withheld``
    needs ``ground`` and ``decision_reference``), RuleViolation when the decision would change nothing
    (the same class, ground and reference as the item's current decision).
    """
    item = require_decider(session, actor, kind, item_id, lock=True)
    name = codes.officer_name(actor)
    chosen = _class(disclosure_class)
    basis = _optional(ground, "ground", MAX_GROUND)
    reference = _optional(decision_reference, "decision_reference", MAX_REFERENCE)
    if chosen == "withheld":
        if basis is None:
            raise InvalidInput(
                _("ground: withholding needs its legal ground, e.g. art. 149b Sv"), field="ground"
            )
        if reference is None:
            raise InvalidInput(
                _("decision_reference: withholding needs the reference of the decision"),
                field="decision_reference",
            )
    text = _reason(reason)
    current = latest(session, kind, item_id)
    now: tuple[str, str | None, str | None] = (DEFAULT_CLASS[kind], None, None)
    if current is not None:
        now = (current.disclosure_class, current.ground, current.decision_reference)
    if now == (chosen, basis, reference):
        raise RuleViolation(_("already %(class_)s", class_=chosen), field="class")
    row = DisclosureDecision(
        operation_id=item.operation_id,
        item_kind=kind,
        item_id=item_id,
        disclosure_class=chosen,
        ground=basis,
        decision_reference=reference,
        reason=text,
        decided_by=actor.id,
        decided_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit_bridge.record(
        session,
        actor=name,
        action="disclosure.decide",
        object_type="disclosure_decision",
        object_id=row.id,
        operation_id=row.operation_id,
        evidence={"row_sha256": decision_row_sha256(columns(row))},
        details={
            "item": {"kind": kind, "id": item_id},
            "class": chosen,
            "previous": now[0],
            "ground": basis,
            "decision_reference": reference,
        },
    )
    return row


def class_of(session: Session, kind: str, item_id: int) -> str:
    """The item's class now: its latest decision's, or its kind's default."""
    found = latest(session, _kind(kind), item_id)
    return DEFAULT_CLASS[kind] if found is None else found.disclosure_class


def classes_of(session: Session, kind: str, item_ids: Sequence[int]) -> dict[int, DisclosureDecision]:
    """The latest decision of each of the items that has one, by item id (one query, by the index
    ``ix_disclosure_decision_item``; one per ten thousand ids beyond that). Items without a decision
    have their kind's default class (``DEFAULT_CLASS``)."""
    _kind(kind)
    wanted = sorted({int(item_id) for item_id in item_ids})
    found: dict[int, DisclosureDecision] = {}
    for start in range(0, len(wanted), IDS_PER_QUERY):
        chunk = wanted[start : start + IDS_PER_QUERY]
        newest = (
            select(func.max(DisclosureDecision.id))
            .where(DisclosureDecision.item_kind == kind, col(DisclosureDecision.item_id).in_(chunk))
            .group_by(col(DisclosureDecision.item_id))
        )
        for row in session.exec(select(DisclosureDecision).where(col(DisclosureDecision.id).in_(newest))):
            found[row.item_id] = row
    return found


def decisions_of_operation(session: Session, operation_id: int) -> list[DisclosureDecision]:
    """The latest decision of every item of the operation that has one, by kind and item id."""
    newest = (
        select(func.max(DisclosureDecision.id))
        .where(DisclosureDecision.operation_id == operation_id)
        .group_by(col(DisclosureDecision.item_kind), col(DisclosureDecision.item_id))
    )
    return list(
        session.exec(
            select(DisclosureDecision)
            .where(col(DisclosureDecision.id).in_(newest))
            .order_by(col(DisclosureDecision.item_kind), col(DisclosureDecision.item_id))
        ).all()
    )


def history_of(session: Session, kind: str, item_id: int) -> list[DisclosureDecision]:
    """Every decision of the item, oldest first (the last is its class now)."""
    return list(
        session.exec(
            select(DisclosureDecision)
            .where(DisclosureDecision.item_kind == _kind(kind), DisclosureDecision.item_id == item_id)
            .order_by(col(DisclosureDecision.id))
        ).all()
    )


@dataclass(frozen=True)
class Disclosure:
    """An item's class now and every decision of it, oldest first."""

    kind: str
    item_id: int
    disclosure_class: str
    history: list[DisclosureDecision]

    @property
    def current(self) -> DisclosureDecision | None:
        """The decision that gave the item its class (None: its kind's default)."""
        return self.history[-1] if self.history else None


def read_disclosure(session: Session, actor: Actor, kind: str, item_id: int) -> Disclosure:
    """The class and the decisions of an item ``actor`` may see (NotFound otherwise)."""
    visible_item(session, actor, kind, item_id)
    history = history_of(session, kind, item_id)
    current = history[-1].disclosure_class if history else DEFAULT_CLASS[kind]
    return Disclosure(kind, item_id, current, history)


def sensitive_sha256s(session: Session, sha256s: Sequence[str] | None = None) -> set[str]:
    """The SHA-256 of every file that some attachment marked ``sensitive`` holds (of those ``sha256s``
    when given): the same bytes are sensitive wherever else they were captured."""
    newest = (
        select(func.max(DisclosureDecision.id))
        .where(DisclosureDecision.item_kind == "attachment")
        .group_by(col(DisclosureDecision.item_id))
    )
    query = (
        select(Attachment.sha256)
        .join(DisclosureDecision, col(DisclosureDecision.item_id) == Attachment.id)
        .where(
            DisclosureDecision.item_kind == "attachment",
            col(DisclosureDecision.id).in_(newest),
            DisclosureDecision.disclosure_class == "sensitive",
        )
    )
    if sha256s is not None:
        query = query.where(col(Attachment.sha256).in_(sorted(set(sha256s))))
    return set(session.exec(query).all())


def is_sensitive_attachment(session: Session, attachment: Attachment) -> bool:
    """Whether the attachment is sensitive material: marked so itself, its message or its contact marked
    so, or its file the same as that of an attachment marked so."""
    if class_of(session, "attachment", attachment.id) == "sensitive":  # type: ignore[arg-type]
        return True
    message = session.get(Message, attachment.message_id)
    if message is not None and (
        class_of(session, "message", attachment.message_id) == "sensitive"
        or class_of(session, "contact", message.contact_id) == "sensitive"
    ):
        return True
    return bool(sensitive_sha256s(session, [attachment.sha256]))


def sensitive_attachment_ids(session: Session, attachments: Sequence[Attachment]) -> set[int]:
    """Of ``attachments`` (of one contact's page), the ids of those that are sensitive material, by the
    rule of ``is_sensitive_attachment``, in a few queries whatever their number."""
    if not attachments:
        return set()
    own = classes_of(session, "attachment", [a.id for a in attachments])  # type: ignore[misc]
    messages = classes_of(session, "message", [a.message_id for a in attachments])
    message_ids = sorted({a.message_id for a in attachments})
    contacts = {
        message_id: contact_id
        for message_id, contact_id in session.exec(
            select(Message.id, Message.contact_id).where(col(Message.id).in_(message_ids))
        ).all()
    }
    contact_classes = classes_of(session, "contact", list(set(contacts.values())))
    files = sensitive_sha256s(session, [a.sha256 for a in attachments])

    def marked(found: DisclosureDecision | None) -> bool:
        return found is not None and found.disclosure_class == "sensitive"

    return {
        a.id  # type: ignore[misc]
        for a in attachments
        if marked(own.get(a.id))  # type: ignore[arg-type]
        or marked(messages.get(a.message_id))
        or marked(contact_classes.get(contacts.get(a.message_id, 0)))
        or a.sha256 in files
    }
