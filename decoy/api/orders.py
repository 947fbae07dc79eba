"""API endpoints of an order's withdrawal, an operation's closing and reopening, its end reports and their
deliveries, and the table of legal maxima."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user
from pydantic import Field
from werkzeug.wrappers import Response

from ..db import get_session
from ..models import EndReport, EndReportDelivery, OperationStatus
from ..models.schemas import Input, Output, Sha256, Timestamp, UtcMoment, one_of, text
from ..operations import records
from ..operations.schemas import WithdrawalCreate, WithdrawalPublic
from ..orders import closing, maxima, withdrawals
from ..orders.closing import MAX_REASON
from ..orders.views import end_report_response
from . import bp
from .inputs import read_json
from .openapi import BINARY, Content, route

CHANGE_ERRORS = (400, 403, 404, 409)
PDF = Content(("application/pdf",), BINARY)


class ClosingReason(Input):
    """Why the operation is closed or reopened (recorded)."""

    reason: text(MAX_REASON, required=True)


class DeliveryPublic(Output):
    """That an end report was delivered: to whom, when, and who recorded it (username)."""

    id: int
    end_report_id: int
    recipient: str
    delivered_at: UtcMoment
    recorded_by: str | None
    recorded_at: UtcMoment


class EndReportPublic(Output):
    """An end report: its file's SHA-256 and size, when it was made, and its deliveries."""

    id: int
    operation_id: int
    sha256: Sha256
    size: int
    created_at: UtcMoment
    deliveries: list[DeliveryPublic]


class ClosedOperation(Output):
    """The operation after its closing, with the end report made."""

    id: int
    status: one_of(OperationStatus)
    end_report: EndReportPublic


class ReopenedOperation(Output):
    """The operation after a reopening: suspended until a supervisor resumes it."""

    id: int
    status: one_of(OperationStatus)


class EndReportList(Output):
    """An operation's end reports, newest first."""

    items: list[EndReportPublic]


class DeliveryCreate(Input):
    """To whom the end report was delivered, and when (default now)."""

    recipient: text(200, required=True) = Field(description="e.g. the public prosecutor's office")
    delivered_at: Timestamp | None = Field(default=None, description="RFC 3339 with offset; default now")


class MaximumPublic(Output):
    """The rules of one legal basis in the table of legal maxima."""

    basis: str
    title: str
    max_months: int | None
    extension_months: int | None
    written_order_days: int
    advice_required: bool
    consent_required: bool
    source: str


class MaximaTable(Output):
    """The table of legal maxima in force (the data directory's entries in place of the shipped ones)."""

    items: list[MaximumPublic]


def _delivery(delivery: EndReportDelivery, names: dict[int, str]) -> DeliveryPublic:
    return DeliveryPublic(
        id=delivery.id,
        end_report_id=delivery.end_report_id,
        recipient=delivery.recipient,
        delivered_at=delivery.delivered_at,
        recorded_by=names.get(delivery.recorded_by),
        recorded_at=delivery.recorded_at,
    )


def _report(report: EndReport, deliveries: list[EndReportDelivery], names: dict[int, str]) -> EndReportPublic:
    return EndReportPublic(
        id=report.id,
        operation_id=report.operation_id,
        sha256=report.sha256,
        size=report.size,
        created_at=report.created_at,
        deliveries=[_delivery(delivery, names) for delivery in deliveries],
    )


@route(bp, "/authorizations/<int:authorization_id>/withdraw", "POST", body=WithdrawalCreate,
       answer=WithdrawalPublic, errors=CHANGE_ERRORS)
def withdraw_authorization(authorization_id: int) -> Response:
    """Withdraw an order from a moment (default now), with a reason (legal officers); the profiles under
    it are suspended once the withdrawal takes effect."""
    session = get_session()
    data = read_json(WithdrawalCreate)
    withdrawal = withdrawals.withdraw_authorization(
        session=session, actor=current_user, authorization_id=authorization_id, reason=data.reason,
        effective_at=data.effective_at,
    )
    session.commit()
    return jsonify(records.withdrawal_json(session, withdrawal))


@route(bp, "/operations/<int:operation_id>/close", "POST", body=ClosingReason, answer=ClosedOperation,
       errors=CHANGE_ERRORS)
def close_operation(operation_id: int) -> Response:
    """Close the operation with a reason (a supervisor of it or a legal officer): every profile is retired
    and the end report for the public prosecutor is made, in one transaction."""
    session = get_session()
    data = read_json(ClosingReason)
    report = closing.close_operation(
        session=session, actor=current_user, operation_id=operation_id, reason=data.reason
    )
    session.commit()
    closed = OperationStatus.closed.value
    body = ClosedOperation(id=operation_id, status=closed, end_report=_report(report, [], {}))
    return jsonify(body.model_dump(mode="json"))


@route(bp, "/operations/<int:operation_id>/reopen", "POST", body=ClosingReason, answer=ReopenedOperation,
       errors=CHANGE_ERRORS)
def reopen_operation(operation_id: int) -> Response:
    """Reopen a closed operation: a legal officer's recorded decision with its reason."""
    session = get_session()
    data = read_json(ClosingReason)
    operation = closing.reopen_operation(
        session=session, actor=current_user, operation_id=operation_id, reason=data.reason
    )
    session.commit()
    return jsonify(ReopenedOperation(id=operation_id, status=operation.status).model_dump(mode="json"))


@route(bp, "/operations/<int:operation_id>/end-reports", answer=EndReportList, errors=(404,))
def list_end_reports(operation_id: int) -> Response:
    """The operation's end reports, newest first, with their deliveries."""
    session = get_session()
    found = closing.end_reports(session, current_user, operation_id)
    names = records.usernames(session, {d.recorded_by for _report, ds in found for d in ds})
    items = [_report(report, deliveries, names) for report, deliveries in found]
    return jsonify(EndReportList(items=items).model_dump(mode="json"))


@route(bp, "/end-reports/<int:end_report_id>.pdf", answer=PDF, errors=(404,))
def download_end_report(end_report_id: int) -> Response:
    """The end report as it was made (PDF); ``X-Content-SHA256`` carries its recorded hash."""
    return end_report_response(closing.end_report(get_session(), current_user, end_report_id))


@route(bp, "/end-reports/<int:end_report_id>/deliveries", "POST", body=DeliveryCreate,
       answer=DeliveryPublic, status=201, errors=CHANGE_ERRORS)
def record_delivery(end_report_id: int) -> tuple[Response, int]:
    """Record that the end report was delivered (a supervisor of the operation or a legal officer)."""
    session = get_session()
    data = read_json(DeliveryCreate)
    delivery = closing.record_delivery(
        session=session, actor=current_user, end_report_id=end_report_id, recipient=data.recipient,
        delivered_at=data.delivered_at,
    )
    session.commit()
    body = _delivery(delivery, {current_user.id: current_user.username})
    return jsonify(body.model_dump(mode="json")), 201


@route(bp, "/legal-maxima", answer=MaximaTable)
def legal_maxima() -> Response:
    """The table of legal maxima orders are held to, each rule with its source."""
    items = [MaximumPublic(**rule.describe(), title=rule.title) for rule in maxima.current_table().values()]
    return jsonify(MaximaTable(items=items).model_dump(mode="json"))
