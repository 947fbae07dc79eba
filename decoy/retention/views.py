"""Retention on the pages: legal holds on the operation and contact pages (with the legal officers' forms
that set and lift them), a suspect's case outcome on the contact page, what is due for disposal on the
legal officer's home page, and the schedule with the full list at /retention.

The panels are template globals read while the pages render; the forms post to routes of the evidence
blueprint and come back to the page they came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
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
from ..errors import InvalidInput, RuleViolation
from ..evidence.categories import current_category
from ..evidence.reading import visible_contact
from ..evidence.views import bp
from ..models import CASE_OUTCOMES, Contact, ContactOutcome, Operation
from . import disposal, due, holds, outcomes, schedule

READERS = ("detective", "supervisor", "legal")
SHOWN = (InvalidInput, RuleViolation)
OUTCOME_WORDS = {
    "convicted": _l("convicted"),
    "acquitted": _l("acquitted"),
    "dismissed": _l("dismissed by the public prosecutor"),
    "settled": _l("settled out of court"),
    "not_prosecuted": _l("not prosecuted"),
}


class HoldForm(FlaskForm):
    """Why the data is held, or why the hold is lifted."""

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=holds.MAX_REASON)])


class OutcomeForm(FlaskForm):
    """How a suspect's case ended."""

    outcome = SelectField(_l("Outcome"), choices=[SelectChoice(k, OUTCOME_WORDS[k]) for k in CASE_OUTCOMES])
    reference = StringField(_l("Reference of the decision"),
                            validators=[Optional(), Length(max=outcomes.MAX_REFERENCE)])
    decided_at = StringField(_l("When it became final (YYYY-MM-DD HH:MM, the operation's time zone)"),
                             validators=[Optional(), Length(max=40)])


@dataclass
class HoldPanel:
    """The holds of an operation (or those over one contact) and the legal officer's forms."""

    holds: list[holds.HoldState]
    names: codes.Officers
    form: HoldForm | None

    def by(self, user_id: int, at: Any) -> str:
        """Who, by verbalisant code."""
        return self.names(user_id, at) or ""


class ConfirmForm(FlaskForm):
    """A confirmation: its CSRF token only."""


class DisposalForm(FlaskForm):
    """Why the contact's content is disposed of, and the decision's reference."""

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=disposal.MAX_REASON)])
    decision_reference = StringField(_l("Reference of the decision"),
                                     validators=[Optional(), Length(max=disposal.MAX_REFERENCE)])


@dataclass
class ContactRetention:
    """A contact's holds, its case outcome, its disposals and the forms."""

    panel: HoldPanel
    category: str
    outcome: ContactOutcome | None
    outcome_form: OutcomeForm | None
    disposals: list[disposal.State]
    disposal_form: DisposalForm | None

    def may_approve(self, state: disposal.State) -> bool:
        """Whether the reader may approve the pending disposal: a legal officer who did not request it."""
        return (state.approval is None and current_user.has_role("legal")
                and state.disposal.requested_by != current_user.id)


def _ended(session: Any, begun_here: bool) -> None:
    if begun_here:
        session.commit()


def operation_holds(operation: Operation) -> HoldPanel:
    """The legal holds section of the operation page."""
    session = get_session()
    begun_here = not session.in_transaction()
    panel = HoldPanel(holds.holds_of_operation(session, operation.id), codes.Officers(session),  # type: ignore[arg-type]
                      HoldForm(formdata=None, prefix="hold") if current_user.has_role("legal") else None)
    _ended(session, begun_here)
    return panel


def contact_retention(contact: Contact) -> ContactRetention:
    """The retention section of the contact page: the holds over it and a suspect's case outcome."""
    session = get_session()
    begun_here = not session.in_transaction()
    legal = current_user.has_role("legal")
    over = [state for state in holds.holds_of_operation(session, contact.operation_id)
            if state.hold.contact_id in (None, contact.id)]
    category = current_category(session, contact.id)  # type: ignore[arg-type]
    disposals = disposal.contact_disposals(session, contact.id)  # type: ignore[arg-type]
    pending = any(state.approval is None for state in disposals)
    hold_form = HoldForm(formdata=None, prefix="hold") if legal else None
    outcome_form = OutcomeForm(formdata=None, prefix="outcome") if legal and category == "suspect" else None
    found = ContactRetention(
        panel=HoldPanel(over, codes.Officers(session), hold_form),
        category=category,
        outcome=outcomes.latest_outcome(session, contact.id),  # type: ignore[arg-type]
        outcome_form=outcome_form,
        disposals=disposals,
        disposal_form=DisposalForm(formdata=None, prefix="disposal") if legal and not pending else None,
    )
    _ended(session, begun_here)
    return found


