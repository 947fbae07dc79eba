"""Disclosure classes and the internal journal on the contact and operation pages.

The contact page shows the journal beside the transcript (its notes newest first, and the form that adds
one for the operation's detectives and supervisors), the class of the contact, of each message and of each
attachment when it is not its kind's default, and, for legal officers, the small form that decides the
class of any of them or of a note. The operation page shows the operation's journal the same way
(``operation_journal``, a template global). The routes are registered on the evidence blueprint
(decoy/evidence/views.py imports this module), so that a form's refusal (400, 409) is shown on the page
it came from; NotFound and Forbidden go to the error page. Every change goes through
decoy.disclosure.classes and decoy.disclosure.journal, which check access and write the audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import Session
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from ..access import Actor
from ..auth.principal import require_roles
from ..db import get_session
from ..errors import InvalidInput, RuleViolation
from ..evidence.transcript import Page
from ..evidence.views import bp, render_contact
from ..initiative.views import page_arguments
from ..models import Contact, Message, Operation, User
from ..models.disclosure import CLASSES, DEFAULT_CLASS, DisclosureDecision, JournalNote
from ..operations.views import render_overview
from . import classes, journal

#: Each class in words, as a choice of the legal officers' form.
CLASS_TEXTS = {
    "case_file": _l("case file (disclosed)"),
    "journal": _l("journal (internal, never disclosed)"),
    "withheld": _l("withheld (listed by hash, content absent)"),
    "sensitive": _l("sensitive (never exported, hash only)"),
}
#: How many notes a page shows (the API pages through the rest).
NOTES_SHOWN = 50
#: Refusals a form shows on the page it came from; NotFound and Forbidden go to the error page.
SHOWN = (InvalidInput, RuleViolation)
_REFUSAL = "disclosure_refusal"


def class_label(decision: DisclosureDecision | None) -> str | None:
    """The item's class in words when a decision made it other than its kind's default, else None."""
    if decision is None or decision.disclosure_class == DEFAULT_CLASS.get(decision.item_kind):
        return None
    if decision.disclosure_class == "withheld":
        return str(
            _(
                "withheld (%(ground)s, ref %(reference)s)",
                ground=decision.ground or "",
                reference=decision.decision_reference or "",
            )
        )
    words = {"case_file": _("case file"), "journal": _("journal"), "sensitive": _("sensitive")}
    return str(words.get(decision.disclosure_class, decision.disclosure_class))


def officer_name(user: User | None) -> str:
    """An officer as Decoy shows them inside: their display name, else their username."""
    if user is None:
        return ""
    return user.display_name or user.username


@dataclass(frozen=True)
class Refusal:
    """A form's refusal, shown beside the item it was about (``kind`` and ``item_id``; ``note-form`` for
    the journal's form), with what was sent."""

    kind: str
    item_id: int
    message: str
    sent: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ShownNote:
    """A note as the journal shows it, with who wrote it."""

    note: JournalNote
    by: str


@dataclass
class Panel:
    """The journal and the disclosure classes of one page (a contact's, or an operation's)."""

    operation: Operation
    contact_id: int | None
    notes: list[ShownNote]
    more_notes: bool
    may_write: bool
    may_decide: bool
    decisions: dict[tuple[str, int], DisclosureDecision]
    refusal: Refusal | None = None
    class_texts: dict[str, str] = field(default_factory=dict)

    def label(self, kind: str, item_id: int | None) -> str | None:
        """The item's class in words when it is not its kind's default."""
        return class_label(self.decisions.get((kind, item_id or 0)))

    def current(self, kind: str, item_id: int | None) -> str:
        """The item's class now."""
        found = self.decisions.get((kind, item_id or 0))
        return DEFAULT_CLASS[kind] if found is None else found.disclosure_class

    def action(self, kind: str, item_id: int | None) -> str:
        """The address of the form that decides the item's class."""
        values: dict[str, Any] = {f"{kind}_id": item_id}
        return url_for(f"evidence.decide_{kind}", **values)

    def item_words(self, kind: str, item_id: int | None) -> str:
        """The item in words ("message 12")."""
        return _item_words(kind, item_id or 0)

    def refused(self, kind: str, item_id: int | None) -> Refusal | None:
        """The refusal of the form about this item, when the page shows one."""
        found = self.refusal
        return found if found is not None and (found.kind, found.item_id) == (kind, item_id or 0) else None


def _decided(session: Session, wanted: dict[str, list[int]]) -> dict[tuple[str, int], DisclosureDecision]:
    found: dict[tuple[str, int], DisclosureDecision] = {}
    for kind, ids in wanted.items():
        if ids:
            for item_id, decision in classes.classes_of(session, kind, ids).items():
                found[(kind, item_id)] = decision
    return found


