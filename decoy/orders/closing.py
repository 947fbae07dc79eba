"""Closing an operation, its end report for the public prosecutor and the report's deliveries, and
reopening (SPEC "Closing an operation", rule 11).

Closing takes a reason and, in one transaction, retires every profile that is not retired yet, sets the
operation's status to closed, and makes the end report: a PDF kept in the evidence store by its SHA-256.
Evidence recorded afterwards carries ``operation_closed``. A closed operation is never reopened by a
status change: reopening is a legal officer's recorded decision, after which the operation is suspended
until a supervisor resumes it (its profiles stay retired).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlmodel import Session, col, select

from .. import access, audit_bridge, blobstore, clock
from ..disclosure import codes
from ..errors import Forbidden, InvalidInput, NotFound, RuleViolation
from ..evidence.fingerprint import text_sha256
from ..models import (
    ClosureAction,
    EndReport,
    EndReportDelivery,
    Operation,
    OperationClosure,
    OperationStatus,
    Profile,
    ProfileStatus,
    Role,
)
from ..operations.guards import clean
from ..reviews.enforcement import retire_by_decision
from .end_report import build_end_report
from .rows import closure_row_sha256, delivery_row_sha256, end_report_row_sha256

MAX_REASON = 20_000
#: After a reopening, the operation waits for a supervisor to resume it.
REOPENED_STATUS = OperationStatus.suspended.value


def may_close(session: Session, actor: Any, operation_id: int) -> bool:
    """Whether ``actor`` is a supervisor assigned to the operation or a legal officer."""
    supervisor = actor.has_role(Role.supervisor.value) and access.is_member(session, actor, operation_id)
    return bool((supervisor or actor.has_role(Role.legal.value)) and actor.id is not None)


def require_closer(session: Session, actor: Any, operation_id: int) -> Operation:
    """The operation, if ``actor`` may close it (may_close); NotFound when unseen, else Forbidden."""
    operation = access.visible_operation(session, actor, operation_id)
    if not may_close(session, actor, operation_id):
        raise Forbidden(_("only a supervisor of this operation or a legal officer may close it"))
    return operation


def _decide(session: Session, actor: Any, operation: Operation, action: str, reason: str) -> OperationClosure:
    closure = OperationClosure(
        operation_id=operation.id,  # type: ignore[arg-type]
        action=action,
        reason=reason,
        decided_by=actor.id,
        decided_at=clock.now(),
    )
    session.add(closure)
    session.flush()
    return closure


def close_operation(*, session: Session, actor: Any, operation_id: int, reason: str) -> EndReport:
    """Close the operation with ``reason``: retire its profiles, record the closing, make the end report."""
    operation = require_closer(session, actor, operation_id)
    reason = clean(reason, "reason", max_length=MAX_REASON, required=True)
    # Held until commit: a second closing at the same moment waits, then finds the operation closed.
    session.exec(select(Operation).where(Operation.id == operation_id).with_for_update()).one()
    session.refresh(operation)
    if operation.status == OperationStatus.closed.value:
        raise RuleViolation(_("the operation is closed already"))
    previous = operation.status
    closure = _decide(session, actor, operation, ClosureAction.close, reason)
    retired = []
    for profile in session.exec(
        select(Profile)
        .where(Profile.operation_id == operation_id, Profile.status != ProfileStatus.retired.value)
        .order_by(col(Profile.id))
    ).all():
        retire_by_decision(session, actor, profile.id, f"rule 11: the operation was closed: {reason}")  # type: ignore[arg-type]
        retired.append(profile.id)
    operation.status = OperationStatus.closed.value
    session.add(operation)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="operation.close",
        object_type="operation_closure",
        object_id=closure.id,
        operation_id=operation_id,
        evidence={"row_sha256": closure_row_sha256(closure.model_dump())},
        details={
            "from": previous,
            "to": operation.status,
            "reason_sha256": text_sha256(reason),
            "profiles_retired": retired,
        },
    )
    return _make_end_report(session, actor, operation, closure)


def _make_end_report(
    session: Session, actor: Any, operation: Operation, closure: OperationClosure
) -> EndReport:
    pdf = build_end_report(
        session,
        operation.id,  # type: ignore[arg-type]
        closed_at=closure.decided_at,
        closed_by=codes.officer_name(actor),
        reason=closure.reason,
    )
    stored = blobstore.store_stream(io.BytesIO(pdf), connection=session.connection())  # type: ignore[arg-type]
    report = EndReport(
        operation_id=operation.id,  # type: ignore[arg-type]
        closure_id=closure.id,  # type: ignore[arg-type]
        sha256=stored.sha256,
        size=stored.size,
        created_by=actor.id,
        created_at=closure.decided_at,
    )
    session.add(report)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="end_report.create",
        object_type="end_report",
        object_id=report.id,
        operation_id=operation.id,
        evidence={"row_sha256": end_report_row_sha256(report.model_dump()), "sha256": stored.sha256},
        details={"closure": closure.id, "size": stored.size, "media_type": "application/pdf"},
    )
    return report


def reopen_operation(*, session: Session, actor: Any, operation_id: int, reason: str) -> Operation:
    """Reopen a closed operation: a legal officer's recorded decision with its reason."""
    operation = access.visible_operation(session, actor, operation_id)
    if not actor.has_role(Role.legal.value) or actor.id is None:
        raise Forbidden(_("only a legal officer may reopen a closed operation"))
    reason = clean(reason, "reason", max_length=MAX_REASON, required=True)
    session.exec(select(Operation).where(Operation.id == operation_id).with_for_update()).one()
    session.refresh(operation)
    if operation.status != OperationStatus.closed.value:
        raise RuleViolation(_("the operation is not closed"))
    closure = _decide(session, actor, operation, ClosureAction.reopen, reason)
    operation.status = REOPENED_STATUS
    session.add(operation)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="operation.reopen",
        object_type="operation_closure",
        object_id=closure.id,
        operation_id=operation_id,
        evidence={"row_sha256": closure_row_sha256(closure.model_dump())},
        details={
            "from": OperationStatus.closed.value,
            "to": operation.status,
            "reason_sha256": text_sha256(reason),
        },
    )
    return operation


