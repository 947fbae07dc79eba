"""What the retention schedule says is due for disposal: for every contact the reader may see, the rule its
category (and a suspect's outcome) falls under, the moment its period counts from, and when it is due.

The schedule lists; it does not decide: a disposal is a decision of two legal officers, and may be taken
before a contact is due. A contact under an active legal hold is listed with its hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from ..access import Actor, operation_clause
from ..models import (
    Contact,
    ContactCategoryChange,
    ContactOutcome,
    LegalHold,
    Operation,
    OperationClosure,
)
from ..orders.maxima import add_months
from .holds import active_holds
from .schedule import Rule, current_schedule, rule_for


@dataclass
class Line:
    """A contact, the rule it is kept under, and when its data is due for disposal (None: not by the
    schedule)."""

    contact: Contact
    operation: Operation
    category: str
    outcome: str | None
    rule: Rule
    start: datetime | None
    due_at: datetime | None
    holds: list[LegalHold] = field(default_factory=list)

    def is_due(self, now: datetime) -> bool:
        """Whether the period has run out."""
        return self.due_at is not None and self.due_at <= now


def _latest_by_contact(session: Session, model: type, contact_ids: list[int]) -> dict[int, object]:
    found: dict[int, object] = {}
    if contact_ids:
        query = select(model).where(col(model.contact_id).in_(contact_ids)).order_by(col(model.id))
        for row in session.exec(query).all():
            found[row.contact_id] = row
    return found


def retention_lines(session: Session, actor: Actor) -> list[Line]:
    """Every contact the reader may see with its rule and due time, the earliest due first (those never
    due by the schedule last)."""
    schedule = current_schedule()
    rows = session.exec(
        select(Contact, Operation)
        .join(Operation, col(Operation.id) == Contact.operation_id)
        .where(operation_clause(actor, Contact.operation_id))
        .order_by(col(Contact.id))
    ).all()
    ids = [int(contact.id) for contact, _operation in rows]  # type: ignore[arg-type]
    changes = _latest_by_contact(session, ContactCategoryChange, ids)
    outcomes = _latest_by_contact(session, ContactOutcome, ids)
    closed: dict[int, datetime | None] = {}
    for closure in session.exec(select(OperationClosure).order_by(col(OperationClosure.id))).all():
        closed[closure.operation_id] = closure.decided_at if closure.action == "close" else None
    lines = []
    for contact, operation in rows:
        change = changes.get(contact.id)  # type: ignore[arg-type]
        outcome = outcomes.get(contact.id)  # type: ignore[arg-type]
        category = change.category if change else "unknown"  # type: ignore[attr-defined]
        outcome_name = outcome.outcome if outcome and category == "suspect" else None  # type: ignore[attr-defined]
        rule = rule_for(category, outcome_name, schedule)
        start = {
            "categorised": change.changed_at if change else None,  # type: ignore[attr-defined]
            "operation_closed": closed.get(operation.id),  # type: ignore[arg-type]
            "outcome": outcome.decided_at if outcome_name else None,  # type: ignore[union-attr]
        }[rule.start]
        due_at = add_months(start, rule.months) if start is not None and rule.months is not None else None
        lines.append(Line(contact, operation, category, outcome_name, rule, start, due_at))
    for line in lines:
        if line.due_at is not None:
            line.holds = active_holds(session, line.operation.id, line.contact.id)  # type: ignore[arg-type]
    far = datetime.max.replace(tzinfo=None)
    return sorted(lines, key=lambda line: (line.due_at is None,
                                           line.due_at.replace(tzinfo=None) if line.due_at else far,
                                           line.contact.id))
