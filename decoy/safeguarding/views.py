"""Safeguarding on the pages: the case panel of the contact page (with the forms that record an action,
close the case and confirm a trafficking signal), the open cases on the home and operation pages, the
opening of sensitive material with a reason, and the hash exports of the operation's sensitive material.

The panels are template globals read while the pages render, as the contact's category is; the forms
post to routes of the evidence blueprint and come back to the contact page.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from .. import access, clock
from ..auth.principal import require_roles
from ..db import get_session
from ..disclosure import codes
from ..disclosure.classes import sensitive_attachment_ids
from ..errors import Forbidden, InvalidInput, RuleViolation
from ..evidence.downloads import serve
from ..evidence.views import bp
from ..models import PROTECTIVE_ACTIONS, Contact, Operation
from . import cases, sensitive

READERS = ("detective", "supervisor", "legal")
SHOWN = (InvalidInput, RuleViolation)
CAUSE_WORDS = {
    "real_minor": _l("the contact is a real minor"),
    "presumed_victim": _l("the contact is a presumed victim"),
    "trafficking_signal": _l("a signal of human trafficking was confirmed"),
}
ACTION_WORDS = {
    "care_report": _l("care report (e.g. Veilig Thuis)"),
    "trafficking_notice": _l("trafficking notice (e.g. the national coordination centre)"),
    "handover_youth": _l("handed over to the youth unit"),
    "handover_vice": _l("handed over to the vice unit"),
    "guardian_contact": _l("contact with the child's guardians"),
    "other": _l("other protective step"),
    "trafficking_signal": _l("further trafficking signal"),
}
STATUS_WORDS = {
    "open": _l("open"),
    "overdue": _l("OVERDUE: no protective action yet"),
    "in_progress": _l("in progress"),
    "closed": _l("closed"),
}


class ActionForm(FlaskForm):
    """An action of the case with its reference."""

    kind = SelectField(_l("Action"), choices=[SelectChoice(k, ACTION_WORDS[k]) for k in PROTECTIVE_ACTIONS])
    reference = StringField(_l("Reference (report or notice number, the receiving unit's case number)"),
                            validators=[Optional(), Length(max=cases.MAX_REFERENCE)])
    taken_at = StringField(_l("When it was done (YYYY-MM-DD HH:MM, the operation's time zone; empty: now)"),
                           validators=[Optional(), Length(max=40)])
    note = TextAreaField(_l("Note (required for another step)"),
                         validators=[Optional(), Length(max=cases.MAX_TEXT)])


class CloseForm(FlaskForm):
    """The outcome the case closes with."""

    outcome = TextAreaField(_l("Outcome"), validators=[Optional(), Length(max=cases.MAX_TEXT)])


class SignalForm(FlaskForm):
    """A message that carries a signal of human trafficking, and why."""

    message_id = StringField(_l("Message number"), validators=[Optional(), Length(max=12)])
    reason = TextAreaField(_l("What the signal is"), validators=[Optional(), Length(max=cases.MAX_TEXT)])


class OpenForm(FlaskForm):
    """Why a sensitive attachment is opened."""

    reason = TextAreaField(_l("Why you open it"), validators=[Optional(), Length(max=sensitive.MAX_REASON)])


@dataclass
class CasePanel:
    """The contact's cases (newest first) and the forms the reader may use."""

    cases: list[cases.CaseState]
    names: codes.Officers
    now: datetime
    action_form: ActionForm | None
    close_form: CloseForm | None
    signal_form: SignalForm | None

    def by(self, user_id: int, at: datetime) -> str:
        """Who did it, by verbalisant code (or name inside Decoy)."""
        return self.names(user_id, at) or ""


def _ended(session: Any, begun_here: bool) -> None:
    if begun_here:
        session.commit()


