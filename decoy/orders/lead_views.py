"""The leads register on the pages: the operation page's section (its leads and the form that records
one) and the central record's register of every lead.

Both are template globals read while the page renders (``operation_leads``, ``central_leads``), as the
journal is, so that the operation and central record views stay as they are. The form posts to a route
of the operations blueprint; a refusal is shown at the field it names, on the operation page again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import Session
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from .. import clock
from ..auth.principal import require_roles
from ..db import get_session
from ..disclosure import codes
from ..models import TLP_LABELS, Lead, Operation
from ..operations.views import ID, READERS, SHOWN, _visible, bp, render_overview
from . import leads

_FORM = "lead_form"


class LeadForm(FlaskForm):
    """A lead passed on from the operation."""

    recipient = StringField(_l("Recipient (unit or agency)"),
                            validators=[InputRequired(), Length(max=leads.MAX_LINE)])
    legal_basis = StringField(_l("Legal basis"), validators=[InputRequired(), Length(max=leads.MAX_LINE)])
    tlp = SelectField(_l("TLP label"), choices=[SelectChoice(label, label) for label in TLP_LABELS],
                      validators=[InputRequired()])
    sha256 = StringField(_l("SHA-256 of what was sent"), validators=[InputRequired(), Length(max=64)])
    description = TextAreaField(_l("Description"),
                                validators=[InputRequired(), Length(max=leads.MAX_DESCRIPTION)])
    passed_at = StringField(_l("Passed on at (YYYY-MM-DD HH:MM, the operation's time zone; empty: now)"),
                            validators=[Optional(), Length(max=40)])


@dataclass(frozen=True)
class ShownLead:
    """A lead as a page shows it, with the verbalisant code of the officer who passed it on."""

    lead: Lead
    operation: Operation
    by: str


@dataclass
class LeadPanel:
    """An operation's leads, and the form that records one when the reader may."""

    operation: Operation
    leads: list[ShownLead]
    may_record: bool
    form: LeadForm | None


def _shown(session: Session, rows: list[tuple[Lead, Operation]]) -> list[ShownLead]:
    officers = codes.Officers(session)
    return [
        ShownLead(lead, operation, officers(lead.passed_by, lead.recorded_at) or "")
        for lead, operation in rows
    ]


def _reading(read: Any) -> Any:
    """``read(session)`` while a page renders: a transaction begun for these reads alone ends here, so that
    it holds no lock (SQLite begins every transaction IMMEDIATE) while the rest of the page renders."""
    session = get_session()
    begun_here = not session.in_transaction()
    found = read(session)
    if begun_here:
        session.commit()
    return found


def operation_leads(operation: Operation) -> LeadPanel:
    """The operation's leads for its page, and the form when the reader records leads."""

    def read(session: Session) -> LeadPanel:
        rows = leads.list_leads(session, current_user, operation.id or 0)
        may = leads.may_record(session, current_user, operation.id or 0)
        form = g.get(_FORM)
        if form is None and may:
            form = LeadForm(formdata=None)
        return LeadPanel(operation, _shown(session, [(row, operation) for row in rows]), may, form)

    return _reading(read)  # type: ignore[no-any-return]


def central_leads() -> list[ShownLead]:
    """Every lead of the operations the reader may see, for the central record."""

    def read(session: Session) -> list[ShownLead]:
        return _shown(session, leads.central_leads(session, current_user))

    return _reading(read)  # type: ignore[no-any-return]


bp.add_app_template_global(operation_leads, "operation_leads")
bp.add_app_template_global(central_leads, "central_leads")


def _refused(operation: Operation, form: LeadForm, status: int, message: str, field: str | None) -> Any:
    """The operation page again with the refusal at the field it names (and above, as every form's)."""
    get_session().rollback()
    target = getattr(form, field or "", None)
    if target is not None and hasattr(target, "errors") and field != "csrf_token":
        target.errors = [*target.errors, message]
    setattr(g, _FORM, form)  # read by operation_leads while the page renders
    return render_overview(operation, status, message)


@bp.route(f"/operations/<{ID}:operation_id>/leads", methods=["POST"])
@require_roles(*READERS)
def record_lead(operation_id: int) -> Any:
    """Record a lead passed on from the operation; back to its page, at the register."""
    operation = _visible(operation_id)
    session = get_session()
    leads.require_recorder(session, current_user, operation_id)
    form = LeadForm()
    if not form.validate_on_submit():
        setattr(g, _FORM, form)
        expired = "csrf_token" in form.errors
        message = _("The form expired; try again.") if expired else _("Complete the lead form.")
        return render_overview(operation, 400, message)
    try:
        row = leads.record_lead(
            session=session,
            actor=current_user,
            operation_id=operation_id,
            recipient=form.recipient.data or "",
            legal_basis=form.legal_basis.data or "",
            tlp=form.tlp.data or "",
            sha256=form.sha256.data or "",
            description=form.description.data or "",
            passed_at=clock.parse_optional_typed_timestamp(
                form.passed_at.data, operation.timezone, "passed_at"
            ),
        )
        session.commit()
    except SHOWN as refusal:
        return _refused(operation, form, refusal.status, refusal.message, refusal.field)
    flash(_("Lead %(id)s recorded: passed on to %(recipient)s.", id=row.id, recipient=row.recipient))
    return redirect(url_for("operations.overview", operation_id=operation_id, _anchor=f"lead-{row.id}"))
