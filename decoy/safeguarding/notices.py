"""The escalation of a safeguarding case left without a protective action past its due time: once, to
every legal officer and the operation's supervisors, in the app and by e-mail (through
decoy.reviews.notifications and its outbox).

The notice's key is ``safeguarding_overdue:<case>``; the notification table's unique key and person make
every pass idempotent. A closed operation's cases are escalated too: a child's safety does not end with
the operation. Like every notice it carries no counterpart's words: the operation's name, the case's and
the contact's numbers, why it opened and when it was due.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists
from sqlmodel import Session, col, select

from .. import clock
from ..models import PROTECTIVE_ACTIONS, SafeguardingAction, SafeguardingCase, SafeguardingClosure
from ..reviews.notifications import notify, responsible
from .cases import OVERDUE, notice_params


def overdue_notices(session: Session, now: datetime | None = None) -> int:
    """Escalate every open case past its due time without a protective action; return how many notices
    were created."""
    now = now or clock.now()
    acted = exists().where(
        col(SafeguardingAction.case_id) == SafeguardingCase.id,
        col(SafeguardingAction.kind).in_(PROTECTIVE_ACTIONS),
    )
    closed = exists().where(col(SafeguardingClosure.case_id) == SafeguardingCase.id)
    cases = session.exec(
        select(SafeguardingCase)
        .where(col(SafeguardingCase.due_at) <= now, ~acted, ~closed)
        .order_by(col(SafeguardingCase.id))
    ).all()
    count = 0
    for case in cases:
        count += notify(
            session,
            key=f"{OVERDUE}:{case.id}",
            kind=OVERDUE,
            users=responsible(session, case.operation_id, every_legal_officer=True),
            params=notice_params(session, case),
            link=f"/contacts/{case.contact_id}#safeguarding",
            operation_id=case.operation_id,
        )
    return count