def contact_safeguarding(contact: Contact) -> CasePanel:
    """The safeguarding section of the contact page."""
    session = get_session()
    begun_here = not session.in_transaction()
    may_act = cases.may_act(session, current_user, contact.operation_id)
    panel = CasePanel(
        cases=cases.contact_cases(session, contact.id),  # type: ignore[arg-type]
        names=codes.Officers(session),
        now=clock.now(),
        action_form=ActionForm(formdata=None, prefix="action") if may_act else None,
        close_form=CloseForm(formdata=None, prefix="close")
        if cases.may_close(session, current_user, contact.operation_id) else None,
        signal_form=SignalForm(formdata=None, prefix="signal") if may_act else None,
    )
    _ended(session, begun_here)
    return panel


def open_safeguarding(operation_id: int | None = None) -> list[tuple[cases.CaseState, str, str]]:
    """The open cases the reader may see (of one operation when named): each with its status now and its
    operation's name."""
    session = get_session()
    begun_here = not session.in_transaction()
    now = clock.now()
    found = cases.open_cases(session, current_user, operation_id)
    names = {
        operation.id: operation.name
        for operation in (session.get(Operation, i) for i in {s.case.operation_id for s in found})
        if operation is not None
    }
    _ended(session, begun_here)
    return [(state, state.status(now), names.get(state.case.operation_id, "")) for state in found]


def may_open_sensitive(operation_id: int) -> bool:
    """Whether the reader may open the operation's sensitive material (with a reason)."""
    session = get_session()
    begun_here = not session.in_transaction()
    may = sensitive.may_open(session, current_user, operation_id)
    _ended(session, begun_here)
    return may


def sensitive_files(files_by_message: Any) -> set[int]:
    """Of the attachments a page shows (by message), the ids the page must show as sensitive material (no
    download link)."""
    session = get_session()
    begun_here = not session.in_transaction()
    files = [file for files in files_by_message.values() for file in files]
    found = sensitive_attachment_ids(session, files)
    _ended(session, begun_here)
    return found


def safeguarding_word(kind: str, name: str) -> str:
    """A cause, action or status in the reader's language."""
    words = {"cause": CAUSE_WORDS, "action": ACTION_WORDS, "status": STATUS_WORDS}[kind]
    return str(words.get(name, name))


bp.add_app_template_global(contact_safeguarding, "contact_safeguarding")
bp.add_app_template_global(open_safeguarding, "open_safeguarding")
bp.add_app_template_global(may_open_sensitive, "may_open_sensitive")
bp.add_app_template_global(sensitive_files, "sensitive_files")
bp.add_app_template_global(safeguarding_word, "safeguarding_word")


def _back(contact_id: int) -> Any:
    return redirect(url_for("evidence.contact", contact_id=contact_id, _anchor="safeguarding"))


def _case_and_zone(case_id: int) -> tuple[Any, str]:
    session = get_session()
    case = cases.visible_case(session, current_user, case_id)
    operation = session.get(Operation, case.operation_id)
    return case, operation.timezone if operation else "UTC"


@bp.route("/safeguarding/<int:case_id>/actions", methods=["POST"])
@require_roles(*READERS)
def record_safeguarding_action(case_id: int) -> Any:
    """Record an action of the case; back to the contact page."""
    session = get_session()
    case, zone = _case_and_zone(case_id)
    form = ActionForm(prefix="action")
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return _back(case.contact_id)
    try:
        cases.record_action(
            session=session, actor=current_user, case_id=case_id, kind=form.kind.data or "",
            reference=form.reference.data or "", note=form.note.data or "",
            taken_at=clock.parse_optional_typed_timestamp(form.taken_at.data, zone, "taken_at"),
        )
        session.commit()
    except SHOWN as refusal:
        session.rollback()
        flash(_("Not recorded: %(reason)s", reason=refusal.message), "error")
        return _back(case.contact_id)
    flash(_("The safeguarding action is recorded."))
    return _back(case.contact_id)