def disposal_due() -> list[due.Line]:
    """The contacts due for disposal by the schedule, for the legal officer's home page."""
    session = get_session()
    begun_here = not session.in_transaction()
    now = clock.now()
    lines = [line for line in due.retention_lines(session, current_user) if line.is_due(now)]
    _ended(session, begun_here)
    return lines


def outcome_word(name: str) -> str:
    """A case outcome in the reader's language."""
    return str(OUTCOME_WORDS.get(name, name))


def rule_word(key: str) -> str:
    """A rule of the retention schedule by what it covers, in the reader's language: a category, or a
    suspect with the outcome of the case (``suspect:convicted``)."""
    from ..evidence.category_views import category_word

    category, _sep, outcome = key.partition(":")
    return f"{category_word(category)}, {outcome_word(outcome)}" if outcome else category_word(category)


bp.add_app_template_global(rule_word, "retention_rule_word")
bp.add_app_template_global(operation_holds, "operation_holds")
bp.add_app_template_global(contact_retention, "contact_retention")
bp.add_app_template_global(disposal_due, "disposal_due")
bp.add_app_template_global(outcome_word, "outcome_word")


def disposed_marks(contact: Contact) -> dict[int, tuple[str, Any]]:
    """The contact's messages whose text a disposal removed: the decision's reference and when."""
    session = get_session()
    begun_here = not session.in_transaction()
    found = {
        item_id: (reference, at)
        for (kind, item_id), (reference, at, _disposal) in disposal.disposed_of_contact(
            session, contact.id  # type: ignore[arg-type]
        ).items()
        if kind == "message"
    }
    _ended(session, begun_here)
    return found


bp.add_app_template_global(disposed_marks, "disposed_marks")


def _to_contact(contact_id: int) -> Any:
    return redirect(url_for("evidence.contact", contact_id=contact_id, _anchor="retention"))


def _to_operation(operation_id: int) -> Any:
    return redirect(url_for("operations.overview", operation_id=operation_id, _anchor="legal-holds"))


def _hold_reason() -> str | None:
    form = HoldForm(prefix="hold")
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return None
    return form.reason.data or ""


def _set_hold(back: Any, done: str, **target: int) -> Any:
    """Set a hold on ``target`` (``operation_id=`` or ``contact_id=``) from its page's form; back there
    with ``done`` or the refusal."""
    reason = _hold_reason()
    if reason is None:
        return back
    session = get_session()
    try:
        holds.set_hold(session=session, actor=current_user, reason=reason, **target)
        session.commit()
    except SHOWN as refusal:
        session.rollback()
        flash(_("Not set: %(reason)s", reason=refusal.message), "error")
        return back
    flash(done)
    return back


@bp.route("/operations/<int:operation_id>/legal-holds", methods=["POST"])
@require_roles("legal")
def hold_operation(operation_id: int) -> Any:
    """Put the operation under a legal hold; back to its page."""
    access.visible_operation(get_session(), current_user, operation_id)
    return _set_hold(_to_operation(operation_id),
                     _("The operation is under a legal hold: nothing of it may be disposed of."),
                     operation_id=operation_id)


@bp.route("/contacts/<int:contact_id>/legal-holds", methods=["POST"])
@require_roles("legal")
def hold_contact(contact_id: int) -> Any:
    """Put the contact under a legal hold; back to its page."""
    visible_contact(get_session(), current_user, contact_id)
    return _set_hold(_to_contact(contact_id),
                     _("The contact is under a legal hold: nothing of it may be disposed of."),
                     contact_id=contact_id)


