"""The initiative record on the contact page: the sheet panel, each message's annotations as badges, the
word list's suggestions, and the forms that annotate, retract, remark and decide a suggestion.

The routes are registered on the evidence blueprint (decoy/evidence/views.py imports this module), so
that a form's errors are shown on the contact page it came from, exactly as the message form's are.
Every change goes through decoy.initiative.annotations, which checks access and writes the audit entry;
a refusal the form can explain (400, 409) is shown on the page beside the message, NotFound and
Forbidden go to the error page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import Session
from werkzeug.wrappers import Response
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..access import Actor
from ..auth.principal import require_roles
from ..db import get_session
from ..errors import Forbidden, InvalidInput, RuleViolation
from ..evidence import display
from ..evidence.display import flag_text
from ..evidence.transcript import Page, usernames
from ..evidence.views import bp, render_contact
from ..models import MAX_ID, Contact, Message
from ..models.initiative import INCITEMENT_TOPICS, LEGAL, OFFICER, TOPICS, Annotation
from . import annotations, assessment, services
from .suggestions import WordListError, current_word_list

#: Each topic in words, in the order of the sheet.
TOPIC_TEXTS = {
    "age_stated": _l("Age stated"),
    "sexual_topic": _l("Sexual topic"),
    "meeting_proposed": _l("Meeting proposed"),
    "payment_offered": _l("Payment offered"),
    "image_requested": _l("Image requested"),
    "image_sent": _l("Image sent"),
}
#: The words of each message's part of the page, translated once per page (a hundred messages a page).
MESSAGE_WORDS = {
    "flags": _l("Flags"),
    "flag_key": _l("the flag as exports name it"),
    "error": _l("Error"),
    "annotations_of": _l("Annotations of message %(id)s"),
    "review_remark": _l("review remark"),
    "by": _l("by %(name)s"),
    "confirmed_suggestion": _l("confirmed suggestion"),
    "retracted_by": _l("retracted by %(name)s"),
    "retract": _l("Retract"),
    "annotation_id": _l("annotation %(id)s"),
    "suggestions_of": _l("Suggestions of the word list for message %(id)s (not findings)"),
    "suggested": _l("suggested"),
    "matched": _l("matched"),
    "pattern": _l("pattern"),
    "age_stated": _l("Age stated"),
    "confirm": _l("Confirm"),
    "dismiss": _l("Dismiss"),
    "annotate": _l("Annotate"),
    "add_remark": _l("Add a review remark"),
    "message_id": _l("message %(id)s"),
    "topic": _l("Topic"),
    "age_only": _l("Age (for “Age stated” only)"),
    "remark": _l("Remark"),
    "record_annotation": _l("Record annotation"),
    "record_remark": _l("Record review remark"),
    "import_id": _l("import %(id)s"),
    "time_read_in": _l("time read in %(zone)s"),
}
#: The arguments that say which page of the transcript a form was sent from (kept on the way back).
PAGE_ARGUMENTS = ("after", "before", "start", "marked")
#: Refusals a form shows on the page beside the message; NotFound and Forbidden go to the error page.
SHOWN = (InvalidInput, RuleViolation)


def message_words() -> dict[str, Any]:
    """MESSAGE_WORDS in the reader's language (those with a placeholder are filled in by the page), with
    every flag's name and meaning (``flag_names``, ``flag_texts``)."""
    words: dict[str, Any] = {name: str(text) for name, text in MESSAGE_WORDS.items()}
    words["flag_names"] = {name: str(text) for name, text in display.FLAG_NAMES.items()}
    words["flag_texts"] = {name: str(text) for name, text in display.FLAG_TEXTS.items()}
    return words


def topic_texts() -> dict[str, str]:
    """Each topic in the reader's language."""
    return {topic: str(text) for topic, text in TOPIC_TEXTS.items()}


def topic_text(topic: str) -> str:
    """A topic in the reader's language (the key itself when unknown)."""
    text = TOPIC_TEXTS.get(topic)
    return topic if text is None else str(text)


def flags_in_words(flags: list[str]) -> str:
    """Flags as their explanations, for a flash message."""
    return "; ".join(flag_text(name) or name for name in flags)