@bp.route("/safeguarding/<int:case_id>/close", methods=["POST"])
@require_roles(*READERS)
def close_safeguarding_case(case_id: int) -> Any:
    """Close the case with its outcome; back to the contact page."""
    session = get_session()
    case, _zone = _case_and_zone(case_id)
    form = CloseForm(prefix="close")
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return _back(case.contact_id)
    try:
        cases.close_case(
            session=session, actor=current_user, case_id=case_id, outcome=form.outcome.data or ""
        )
        session.commit()
    except SHOWN as refusal:
        session.rollback()
        flash(_("Not closed: %(reason)s", reason=refusal.message), "error")
        return _back(case.contact_id)
    flash(_("The safeguarding case is closed."))
    return _back(case.contact_id)


@bp.route("/contacts/<int:contact_id>/trafficking-signal", methods=["POST"])
@require_roles(*READERS)
def confirm_trafficking_signal(contact_id: int) -> Any:
    """Confirm a trafficking signal on a message of the contact; back to its page."""
    session = get_session()
    cases.visible_contact(session, current_user, contact_id)
    form = SignalForm(prefix="signal")
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return _back(contact_id)
    typed = (form.message_id.data or "").strip().lstrip("#")
    try:
        if not re.fullmatch(r"[0-9]{1,10}", typed):
            raise InvalidInput(_("Enter the number of a message of this contact."), field="message_id")
        message = cases.visible_message(session, current_user, int(typed))
        if message.contact_id != contact_id:
            raise InvalidInput(_("Enter the number of a message of this contact."), field="message_id")
        _case, opened = cases.confirm_signal(session=session, actor=current_user, message_id=message.id,
                                             reason=form.reason.data or "")
        session.commit()
    except SHOWN as refusal:
        session.rollback()
        flash(_("Not recorded: %(reason)s", reason=refusal.message), "error")
        return _back(contact_id)
    flash(_("A safeguarding case is open.") if opened else _("The signal is recorded on the open case."))
    return _back(contact_id)


@bp.route("/attachments/<int:attachment_id>/open", methods=["GET", "POST"])
@require_roles(*READERS)
def open_sensitive(attachment_id: int) -> Any:
    """The page that asks why a sensitive attachment is opened; on POST the opening is recorded and the
    file sent to be saved (never shown)."""
    session = get_session()
    attachment = sensitive.visible_attachment(session, current_user, attachment_id)
    form = OpenForm()
    error = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            opened = sensitive.open_sensitive(
                session=session, actor=current_user, attachment_id=attachment_id,
                reason=form.reason.data or "",
            )
            session.commit()
            return serve(opened.attachment, opened.store, "application/octet-stream")
        except SHOWN as refusal:
            session.rollback()
            error = refusal.message
    elif request.method == "POST":
        error = _("The form expired; try again.")
    if not sensitive.may_open(session, current_user, attachment.operation_id):
        raise Forbidden(_("only legal officers and the operation's supervisors open sensitive material"))
    earlier = sensitive.openings(session, [attachment.id]).get(attachment.id, [])  # type: ignore[list-item]
    names = codes.Officers(session)
    operation = session.get(Operation, attachment.operation_id)
    contact_id = cases.visible_message(session, current_user, attachment.message_id).contact_id
    session.commit()
    return render_template(
        "evidence/open_sensitive.html", attachment=attachment, form=form, error=error, operation=operation,
        contact_id=contact_id, earlier=[(row, names(row.opened_by, row.opened_at) or "") for row in earlier],
    ), 400 if error else 200


@bp.route("/operations/<int:operation_id>/sensitive-hashes.<any(csv, json):form>")
@require_roles("legal")
def sensitive_hashes(operation_id: int, form: str) -> Response:
    """The hashes of the operation's sensitive material, as CSV or as VICS 2.0 JSON."""
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    operation, lines = sensitive.hash_lines(session, current_user, operation_id)
    session.commit()
    if form == "csv":
        response = Response(sensitive.hashes_csv(operation, lines), mimetype="text/csv")
        name = f"sensitive-hashes-operation-{operation_id}.csv"
    else:
        body = json.dumps(sensitive.hashes_vics(operation, lines), indent=2, ensure_ascii=False)
        response = Response(body, mimetype="application/json")
        name = f"sensitive-hashes-operation-{operation_id}.vics.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