@bp.route("/legal-holds/<int:hold_id>/lift", methods=["POST"])
@require_roles("legal")
def lift_hold(hold_id: int) -> Any:
    """Lift a legal hold with a reason; back to the page of what it held."""
    session = get_session()
    hold = holds.visible_hold(session, current_user, hold_id)
    back = _to_operation(hold.operation_id) if hold.contact_id is None else _to_contact(hold.contact_id)
    reason = _hold_reason()
    if reason is None:
        return back
    try:
        holds.lift_hold(session=session, actor=current_user, hold_id=hold_id, reason=reason)
        session.commit()
    except SHOWN as refusal:
        session.rollback()
        flash(_("Not lifted: %(reason)s", reason=refusal.message), "error")
        return back
    flash(_("Legal hold %(id)s is lifted.", id=hold_id))
    return back


@bp.route("/contacts/<int:contact_id>/outcome", methods=["POST"])
@require_roles("legal")
def record_outcome(contact_id: int) -> Any:
    """Record a suspect's case outcome; back to the contact page."""
    session = get_session()
    contact = visible_contact(session, current_user, contact_id)
    operation = session.get(Operation, contact.operation_id)
    form = OutcomeForm(prefix="outcome")
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return _to_contact(contact_id)
    try:
        zone_name = operation.timezone  # type: ignore[union-attr]
        decided_at = clock.parse_optional_typed_timestamp(form.decided_at.data, zone_name, "decided_at")
        outcomes.record_outcome(
            session=session, actor=current_user, contact_id=contact_id, outcome=form.outcome.data or "",
            reference=form.reference.data or "",
            decided_at=decided_at,
        )
        session.commit()
    except SHOWN as refusal:
        session.rollback()
        flash(_("Not recorded: %(reason)s", reason=refusal.message), "error")
        return _to_contact(contact_id)
    flash(_("The outcome of the case is recorded."))
    return _to_contact(contact_id)


@bp.route("/retention")
@require_roles("legal")
def retention_page() -> str:
    """The retention schedule with its sources, and every contact with a due time, the earliest first."""
    session = get_session()
    now = clock.now()
    lines = [line for line in due.retention_lines(session, current_user) if line.due_at is not None]
    rules = list(schedule.current_schedule().values())
    session.commit()
    return render_template("evidence/retention.html", lines=lines, rules=rules, now=now)


@bp.route("/contacts/<int:contact_id>/disposals", methods=["POST"])
@require_roles("legal")
def request_disposal(contact_id: int) -> Any:
    """Request the disposal of the contact's content; back to its page."""
    session = get_session()
    visible_contact(session, current_user, contact_id)
    form = DisposalForm(prefix="disposal")
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return _to_contact(contact_id)
    try:
        disposal.request_disposal(session=session, actor=current_user, contact_id=contact_id,
                                  reason=form.reason.data or "",
                                  decision_reference=form.decision_reference.data or "")
        session.commit()
    except SHOWN as refusal:
        session.rollback()
        flash(_("Not requested: %(reason)s", reason=refusal.message), "error")
        return _to_contact(contact_id)
    flash(_("The disposal is requested: another legal officer approves it."))
    return _to_contact(contact_id)


@bp.route("/disposals/<int:disposal_id>/approve", methods=["GET", "POST"])
@require_roles("legal")
def approve_disposal(disposal_id: int) -> Any:
    """The confirmation page of a disposal (what it removes, what stays); on POST the approval."""
    session = get_session()
    row = disposal.visible_disposal(session, current_user, disposal_id)
    form = ConfirmForm()
    error = None
    if request.method == "POST":
        if not form.validate_on_submit():
            error = _("The form expired; try again.")
        else:
            try:
                _state, files = disposal.approve_disposal(session=session, actor=current_user,
                                                          disposal_id=disposal_id)
                session.commit()
            except SHOWN as refusal:
                session.rollback()
                error = refusal.message
            else:
                disposal.remove_files(current_app._get_current_object(), files)  # type: ignore[attr-defined]
                flash(_("The content of contact %(id)s is disposed of under decision %(reference)s.",
                        id=row.contact_id, reference=row.decision_reference))
                return _to_contact(row.contact_id)
    state = disposal.state_of(session, row)
    items = disposal.pending_items(session, row.contact_id)
    names = codes.Officers(session)
    operation = session.get(Operation, row.operation_id)
    session.commit()
    return render_template("evidence/approve_disposal.html", state=state, items=items, form=form,
                           error=error, names=names, operation=operation), 400 if error else 200