# --- what the page shows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstRaised:
    """One row of the sheet: who raised the topic first, when and in which message (None: nobody yet)."""

    topic: str
    by: str | None = None
    message_id: int | None = None
    at: datetime | None = None
    age: int | None = None

    @property
    def incitement(self) -> bool:
        """The decoy raised an incitement topic first: the question a court asks."""
        return self.by == "decoy" and self.topic in INCITEMENT_TOPICS


@dataclass(frozen=True)
class Badge:
    """An annotation of a message as the page shows it, with its retraction when there is one."""

    annotation: Annotation
    by: str
    retracted_by: str | None = None
    retracted_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.retracted_by is None


@dataclass(frozen=True)
class ShownSuggestion:
    """A suggestion of the word list, not a finding: the topic, the list's term, what matched, the age."""

    topic: str
    term: str
    matched: str
    pattern: bool
    age: int | None


@dataclass
class Panel:
    """The initiative record of the contact and of the messages of one transcript page."""

    capacity: str | None
    firsts: list[FirstRaised]
    age_to_meeting_seconds: int | None
    raised_first: list[str]
    annotation_count: int
    remarks: list[dict[str, Any]]
    contact_flags: list[str]
    badges: dict[int, list[Badge]] = field(default_factory=dict)
    suggestions: dict[int, list[ShownSuggestion]] = field(default_factory=dict)
    word_list_problem: str | None = None


def capacity_of(session: Session, actor: Actor, operation_id: int) -> str | None:
    """``officer``, ``legal`` or None (may read but not annotate)."""
    try:
        return annotations.capacity(session, actor, operation_id)
    except Forbidden:
        return None


def _firsts(topics: dict[str, Any]) -> list[FirstRaised]:
    rows = []
    for topic in TOPICS:
        first = topics.get(topic)
        if first is None:
            rows.append(FirstRaised(topic))
        else:
            rows.append(
                FirstRaised(
                    topic,
                    by=first["first_by"],
                    message_id=int(first["message_id"]),
                    at=datetime.fromisoformat(first["at"]),
                    age=first.get("age"),
                )
            )
    return rows


def _badges(session: Session, messages: list[Message]) -> dict[int, list[Badge]]:
    found = annotations.annotations_of(session, [m.id for m in messages if m.id is not None])
    rows = [row for listed in found.values() for row in listed]
    names = usernames(session, {row.annotated_by for row in rows})
    retraction = {row.retracts_id: row for row in rows if row.retracts_id is not None}
    badges: dict[int, list[Badge]] = {}
    for message_id, listed in found.items():
        for row in listed:
            if row.retracts_id is not None:
                continue  # shown on the annotation it retracts
            withdrawn = retraction.get(row.id)
            badges.setdefault(message_id, []).append(
                Badge(
                    row,
                    names.get(row.annotated_by, ""),
                    None if withdrawn is None else names.get(withdrawn.annotated_by, ""),
                    None if withdrawn is None else withdrawn.annotated_at,
                )
            )
    return badges


def _suggestions(
    session: Session, messages: list[Message], badges: dict[int, list[Badge]]
) -> tuple[dict[int, list[ShownSuggestion]], str | None]:
    """The word list's suggestions of each message that no officer has decided: not a topic an officer
    annotated the message with (and did not retract), not one dismissed for the message by that term."""
    try:
        word_list = current_word_list()
    except WordListError as error:
        return {}, str(error)
    spoken = [m for m in messages if m.direction in ("in", "out") and m.id is not None and m.body]
    dismissed = annotations.dismissals_of(session, [m.id for m in spoken])  # type: ignore[misc]
    shown: dict[int, list[ShownSuggestion]] = {}
    for message in spoken:
        annotated = {
            badge.annotation.topic
            for badge in badges.get(message.id, [])  # type: ignore[arg-type]
            if badge.active and badge.annotation.role == OFFICER
        }
        decided = {(row.topic, row.term) for row in dismissed.get(message.id, [])}  # type: ignore[arg-type]
        for found in word_list.suggest(message.body):
            if found.topic in annotated or (found.topic, found.term) in decided:
                continue
            shown.setdefault(message.id, []).append(  # type: ignore[arg-type]
                ShownSuggestion(
                    topic=found.topic,
                    term=found.term,
                    matched=message.body[found.start : found.end],
                    pattern=found.term.startswith("/") and found.term.endswith("/") and len(found.term) > 1,
                    age=found.age,
                )
            )
    return shown, None