def _panel(
    session: Session, actor: Actor, operation: Operation, contact_id: int | None, wanted: dict[str, list[int]]
) -> Panel:
    rows = journal.notes_of(session, actor, operation.id or 0, contact_id, limit=NOTES_SHOWN + 1)
    more, rows = len(rows) > NOTES_SHOWN, rows[:NOTES_SHOWN]
    wanted = {**wanted, "note": [row.id for row in rows if row.id is not None]}
    decisions = _decided(session, wanted)
    writers = journal.authors(session, rows)
    notes = [ShownNote(row, officer_name(writers.get(row.written_by))) for row in rows]
    may_decide = actor.has_role("legal")
    return Panel(
        operation=operation,
        contact_id=contact_id,
        notes=notes,
        more_notes=more,
        may_write=journal.may_write(session, actor, operation.id or 0),
        may_decide=may_decide,
        decisions=decisions,
        refusal=g.get(_REFUSAL),
        class_texts={name: str(CLASS_TEXTS[name]) for name in CLASSES} if may_decide else {},
    )


def contact_panel(session: Session, actor: Actor, contact: Contact, page: Page) -> Panel:
    """The contact's journal and the classes of the contact and of the page's messages and attachments."""
    operation = session.get(Operation, contact.operation_id)
    assert operation is not None  # noqa: S101 - a contact's operation exists (foreign key)
    wanted = {
        "contact": [contact.id or 0],
        "message": [m.id for m in page.messages if m.id is not None],
        "attachment": [a.id for files in page.attachments.values() for a in files if a.id is not None],
    }
    return _panel(session, actor, operation, contact.id, wanted)


def operation_journal(operation: Operation) -> Panel:
    """The operation's journal for its page (its own notes and its contacts', newest first)."""
    session = get_session()
    # Called while the page renders: a transaction begun here for these reads alone ends here, so that
    # it holds no lock (SQLite begins every transaction IMMEDIATE) while the rest of the page renders.
    begun_here = not session.in_transaction()
    panel = _panel(session, current_user, operation, None, {})
    if begun_here:
        session.commit()
    return panel


bp.add_app_template_global(operation_journal, "operation_journal")


# --- the forms ------------------------------------------------------------------------------------------


class NoteForm(FlaskForm):
    """A note in the journal."""

    body = TextAreaField(_l("Note"), validators=[InputRequired(), Length(max=journal.MAX_BODY)])


class DecisionForm(FlaskForm):
    """A legal officer's decision of an item's class."""

    disclosure_class = SelectField(
        _l("Class"),
        choices=[SelectChoice(name, CLASS_TEXTS[name]) for name in CLASSES],
        validators=[InputRequired()],
    )
    ground = StringField(_l("Legal ground"), validators=[Optional(), Length(max=classes.MAX_GROUND)])
    decision_reference = StringField(
        _l("Decision reference"), validators=[Optional(), Length(max=classes.MAX_REFERENCE)]
    )
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=classes.MAX_REASON)])


def _form_problem(form: FlaskForm) -> str:
    """The first problem of a form that did not validate, in words."""
    for name, problems in form.errors.items():
        if name == "csrf_token":
            return str(_("The form expired; try again."))
        if problems:
            label = getattr(getattr(form, name, None), "label", None)
            text = label.text if label is not None and label.text else name
            return f"{text}: {problems[0]}"
    return str(_("The form expired; try again."))


def _sent(form: FlaskForm) -> dict[str, str]:
    return {name: str(value or "") for name, value in form.data.items() if name != "csrf_token"}


def _contact_of(session: Session, kind: str, item: Any) -> Contact | None:
    """The contact whose page shows the item (None: a note on the operation itself)."""
    if kind == "contact":
        return item  # type: ignore[no-any-return]
    if kind == "attachment":
        item = session.get(Message, item.message_id)
    contact_id = item.contact_id
    return None if contact_id is None else session.get(Contact, contact_id)


def _anchor(kind: str, item: Any) -> str:
    """Where on its page the item is."""
    if kind == "message":
        return f"m{item.id}"
    if kind == "attachment":
        return f"m{item.message_id}"
    if kind == "note":
        return f"note-{item.id}"
    return "disclosure-contact"


def _refused(
    session: Session, operation_id: int, contact: Contact | None, status: int, refusal: Refusal
) -> Any:
    """The page the form came from again, with the refusal beside the item, and its status."""
    session.rollback()
    setattr(g, _REFUSAL, refusal)  # read by the page's panel (_panel)
    if contact is not None:
        return render_contact(contact, status=status)
    operation = session.get(Operation, operation_id)
    assert operation is not None  # noqa: S101 - the item's operation exists (foreign key)
    return render_overview(operation, status)


