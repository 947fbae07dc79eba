"""A contact's category: who the counterpart turned out to be (SPEC "Contact category").

A contact is ``unknown`` until an officer of its operation (a detective or supervisor assigned to it) or a
legal officer changes it, with a reason. Each change is an append-only row with its audit entry; the
latest is the contact's category, and the history is shown as it was recorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlmodel import Session, col, select

from audit.entry import canonical_json, format_time

from .. import access, audit_bridge, clock
from ..disclosure import codes
from ..errors import Forbidden, InvalidInput, RuleViolation
from ..models import CATEGORIES, DEFAULT_CATEGORY, Contact, ContactCategoryChange, Role
from ..operations.guards import clean, storable
from ..orders.rows import row_check
from ..safeguarding.cases import after_category_change
from .fingerprint import text_sha256
from .reading import visible_contact

MAX_REASON = 20_000
_change = ContactCategoryChange.__table__  # type: ignore[attr-defined]


def category_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of a change of category (its reason by the SHA-256 of the text)."""
    return hashlib.sha256(
        canonical_json(
            {
                "id": row["id"],
                "operation_id": row["operation_id"],
                "contact_id": row["contact_id"],
                "from_category": row["from_category"],
                "category": row["category"],
                "reason_sha256": text_sha256(row["reason"]),
                "changed_by": row["changed_by"],
                "changed_at": format_time(row["changed_at"]),
            }
        )
    ).hexdigest()


def may_categorise(session: Session, actor: Any, operation_id: int) -> bool:
    """The operation's detectives and supervisors, and legal officers."""
    if actor.has_role(Role.legal.value):
        return True
    return bool(
        actor.has_role(Role.detective.value, Role.supervisor.value)
        and access.is_member(session, actor, operation_id)
    )


def history(session: Session, contact_id: int) -> list[ContactCategoryChange]:
    """Every change of the contact's category, oldest first."""
    return list(
        session.exec(
            select(ContactCategoryChange)
            .where(ContactCategoryChange.contact_id == contact_id)
            .order_by(col(ContactCategoryChange.id))
        ).all()
    )


def current_category(session: Session, contact_id: int) -> str:
    """The contact's category now: its latest change's, or ``unknown``."""
    latest = session.exec(
        select(ContactCategoryChange.category)
        .where(ContactCategoryChange.contact_id == contact_id)
        .order_by(col(ContactCategoryChange.id).desc())
        .limit(1)
    ).first()
    return latest or DEFAULT_CATEGORY


def contacts_of_category(session: Session, category: str) -> list[int]:
    """The ids of the contacts whose category now is ``category`` (their latest change says so)."""
    newest = select(ContactCategoryChange.contact_id, ContactCategoryChange.category).order_by(
        col(ContactCategoryChange.contact_id), col(ContactCategoryChange.id)
    )
    latest: dict[int, str] = {}
    for contact_id, found in session.exec(newest).all():
        latest[contact_id] = found
    return sorted(contact_id for contact_id, found in latest.items() if found == category)


def change_category(
    *, session: Session, actor: Any, contact_id: int, category: str, reason: str
) -> ContactCategoryChange:
    """Change the contact's category, with a reason; recorded with its audit entry (the caller commits)."""
    contact = visible_contact(session, actor, contact_id)
    if not may_categorise(session, actor, contact.operation_id):
        raise Forbidden(_("only the operation's detectives and supervisors, and legal officers, change a "
                          "contact's category"))
    if category not in CATEGORIES:
        raise InvalidInput(
            _("category must be one of %(categories)s", categories=", ".join(CATEGORIES)), field="category"
        )
    reason = storable(clean(reason, "reason", max_length=MAX_REASON, required=True), "reason")
    # Held until commit (PostgreSQL): two changes of one contact at the same moment follow each other.
    locked = session.exec(select(Contact).where(Contact.id == contact_id).with_for_update()).one()
    previous = current_category(session, contact_id)
    if previous == category:
        raise RuleViolation(_("the contact's category is %(category)s already", category=category),
                            field="category")
    change = ContactCategoryChange(
        operation_id=contact.operation_id,
        contact_id=contact_id,
        from_category=previous,
        category=category,
        reason=reason,
        changed_by=actor.id,
        changed_at=clock.now(),
    )
    session.add(change)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="contact.categorise",
        object_type="contact_category_change",
        object_id=change.id,
        operation_id=contact.operation_id,
        evidence={"row_sha256": category_row_sha256(change.model_dump())},
        details={
            "contact": contact_id,
            "from": previous,
            "to": category,
            "reason_sha256": text_sha256(reason),
        },
    )
    # A real minor or a presumed victim opens a safeguarding case in the same transaction.
    after_category_change(session, actor, locked, change)
    return change


_check = row_check(_change, "contact category change", category_row_sha256, "changed_by")


def check_category_change(session: Session, entry: dict[str, Any]) -> str | None:
    """The change of category is the row its entry recorded, made by the entry's actor."""
    return _check(session, entry)[0]
