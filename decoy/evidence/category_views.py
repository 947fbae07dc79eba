"""A contact's category on its page (with its history and the form that changes it), the suspect's
notification register there, and the register's list on the legal officer's home page.

The panels are template globals read while the pages render, as the journal is; the forms post to
routes of the evidence blueprint and come back to the contact page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from .. import clock
from ..auth.principal import require_roles
from ..db import get_session
from ..disclosure import codes
from ..errors import Forbidden, InvalidInput, RuleViolation
from ..models import CATEGORIES, Contact, ContactCategoryChange, Operation, SuspectNotification
from ..orders import notification_register
from . import categories
from .views import bp

READERS = ("detective", "supervisor", "legal")
SHOWN = (InvalidInput, RuleViolation)
CATEGORY_WORDS = {
    "unknown": _l("unknown"),
    "suspect": _l("suspect"),
    "non_suspect": _l("not a suspect"),
    "real_minor": _l("a real minor"),
    "presumed_victim": _l("a presumed victim"),
}


class CategoryForm(FlaskForm):
    """A contact's new category and why."""

    category = SelectField(
        _l("Category"), choices=[SelectChoice(name, CATEGORY_WORDS[name]) for name in CATEGORIES]
    )
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=categories.MAX_REASON)])


class NotificationForm(FlaskForm):
    """A suspect's notification or its postponement."""

    kind = SelectField(_l("Record"), choices=[
        SelectChoice("notified", _l("the person was notified")),
        SelectChoice("postponed", _l("notification is postponed")),
    ])
    at = StringField(_l("When notified, or postponed until (YYYY-MM-DD HH:MM, the operation's time zone)"),
                     validators=[Optional(), Length(max=40)])
    note = TextAreaField(_l("How the person was notified, or why it is postponed"),
                         validators=[Optional(), Length(max=notification_register.MAX_NOTE)])


@dataclass(frozen=True)
class ShownChange:
    change: ContactCategoryChange
    by: str


@dataclass
class CategoryPanel:
    """A contact's category, its history, the notification records of a suspect, and the forms."""

    category: str
    history: list[ShownChange]
    records: list[tuple[SuspectNotification, str]]
    form: CategoryForm | None
    notification_form: NotificationForm | None


def contact_category(contact: Contact) -> CategoryPanel:
    """The category section of the contact page."""
    session = get_session()
    begun_here = not session.in_transaction()
    officers = codes.Officers(session)
    history = categories.history(session, contact.id)  # type: ignore[arg-type]
    current = history[-1].category if history else categories.DEFAULT_CATEGORY
    records = [
        (record, officers(record.recorded_by, record.recorded_at) or "")
        for record in session.exec(
            notification_register.records_query(contact.id)  # type: ignore[arg-type]
        ).all()
    ]
    may = categories.may_categorise(session, current_user, contact.operation_id)
    legal = current_user.has_role("legal")
    panel = CategoryPanel(
        category=current,
        history=[ShownChange(c, officers(c.changed_by, c.changed_at) or "") for c in history],
        records=records,
        form=CategoryForm(formdata=None, category=current) if may else None,
        notification_form=NotificationForm(formdata=None) if legal and current == "suspect" else None,
    )
    if begun_here:
        session.commit()
    return panel


def category_word(name: str) -> str:
    """A category in the reader's language."""
    return str(CATEGORY_WORDS.get(name, name))


def notifications_due() -> list[notification_register.RegisterLine]:
    """The suspects whose notification is due, for the legal officer's home page."""
    session = get_session()
    begun_here = not session.in_transaction()
    now = clock.now()
    lines = [line for line in notification_register.register(session, current_user) if line.is_due(now)]
    if begun_here:
        session.commit()
    return lines


bp.add_app_template_global(contact_category, "contact_category")
bp.add_app_template_global(category_word, "category_word")
bp.add_app_template_global(notifications_due, "notifications_due")


def _back(contact_id: int) -> Any:
    return redirect(url_for("evidence.contact", contact_id=contact_id, _anchor="category"))


@bp.route("/contacts/<int:contact_id>/category", methods=["POST"])
@require_roles(*READERS)
def change_category(contact_id: int) -> Any:
    """Change the contact's category; back to its page."""
    session = get_session()
    contact = categories.visible_contact(session, current_user, contact_id)
    if not categories.may_categorise(session, current_user, contact.operation_id):
        raise Forbidden(_("only the operation's detectives and supervisors, and legal officers, change a "
                          "contact's category"))
    form = CategoryForm()
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return _back(contact_id)
    try:
        categories.change_category(session=session, actor=current_user, contact_id=contact_id,
                                   category=form.category.data or "", reason=form.reason.data or "")
        session.commit()
    except SHOWN as refusal:
        session.rollback()
        flash(_("Not changed: %(reason)s", reason=refusal.message))
        return _back(contact_id)
    flash(_("The contact's category is now: %(category)s.", category=category_word(form.category.data or "")))
    return _back(contact_id)


@bp.route("/contacts/<int:contact_id>/suspect-notifications", methods=["POST"])
@require_roles(*READERS)
def record_notification(contact_id: int) -> Any:
    """Record a suspect's notification or its postponement; back to the contact page."""
    session = get_session()
    contact = categories.visible_contact(session, current_user, contact_id)
    if not current_user.has_role("legal"):
        raise Forbidden(_("only a legal officer records notifications (art. 126bb Sv)"))
    operation = session.get(Operation, contact.operation_id)
    form = NotificationForm()
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return _back(contact_id)
    try:
        at: datetime = clock.parse_typed_timestamp(form.at.data, operation.timezone, "at")  # type: ignore[union-attr]
        notification_register.record_notification(
            session=session, actor=current_user, contact_id=contact_id, kind=form.kind.data or "", at=at,
            note=form.note.data or "",
        )
        session.commit()
    except SHOWN as refusal:
        session.rollback()
        flash(_("Not recorded: %(reason)s", reason=refusal.message), "error")
        return _back(contact_id)
    flash(_("Recorded in the notification register."))
    return _back(contact_id)