def _back(kind: str, item: Any, contact: Contact | None) -> Response:
    anchor = _anchor(kind, item)
    if contact is None:
        return redirect(url_for("operations.overview", operation_id=item.operation_id, _anchor=anchor))
    values: dict[str, Any] = {"contact_id": contact.id, **page_arguments(), "_anchor": anchor}
    return redirect(url_for("evidence.contact", **values))


def _decide(kind: str, item_id: int) -> Any:
    session = get_session()
    # Who may decide is known before the form is read: an outsider gets 404, anyone but a legal officer 403.
    item = classes.require_decider(session, current_user, kind, item_id)
    contact = _contact_of(session, kind, item)
    operation_id = item.operation_id
    form = DecisionForm()
    if not form.validate_on_submit():
        refusal = Refusal(kind, item_id, _form_problem(form), _sent(form))
        return _refused(session, operation_id, contact, 400, refusal)
    try:
        decision = classes.decide(
            session,
            actor=current_user,
            kind=kind,
            item_id=item_id,
            disclosure_class=form.disclosure_class.data or "",
            ground=form.ground.data,
            decision_reference=form.decision_reference.data,
            reason=form.reason.data or "",
        )
        session.commit()
    except SHOWN as refusal:
        shown = Refusal(kind, item_id, refusal.message, _sent(form))
        return _refused(session, operation_id, contact, refusal.status, shown)
    flash(
        _(
            "Decision recorded: %(item)s is now %(class_)s.",
            item=_item_words(kind, item_id),
            class_=str(CLASS_TEXTS[decision.disclosure_class]),
        )
    )
    return _back(kind, item, contact)


def _item_words(kind: str, item_id: int) -> str:
    return str({
        "contact": _("contact %(id)s", id=item_id),
        "message": _("message %(id)s", id=item_id),
        "attachment": _("attachment %(id)s", id=item_id),
        "note": _("note %(id)s", id=item_id),
    }[kind])


@bp.route("/contacts/<int:contact_id>/disclosure", methods=["POST"])
@require_roles()
def decide_contact(contact_id: int) -> Any:
    """A legal officer decides the class of the contact; back to its page."""
    return _decide("contact", contact_id)


@bp.route("/messages/<int:message_id>/disclosure", methods=["POST"])
@require_roles()
def decide_message(message_id: int) -> Any:
    """A legal officer decides the class of a message; back to the page, at the message."""
    return _decide("message", message_id)


@bp.route("/attachments/<int:attachment_id>/disclosure", methods=["POST"])
@require_roles()
def decide_attachment(attachment_id: int) -> Any:
    """A legal officer decides the class of an attachment; back to the page, at its message."""
    return _decide("attachment", attachment_id)


@bp.route("/notes/<int:note_id>/disclosure", methods=["POST"])
@require_roles()
def decide_note(note_id: int) -> Any:
    """A legal officer decides the class of a journal note; back to the page that shows it."""
    return _decide("note", note_id)


def _write(operation_id: int, contact: Contact | None) -> Any:
    session = get_session()
    form = NoteForm()
    if not form.validate_on_submit():
        refusal = Refusal("note-form", 0, _form_problem(form), _sent(form))
        return _refused(session, operation_id, contact, 400, refusal)
    try:
        note = journal.write(
            session,
            actor=current_user,
            operation_id=operation_id,
            contact_id=None if contact is None else contact.id,
            body=form.body.data or "",
        )
        session.commit()
    except SHOWN as refusal:
        shown = Refusal("note-form", 0, refusal.message, _sent(form))
        return _refused(session, operation_id, contact, refusal.status, shown)
    flash(_("Note %(id)s added to the journal.", id=note.id))
    return _back("note", note, contact)


@bp.route("/contacts/<int:contact_id>/journal", methods=["POST"])
@require_roles()
def write_contact_note(contact_id: int) -> Any:
    """An officer of the operation adds a note on the contact; back to its page, at the journal."""
    session = get_session()
    contact = journal.visible_contact(session, current_user, contact_id)
    journal.require_writer(session, current_user, contact.operation_id, contact_id)
    return _write(contact.operation_id, contact)


@bp.route("/operations/<int:operation_id>/journal", methods=["POST"])
@require_roles()
def write_operation_note(operation_id: int) -> Any:
    """An officer of the operation adds a note to its journal; back to the operation's page."""
    journal.require_writer(get_session(), current_user, operation_id)
    return _write(operation_id, None)
