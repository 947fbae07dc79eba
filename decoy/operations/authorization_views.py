"""Pages of authorizations: registering (and extending) one, its order documents, and the central record."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import col, select

from .. import blobstore, clock
from ..auth.principal import require_roles
from ..clock import localtime
from ..db import get_session
from ..errors import Forbidden, InvalidInput
from ..evidence import reading
from ..export.spreadsheet import csv_bytes
from ..models import Authorization
from . import records, rules, services
from .forms import AuthorizationForm, DocumentForm, SearchForm
from .views import ID, READERS, SHOWN, _visible, bp, split_list, visible_authorization


def _supersede_choices(session: Any, operation_id: int) -> list[tuple[str, str]]:
    open_ones = [
        a for a in records.authorizations_of(session, operation_id) if rules.successor(session, a.id) is None
    ]  # type: ignore[arg-type]
    return [("", _("— none: a new authorization —"))] + [(str(a.id), a.reference) for a in open_ones]


def _prefill(form: AuthorizationForm, previous: Authorization, zone_name: str) -> None:
    """An extension starts as a copy of the authorization it supersedes (never an edit of it)."""
    for name in (
        "kind",
        "authority",
        "issuer_name",
        "legal_basis",
        "offence",
        "suspect_description",
        "justification",
        "method",
        "persona_constraints",
        "conditions",
        "review_interval_days",
        "max_profiles",
        "may_initiate_contact",
        "persona_age_min",
        "persona_age_max",
    ):
        getattr(form, name).data = getattr(previous, name)
    form.platforms.data = ", ".join(previous.platforms)
    form.officers.data = ", ".join(records.officers_of(get_session(), previous.id))  # type: ignore[arg-type]
    form.valid_from.data = clock.typed_time(previous.valid_until, zone_name)
    form.reference.data = ""
    form.supersedes_id.data = str(previous.id)


@bp.route(f"/operations/<{ID}:operation_id>/authorizations/new", methods=["GET", "POST"])
@require_roles(*READERS)
def register_authorization(operation_id: int) -> Any:
    """Register an order or ruling, or an extension that supersedes one (legal officers)."""
    operation = _visible(operation_id)
    if not current_user.has_role("legal"):
        raise Forbidden(_("Only a legal officer may register authorizations."))
    session = get_session()
    form = AuthorizationForm()
    form.supersedes_id.choices = _supersede_choices(session, operation_id)
    status, error = 200, None
    if request.method == "GET":
        previous_id = request.args.get("supersedes", "")
        previous = (
            session.get(Authorization, int(previous_id))
            if previous_id.isdigit() and len(previous_id) < 11
            else None
        )
        if previous is not None and previous.operation_id == operation_id:
            _prefill(form, previous, operation.timezone)
    elif not form.validate_on_submit():
        status = 400
    elif (moments := _moments(form, operation.timezone)) is None:
        status = 400
    else:
        try:
            authorization = _register(session, operation, form, moments)
            session.commit()
        except SHOWN as refusal:
            session.rollback()
            status, error = refusal.status, refusal.message
            field = getattr(form, refusal.field or "", None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, refusal.message]
        else:
            flash(_("Authorization %(reference)s registered.", reference=authorization.reference))
            return redirect(
                url_for(
                    "operations.overview",
                    operation_id=operation_id,
                    _anchor=f"authorization-{authorization.id}",
                )
            )
    html = render_template("operations/authorization_form.html", operation=operation, form=form, error=error)
    return html, status


#: The typed times of the form, each read by decoy.clock.parse_typed_time in the operation's zone.
TIMES = ("valid_from", "valid_until", "oral_order_given_at")


def _plain_date(text: str) -> date | None:
    """A date typed as 2026-03-01, or None."""
    if len(text) != 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _moments(form: AuthorizationForm, zone_name: str) -> dict[str, Any] | None:
    """The form's date issued and typed times, read; None when one is not in the pattern, which is then
    shown at its field (every such field at once)."""
    read: dict[str, Any] = {"issued_on": None}
    wrong = False
    text = (form.issued_on.data or "").strip()
    if text:
        read["issued_on"] = _plain_date(text)
        if read["issued_on"] is None:
            form.issued_on.errors = [*form.issued_on.errors, _("Enter the date like 2026-03-01.")]
            wrong = True
    for name in TIMES:
        field = getattr(form, name)
        text = (field.data or "").strip()
        read[name] = None
        if not text:
            continue
        try:
            read[name] = clock.parse_typed_time(text, zone_name)
        except ValueError as problem:
            field.errors = [*field.errors, str(problem)]
            wrong = True
    return None if wrong else read


def _register(
    session: Any, operation: Any, form: AuthorizationForm, moments: dict[str, Any]
) -> Authorization:
    supersedes = form.supersedes_id.data or ""
    if supersedes and not (supersedes.isdigit() and len(supersedes) < 11):
        raise InvalidInput(_("Choose an authorization to supersede."), field="supersedes_id")
    authorization = services.register_authorization(
        session=session,
        actor=current_user,
        operation_id=operation.id,
        reference=form.reference.data or "",
        kind=form.kind.data or "",
        authority=form.authority.data or "",
        issuer_name=form.issuer_name.data or "",
        legal_basis=form.legal_basis.data or "",
        offence=form.offence.data or "",
        suspect_description=form.suspect_description.data or "",
        justification=form.justification.data or "",
        method=form.method.data or "",
        issued_on=moments["issued_on"],
        valid_from=moments["valid_from"],
        valid_until=moments["valid_until"],
        review_interval_days=form.review_interval_days.data,  # type: ignore[arg-type]
        platforms=split_list(form.platforms.data),
        may_initiate_contact=bool(form.may_initiate_contact.data),
        max_profiles=form.max_profiles.data,  # type: ignore[arg-type]
        officers=split_list(form.officers.data),
        persona_constraints=form.persona_constraints.data or "",
        persona_age_min=form.persona_age_min.data,
        persona_age_max=form.persona_age_max.data,
        conditions=form.conditions.data or "",
        supersedes_id=int(supersedes) if supersedes else None,
        written_order_days=form.written_order_days.data,
        oral_order_given_at=moments["oral_order_given_at"],
        advice_reference=form.advice_reference.data or "",
        consent_reference=form.consent_reference.data or "",
    )
    upload = form.document.data
    if upload is not None and getattr(upload, "filename", ""):
        services.attach_order_document(
            session=session,
            actor=current_user,
            authorization_id=authorization.id,
            stream=upload.stream,
            filename=upload.filename,
            kind="order",
        )
    return authorization


@bp.route(f"/authorizations/<{ID}:authorization_id>/documents", methods=["POST"])
@require_roles(*READERS)
def attach_document(authorization_id: int) -> Any:
    """Attach the scanned order (PDF) to an authorization (legal officers)."""
    from .views import _refused

    authorization = visible_authorization(authorization_id)
    operation = _visible(authorization.operation_id)
    form = DocumentForm()
    upload = form.file.data
    if not form.validate_on_submit() or upload is None or not getattr(upload, "filename", ""):
        return _refused(operation, InvalidInput(_("Choose a PDF file."), field="file"))
    try:
        services.attach_order_document(
            session=get_session(),
            actor=current_user,
            authorization_id=authorization_id,
            stream=upload.stream,
            filename=upload.filename,
            kind=form.kind.data or "order",
        )
        get_session().commit()
    except SHOWN as refusal:
        return _refused(operation, refusal)
    flash(_("Document attached to %(reference)s.", reference=authorization.reference))
    return redirect(
        url_for("operations.overview", operation_id=operation.id, _anchor=f"authorization-{authorization_id}")
    )


@bp.route(f"/authorization-documents/<{ID}:document_id>")
@require_roles(*READERS)
def document(document_id: int) -> Response:
    """An order document (PDF) as a download; the read is recorded in the audit log."""
    session = get_session()
    found = reading.read_authorization_document(session=session, actor=current_user, document_id=document_id)
    session.commit()
    response = Response(
        blobstore.iter_blob(found.sha256, current_app._get_current_object()),  # type: ignore[attr-defined]
        mimetype="application/pdf",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="order-{found.id}.pdf"'
    response.headers["Content-Length"] = str(found.size)
    response.headers["Cache-Control"] = "no-store"
    return response


def _record_rows() -> tuple[SearchForm, list[records.RecordRow]]:
    if not current_user.has_role("legal"):
        raise Forbidden(_("The central record is for legal officers."))
    form = SearchForm(request.args)
    if not form.validate():
        raise InvalidInput(_("The search is too long or the status unknown."), field="q")
    rows = records.central_record(get_session(), clock.now(), form.q.data or "", form.status.data or "")
    return form, rows


@bp.route("/authorizations")
@require_roles(*READERS)
def central_record() -> Any:
    """Every authorization of every operation with its status, searchable (legal officers)."""
    form, rows = _record_rows()
    return render_template(
        "operations/central_record.html",
        form=form,
        rows=rows,
        officers={
            row.authorization.id: records.officers_of(get_session(), row.authorization.id) for row in rows
        },
        references=_superseded_references(rows),
    )


def _superseded_references(rows: list[records.RecordRow]) -> dict[int, str]:
    """The references of the authorizations the rows supersede, by id (also those the search left out)."""
    wanted = {row.authorization.supersedes_id for row in rows} - {None}
    if not wanted:
        return {}
    found = get_session().exec(
        select(Authorization.id, Authorization.reference).where(col(Authorization.id).in_(wanted))
    ).all()
    return {int(ident): reference for ident, reference in found}


CSV_HEADER = (
    "reference",
    "operation",
    "status",
    "written order overdue",
    "kind",
    "authority",
    "issued by",
    "legal basis",
    "offence",
    "issued on",
    "valid from",
    "valid until",
    "time zone",
    "review interval (days)",
    "platforms",
    "may initiate contact",
    "maximum profiles",
    "youngest persona age",
    "oldest persona age",
    "officers",
    "supersedes",
    "conditions",
    "registered at",
)


@bp.route("/authorizations.csv")
@require_roles(*READERS)
def central_record_csv() -> Response:
    """The central record as CSV, times in each operation's zone, cells neutralised for spreadsheets."""
    _form, rows = _record_rows()
    session = get_session()
    references = _superseded_references(rows)

    def line(row: records.RecordRow) -> list[object]:
        a, zone_name = row.authorization, row.operation.timezone
        return [
            a.reference,
            row.operation.name,
            row.status,
            "yes" if row.written_order_overdue else "no",
            a.kind,
            a.authority,
            a.issuer_name,
            a.legal_basis,
            a.offence,
            a.issued_on.isoformat() if a.issued_on else "",
            localtime(a.valid_from, zone_name),
            localtime(a.valid_until, zone_name),
            zone_name,
            a.review_interval_days,
            ", ".join(a.platforms),
            "yes" if a.may_initiate_contact else "no",
            a.max_profiles,
            "" if a.persona_age_min is None else a.persona_age_min,
            "" if a.persona_age_max is None else a.persona_age_max,
            ", ".join(records.officers_of(session, a.id)),  # type: ignore[arg-type]
            references.get(a.supersedes_id, a.supersedes_id or ""),
            a.conditions,
            localtime(a.registered_at, zone_name),
        ]

    body = csv_bytes(CSV_HEADER, [line(row) for row in rows])
    response = Response(body, mimetype="text/csv")
    stamp = clock.now().strftime("%Y%m%d")
    response.headers["Content-Disposition"] = f'attachment; filename="central-record-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
