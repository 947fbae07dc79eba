"""The pages of an order's withdrawal, an operation's closing and reopening, its end reports and their
deliveries, and the table of legal maxima.

Withdrawing, closing and reopening each have a confirmation page that says what will happen and asks for
the reason; the operation page shows the end reports (with their SHA-256 and deliveries) through the
template global ``operation_closing``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import col, select
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from .. import blobstore, clock
from ..auth.principal import require_roles
from ..db import get_session
from ..disclosure import codes
from ..errors import Forbidden, NotFound
from ..models import (
    EndReport,
    EndReportDelivery,
    OperationClosure,
    OperationStatus,
    Profile,
    ProfileStatus,
    Role,
)
from ..operations import rules
from ..operations.authorizations import require_legal
from ..operations.rules import chain
from ..operations.views import (
    ID,
    READERS,
    SHOWN,
    _visible,
    bp,
    render_overview,
    visible_authorization,
)
from . import closing, maxima, withdrawals


class ReasonForm(FlaskForm):
    """The reason of a withdrawal, closing or reopening (required; recorded)."""

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=closing.MAX_REASON)])


class WithdrawalForm(ReasonForm):
    """A withdrawal's reason and the moment it takes effect."""

    effective_at = StringField(_l("Takes effect at (optional)"), validators=[Optional(), Length(max=64)])


class DeliveryForm(FlaskForm):
    """To whom the end report was delivered, and when."""

    recipient = StringField(_l("Delivered to"), validators=[Optional(), Length(max=200)])
    delivered_at = StringField(
        _l("Delivered at (YYYY-MM-DD HH:MM in the operation's time zone; empty: now)"),
        validators=[Optional(), Length(max=40)],
    )


@dataclass(frozen=True)
class ShownDelivery:
    delivery: EndReportDelivery
    by: str


@dataclass(frozen=True)
class ShownClosure:
    closure: OperationClosure
    by: str


@dataclass
class ClosingPanel:
    """An operation's closings and reopenings, its end reports with their deliveries, and what the reader
    may do."""

    closures: list[ShownClosure]
    reports: list[tuple[EndReport, list[ShownDelivery]]]
    may_close: bool
    may_reopen: bool
    delivery_form: DeliveryForm | None


def operation_closing(operation: Any) -> ClosingPanel:
    """The closing section of the operation page."""
    session = get_session()
    begun_here = not session.in_transaction()
    officers = codes.Officers(session)
    found = closing.end_reports(session, current_user, operation.id)
    reports = [
        (report, [ShownDelivery(d, officers(d.recorded_by, d.recorded_at) or "") for d in deliveries])
        for report, deliveries in found
    ]
    shown = [
        ShownClosure(closure, officers(closure.decided_by, closure.decided_at) or "")
        for closure in closing.closures(session, operation.id)
    ]
    may_close = closing.may_close(session, current_user, operation.id)
    closed = operation.status == OperationStatus.closed.value
    panel = ClosingPanel(
        closures=shown,
        reports=reports,
        may_close=may_close and not closed,
        may_reopen=closed and current_user.has_role(Role.legal.value),
        delivery_form=DeliveryForm(formdata=None) if may_close and reports else None,
    )
    if begun_here:
        session.commit()
    return panel


bp.add_app_template_global(operation_closing, "operation_closing")


def _confirm(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), status


@bp.route(f"/authorizations/<{ID}:authorization_id>/withdraw", methods=["GET", "POST"])
@require_roles(*READERS)
def withdraw_authorization(authorization_id: int) -> Any:
    """Withdraw an order: a confirmation page with the reason and the moment it takes effect."""
    authorization = visible_authorization(authorization_id)
    operation = _visible(authorization.operation_id)
    session = get_session()
    require_legal(session, current_user, operation.id)  # type: ignore[arg-type]
    form = WithdrawalForm()
    links = [link.id for link in chain(session, authorization_id)]
    profiles = session.exec(
        select(Profile.handle).where(
            col(Profile.authorization_id).in_(links), Profile.status == ProfileStatus.active.value
        ).order_by(col(Profile.id))
    ).all()
    context = {"operation": operation, "authorization": authorization, "form": form, "profiles": profiles,
               "order_status": rules.authorization_status(session, authorization, clock.now())}
    if not form.is_submitted():
        return _confirm("orders/withdraw.html", **context)
    if not form.validate():
        return _confirm("orders/withdraw.html", 400, error=_("The form expired; try again."), **context)
    try:
        withdrawals.withdraw_authorization(
            session=session,
            actor=current_user,
            authorization_id=authorization_id,
            reason=form.reason.data or "",
            effective_at=clock.parse_optional_typed_timestamp(
                form.effective_at.data, operation.timezone, "effective_at"
            ),
        )
        session.commit()
    except SHOWN as refusal:
        session.rollback()
        _at_field(form, refusal)
        return _confirm("orders/withdraw.html", refusal.status, error=refusal.message, **context)
    flash(_("Authorization %(reference)s is withdrawn.", reference=authorization.reference))
    return redirect(
        url_for("operations.overview", operation_id=operation.id, _anchor=f"authorization-{authorization_id}")
    )