def contact_panel(session: Session, actor: Actor, contact: Contact, page: Page) -> Panel:
    """The sheet, the remarks and the contact's flags now, and the badges and suggestions of the page."""
    sheet = services.read_sheet(session, actor, contact.id)  # type: ignore[arg-type]
    capacity = capacity_of(session, actor, contact.operation_id)
    panel = Panel(
        capacity=capacity,
        firsts=_firsts(sheet["topics"]),
        age_to_meeting_seconds=sheet["age_to_meeting_seconds"],
        raised_first=list(sheet["raised_first"]),
        annotation_count=int(sheet["annotations"]),
        remarks=list(sheet["remarks"]),
        contact_flags=assessment.contact_flags_now(session, [contact]).get(contact.id, []),  # type: ignore[arg-type]
    )
    panel.badges = _badges(session, page.messages)
    if capacity == OFFICER:
        panel.suggestions, panel.word_list_problem = _suggestions(session, page.messages, panel.badges)
    return panel


def duration_text(seconds: int | None) -> str:
    """A length of time in days, hours, minutes and seconds (of a negative time, its length)."""
    if seconds is None:
        return ""
    left = abs(seconds)
    days, left = divmod(left, 86_400)
    hours, left = divmod(left, 3_600)
    minutes, left = divmod(left, 60)
    if days:
        return _(
            "%(days)d d %(hours)d h %(minutes)d min %(seconds)d s",
            days=days,
            hours=hours,
            minutes=minutes,
            seconds=left,
        )
    return _("%(hours)d h %(minutes)d min %(seconds)d s", hours=hours, minutes=minutes, seconds=left)


def page_arguments() -> dict[str, str]:
    """The page of the transcript the request names (by the query string), to come back to."""
    found = {}
    for name in PAGE_ARGUMENTS:
        value = request.args.get(name, "")
        if value.isdigit() and len(value) <= 10:
            found[name] = value
    return found


def page_query() -> str:
    """The query string of page_arguments (with its ``?``), for the forms' addresses; empty for none."""
    found = page_arguments()
    return f"?{urlencode(found)}" if found else ""


# --- the forms ------------------------------------------------------------------------------------------


class AnnotationForm(FlaskForm):
    """An annotation of a message, a review remark, the retraction of either, or a confirmed suggestion.

    The page writes the fields of each message's form itself (ids that name the message); this class
    reads and checks what comes back."""

    topic = SelectField(
        _l("Topic"),
        choices=[SelectChoice(topic, TOPIC_TEXTS[topic]) for topic in TOPICS],
        validators=[InputRequired()],
    )
    age = IntegerField(
        _l("Age stated"),
        validators=[Optional(), NumberRange(min=annotations.MIN_AGE, max=annotations.MAX_AGE)],
    )
    remark = TextAreaField(_l("Remark"), validators=[Optional(), Length(max=annotations.MAX_REMARK)])
    retracts = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    suggested_term = StringField(validators=[Optional(), Length(max=annotations.MAX_TERM)])


class DismissalForm(FlaskForm):
    """The dismissal of a suggestion of the word list."""

    topic = SelectField(
        _l("Topic"),
        choices=[SelectChoice(topic, TOPIC_TEXTS[topic]) for topic in TOPICS],
        validators=[InputRequired()],
    )
    term = StringField(_l("Term"), validators=[InputRequired(), Length(max=annotations.MAX_TERM)])


def _form_problem(form: FlaskForm) -> str:
    """The first problem of a form that did not validate, in words."""
    for name, problems in form.errors.items():
        if name == "csrf_token":
            return _("The form expired; try again.")
        if problems:
            label = getattr(getattr(form, name, None), "label", None)
            text = label.text if label is not None and label.text else name
            return f"{text}: {problems[0]}"
    return _("The form expired; try again.")


