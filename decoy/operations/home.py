"""What the home page shows of operations: your operations, approvals waiting, the alarms of the record."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from .. import access, clock
from ..db import get_session
from ..models import Operation, Profile, ProfileStatus, VerificationRun
from . import records, services


def home_data(actor: Any) -> dict[str, Any]:
    """The caller's operations; for supervisors the colleagues' profiles awaiting approval; for legal
    officers the authorizations that need attention (expiring, lapsed, written order overdue)."""
    session = get_session()
    operations = services.visible_operations(session, actor) if access.sees_evidence(actor) else []
    if actor.has_role("legal"):
        # Legal officers read every operation; their home lists only those they are assigned to.
        operations = [o for o in operations if access.is_member(session, actor, o.id)]  # type: ignore[arg-type]
    awaiting: list[tuple[Profile, Operation]] = []
    if actor.has_role("supervisor"):
        member_of = select(Operation.id).where(access.operation_clause(actor, Operation.id))
        rows = session.exec(
            select(Profile, Operation)
            .join(Operation, col(Operation.id) == Profile.operation_id)
            .where(
                Profile.status == ProfileStatus.pending_approval.value,
                col(Profile.operation_id).in_(member_of),
                Profile.proposed_by != actor.id,
            )
            .order_by(col(Profile.proposed_at))
        ).all()
        awaiting = [(profile, operation) for profile, operation in rows]
    attention: list[records.RecordRow] = []
    if actor.has_role("legal"):
        rows_all = records.central_record(session, clock.now())
        attention = [
            r
            for r in rows_all
            if r.operation.status != "closed"
            and (r.status in ("expiring", "lapsed") or r.written_order_overdue)
        ]
    last_run = None
    if actor.has_role("legal"):
        newest = select(VerificationRun).order_by(col(VerificationRun.id).desc()).limit(1)
        last_run = session.exec(newest).first()
    return {"my_operations": operations, "awaiting_approval": awaiting, "record_attention": attention,
            "last_verification": last_run}