def end_report(session: Session, actor: Any, end_report_id: int) -> EndReport:
    """An end report the actor may see (NotFound otherwise)."""
    report = session.get(EndReport, end_report_id)
    if report is None:
        raise NotFound(_("no such end report"))
    try:
        access.visible_operation(session, actor, report.operation_id)
    except NotFound as hidden:
        raise NotFound(_("no such end report")) from hidden
    return report


def record_delivery(
    *, session: Session, actor: Any, end_report_id: int, recipient: str, delivered_at: datetime | None = None
) -> EndReportDelivery:
    """Record that the end report was delivered to ``recipient`` at ``delivered_at`` (default now); a
    supervisor of the operation or a legal officer may."""
    report = end_report(session, actor, end_report_id)
    require_closer(session, actor, report.operation_id)
    recipient = clean(recipient, "recipient", max_length=200, required=True, single_line=True)
    now = clock.now()
    if delivered_at is None:
        delivered_at = now
    if not isinstance(delivered_at, datetime) or delivered_at.utcoffset() is None:
        raise InvalidInput(_("delivered_at needs a date, a time and an offset"), field="delivered_at")
    if delivered_at > now:
        raise InvalidInput(_("delivered_at must not be in the future"), field="delivered_at")
    if delivered_at < report.created_at:
        raise InvalidInput(_("delivered_at must not be before the report was made"), field="delivered_at")
    delivery = EndReportDelivery(
        end_report_id=end_report_id,
        recipient=recipient,
        delivered_at=delivered_at,
        recorded_by=actor.id,
        recorded_at=now,
    )
    session.add(delivery)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="end_report.deliver",
        object_type="end_report_delivery",
        object_id=delivery.id,
        operation_id=report.operation_id,
        evidence={"row_sha256": delivery_row_sha256(delivery.model_dump())},
        details={
            "end_report": end_report_id,
            "sha256": report.sha256,
            "recipient": recipient,
            "delivered_at": delivered_at.isoformat(),
        },
    )
    return delivery


Delivered = tuple[EndReport, list[EndReportDelivery]]


def end_reports(session: Session, actor: Any, operation_id: int) -> list[Delivered]:
    """The operation's end reports (one per closing), newest first, each with its deliveries."""
    access.visible_operation(session, actor, operation_id)
    reports = session.exec(
        select(EndReport).where(EndReport.operation_id == operation_id).order_by(col(EndReport.id).desc())
    ).all()
    deliveries: dict[int, list[EndReportDelivery]] = {report.id: [] for report in reports}  # type: ignore[misc]
    if reports:
        for delivery in session.exec(
            select(EndReportDelivery)
            .where(col(EndReportDelivery.end_report_id).in_(list(deliveries)))
            .order_by(col(EndReportDelivery.id))
        ).all():
            deliveries[delivery.end_report_id].append(delivery)
    return [(report, deliveries[report.id]) for report in reports]  # type: ignore[index]


def closures(session: Session, operation_id: int) -> list[OperationClosure]:
    """Every closing and reopening of the operation, oldest first."""
    return list(
        session.exec(
            select(OperationClosure)
            .where(OperationClosure.operation_id == operation_id)
            .order_by(col(OperationClosure.id))
        ).all()
    )