def _contact_of(session: Session, message: Message) -> Contact:
    found = session.get(Contact, message.contact_id)
    assert found is not None  # noqa: S101 - a message's contact exists (foreign key)
    return found


def _refused(contact: Contact, message_id: int, status: int, problem: str, form: FlaskForm | None) -> Any:
    """The page the form came from again, with the problem beside the message, and its status."""
    get_session().rollback()
    return render_contact(
        contact, status=status, annotation_error=problem, annotation_message=message_id, annotation_form=form
    )


def _back(contact_id: int, message_id: int) -> Response:
    return redirect(
        url_for("evidence.contact", contact_id=contact_id, **page_arguments(), _anchor=f"m{message_id}")
    )


@bp.route("/messages/<int:message_id>/annotations", methods=["POST"])
@require_roles()
def annotate_message(message_id: int) -> Any:
    """Annotate a message (an officer), add a review remark (a legal officer), retract either, or
    confirm a suggestion; then back to the same page of the transcript, at the message."""
    session = get_session()
    # Who may annotate is known before the form is read: an outsider (or an admin) gets 404.
    message, role = annotations.require_annotator(session, current_user, message_id)
    contact = _contact_of(session, message)
    form = AnnotationForm()
    if not form.validate_on_submit():
        return _refused(contact, message_id, 400, _form_problem(form), form)
    retracts = form.retracts.data
    try:
        done = annotations.annotate(
            session=session,
            actor=current_user,
            message_id=message_id,
            topic=form.topic.data,
            age=form.age.data,
            retracts=retracts,
            remark=form.remark.data or "",
            suggested_term=form.suggested_term.data or None,
        )
        flags = None if done.assessment is None else list(done.assessment.flags)
        session.commit()
    except SHOWN as refusal:
        return _refused(contact, message_id, refusal.status, refusal.message, form)
    topic = topic_text(done.annotation.topic)
    if retracts is not None:
        flash(
            _(
                "Annotation %(id)s retracted (%(topic)s, message %(message)s).",
                id=retracts,
                topic=topic,
                message=message_id,
            )
        )
    elif role == LEGAL:
        flash(_("Review remark recorded on message %(message)s: %(topic)s.", message=message_id, topic=topic))
    elif done.annotation.suggested_term is not None:
        flash(
            _("Suggestion confirmed: message %(message)s carries %(topic)s.", message=message_id, topic=topic)
        )
    else:
        flash(_("Message %(message)s annotated: %(topic)s.", message=message_id, topic=topic))
    if flags is not None:
        if flags:
            flash(_("The contact was assessed again. Its flags now: %(flags)s.", flags=flags_in_words(flags)))
        else:
            flash(_("The contact was assessed again. It has no initiative flag now."))
    return _back(contact.id, message_id)  # type: ignore[arg-type]


@bp.route("/messages/<int:message_id>/suggestions/dismissals", methods=["POST"])
@require_roles()
def dismiss_suggestion(message_id: int) -> Any:
    """Dismiss a suggestion of the word list for this message (recorded: it stays no finding)."""
    session = get_session()
    message, role = annotations.require_annotator(session, current_user, message_id)
    if role != OFFICER:
        raise Forbidden(_("only the operation's detectives and supervisors decide a suggestion"))
    contact = _contact_of(session, message)
    form = DismissalForm()
    if not form.validate_on_submit():
        return _refused(contact, message_id, 400, _form_problem(form), None)
    try:
        annotations.dismiss(
            session=session,
            actor=current_user,
            message_id=message_id,
            topic=form.topic.data,
            term=form.term.data or "",
        )
        session.commit()
    except SHOWN as refusal:
        return _refused(contact, message_id, refusal.status, refusal.message, None)
    flash(
        _(
            "Suggestion dismissed: message %(message)s, %(topic)s.",
            message=message_id,
            topic=topic_text(form.topic.data or ""),
        )
    )
    return _back(contact.id, message_id)  # type: ignore[arg-type]