def _at_field(form: FlaskForm, refusal: Any) -> None:
    """Show a refusal at the field it names too."""
    target = getattr(form, refusal.field or "", None)
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, refusal.message]


@bp.route(f"/operations/<{ID}:operation_id>/close", methods=["GET", "POST"])
@require_roles(*READERS)
def close_operation(operation_id: int) -> Any:
    """Close the operation: a confirmation page that says what closing does, with the reason."""
    return _closing(operation_id, "close")


@bp.route(f"/operations/<{ID}:operation_id>/reopen", methods=["GET", "POST"])
@require_roles(*READERS)
def reopen_operation(operation_id: int) -> Any:
    """Reopen a closed operation (legal officers): a confirmation page with the reason."""
    return _closing(operation_id, "reopen")


def _closing(operation_id: int, action: str) -> Any:
    operation = _visible(operation_id)
    session = get_session()
    if action == "close" and not closing.may_close(session, current_user, operation_id):
        raise Forbidden(_("only a supervisor of this operation or a legal officer may close it"))
    if action == "reopen" and not current_user.has_role(Role.legal.value):
        raise Forbidden(_("only a legal officer may reopen a closed operation"))
    form = ReasonForm()
    unretired = session.exec(
        select(Profile.handle).where(
            Profile.operation_id == operation_id, Profile.status != ProfileStatus.retired.value
        ).order_by(col(Profile.id))
    ).all()
    context = {"operation": operation, "form": form, "action": action, "profiles": unretired}
    if not form.is_submitted():
        return _confirm("orders/close.html", **context)
    if not form.validate():
        return _confirm("orders/close.html", 400, error=_("The form expired; try again."), **context)
    try:
        if action == "close":
            closing.close_operation(
                session=session, actor=current_user, operation_id=operation_id, reason=form.reason.data or ""
            )
        else:
            closing.reopen_operation(
                session=session, actor=current_user, operation_id=operation_id, reason=form.reason.data or ""
            )
        session.commit()
    except SHOWN as refusal:
        session.rollback()
        _at_field(form, refusal)
        return _confirm("orders/close.html", refusal.status, error=refusal.message, **context)
    if action == "close":
        flash(_("The operation is closed; its end report is ready below."))
    else:
        flash(_("The operation is reopened and suspended until a supervisor resumes it."))
    return redirect(url_for("operations.overview", operation_id=operation_id, _anchor="closing"))


@bp.route(f"/end-reports/<{ID}:end_report_id>.pdf")
@require_roles(*READERS)
def end_report(end_report_id: int) -> Response:
    """The end report as it was made."""
    return end_report_response(closing.end_report(get_session(), current_user, end_report_id))


def end_report_response(report: EndReport) -> Response:
    """An end report as a PDF download, streamed from its store; ``X-Content-SHA256`` carries the hash
    recorded when it was made."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    response = Response(blobstore.iter_blob(report.sha256, app), mimetype="application/pdf")
    name = f"end-report-operation-{report.operation_id}-{report.id}-{report.sha256[:12]}.pdf"
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.headers["Content-Length"] = str(report.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Content-SHA256"] = report.sha256
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route(f"/end-reports/<{ID}:end_report_id>/deliveries", methods=["POST"])
@require_roles(*READERS)
def record_delivery(end_report_id: int) -> Any:
    """Record the end report's delivery; back to the operation page's closing section."""
    session = get_session()
    report = closing.end_report(session, current_user, end_report_id)
    operation = _visible(report.operation_id)
    form = DeliveryForm()
    target = url_for("operations.overview", operation_id=operation.id, _anchor="closing")
    if not form.validate_on_submit():
        return render_overview(operation, 400, _("The form expired; try again."))
    try:
        delivered_at = clock.parse_optional_typed_timestamp(
            form.delivered_at.data, operation.timezone, "delivered_at"
        )
        closing.record_delivery(
            session=session,
            actor=current_user,
            end_report_id=end_report_id,
            recipient=form.recipient.data or "",
            delivered_at=delivered_at,
        )
        session.commit()
    except SHOWN as refusal:
        session.rollback()
        return render_overview(operation, refusal.status, refusal.message)
    flash(_("The delivery is recorded."))
    return redirect(target)


@bp.route("/legal-maxima")
@require_roles(*READERS)
def legal_maxima() -> str:
    """The table of legal maxima in force, each rule with its source."""
    try:
        table = maxima.current_table()
    except maxima.MaximaError as error:
        raise NotFound(str(error)) from error
    return render_template("orders/legal_maxima.html", table=list(table.values()))
