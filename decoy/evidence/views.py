"""Pages of contacts, messages and attachments: the transcript, the quick log form, search."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import access, clock
from ..auth.principal import require_roles
from ..capture import display as capture_display
from ..db import get_session
from ..errors import DecoyError, InvalidInput, RuleViolation
from ..imports import display as import_display
from ..models import MAX_ID, Contact, Operation, Profile
from . import display, downloads, reading, services, transcript
from .forms import ContactForm, MessageForm

bp = Blueprint("evidence", __name__)
READERS = ("detective", "supervisor", "legal")
ID = "int"
PAGE = 100
#: Messages on a page of the contact's transcript: each comes with its times, flags, annotations and the
#: forms to annotate it, so fifty make a page that is quick to serve and to read through.
TRANSCRIPT_PAGE = 50

bp.add_app_template_filter(display.visible, "visible")
bp.add_app_template_filter(display.visible_plain, "visible_plain")
bp.add_app_template_global(display.platform_time, "platform_time")
bp.add_app_template_global(display.flag_text, "flag_text")
bp.add_app_template_global(display.flag_name, "flag_name")


def _optional_int(name: str, minimum: int = 1) -> int | None:
    value = request.args.get(name, "")
    if value == "":
        return None
    if not value.isdigit() or not minimum <= int(value) <= MAX_ID:
        raise InvalidInput(_("%(field)s must be a message number", field=name), field=name)
    return int(value)


def _now_with_offset(operation: Operation) -> str:
    return clock.typed_time(clock.now(), operation.timezone)


def _capture_session_choice(form: MessageForm) -> int | None:
    """The capture session chosen in the message form (None for none)."""
    value = form.capture_session.data or ""
    if value == "":
        return None
    if not value.isdigit() or len(value) > 10:
        raise InvalidInput(_("Choose a capture session from the list."), field="capture_session")
    return int(value)


def _marked() -> bool:
    """Whether the page shows only the messages annotated or flagged (``?marked=1``)."""
    value = request.args.get("marked", "")
    if value in ("", "0"):
        return False
    if value != "1":
        raise InvalidInput(_("marked must be 1 or left out"), field="marked")
    return True


def render_contact(
    contact: Contact,
    form: MessageForm | None = None,
    status: int = 200,
    error: str | None = None,
    *,
    annotation_error: str | None = None,
    annotation_message: int | None = None,
    annotation_form: Any = None,
) -> Any:
    """The contact's page at the transcript page the query string names (``after``, ``start``,
    ``before``, ``marked``); ``error`` belongs to the message form, ``annotation_error`` to the forms of
    message ``annotation_message`` (whose sent values ``annotation_form`` holds)."""
    session = get_session()
    form = form if form is not None else MessageForm(formdata=None)
    # The caller has checked that the contact is visible, so a hidden one is 404 whatever the arguments.
    before = _optional_int("before", minimum=0)
    marked = _marked()
    read = reading.read_transcript_page(
        session=session,
        actor=current_user,
        contact_id=contact.id,  # type: ignore[arg-type]
        after=_optional_int("after"),
        start=_optional_int("start"),
        before=before,
        limit=TRANSCRIPT_PAGE,
        marked=marked,
    )
    operation = session.get(Operation, contact.operation_id)
    profile = session.get(Profile, contact.profile_id)
    assert profile is not None  # noqa: S101 - a contact's profile exists (foreign key)
    capture = capture_display.panel(session, current_user, profile, operation.timezone if operation else None)
    imports, more_imports = import_display.contact_imports(session, contact.id)  # type: ignore[arg-type]
    initiative = initiative_pages.contact_panel(session, current_user, read.contact, read.page)
    disclosure = disclosure_pages.contact_panel(session, current_user, read.contact, read.page)
    reports = report_pages.contact_panel(session, current_user, read.contact)
    session.commit()
    may_log = current_user.has_role("detective", "supervisor") and access.is_member(
        session, current_user, contact.operation_id
    )
    if not form.sent_at.data and operation is not None:
        form.sent_at.data = _now_with_offset(operation)
    form.capture_session.choices = capture.choices
    if form.capture_session.data is None:
        form.capture_session.data = capture.default
    html = render_template(
        "evidence/contact.html",
        contact=read.contact,
        operation=operation,
        profile=profile,
        page=read.page,
        names=read.usernames,
        form=form,
        may_log=may_log,
        error=error,
        capture=capture,
        imports=imports,
        more_imports=more_imports,
        marked=marked,
        page_query=initiative_pages.page_query(),
        initiative=initiative,
        topics=initiative_pages.topic_texts(),
        words=initiative_pages.message_words(),
        duration_text=initiative_pages.duration_text,
        annotation_error=annotation_error,
        annotation_message=annotation_message,
        annotation_form=annotation_form,
        disclosure=disclosure,
        reports=reports,
        # Each import's page once, however many of the page's messages it brought.
        import_links={
            number: url_for("imports.import_page", import_id=number)
            for number in {m.import_id for m in read.page.messages if m.import_id}
        },
    )
    return html, status


@bp.route(f"/contacts/<{ID}:contact_id>", methods=["GET", "POST"])
@require_roles(*READERS)
def contact(contact_id: int) -> Any:
    """The conversation: transcript in order, flags, officers, times, attachments, and the quick form,
    which posts to this page so that its errors are shown here, at the same address."""
    if request.method == "POST":
        return log_message(contact_id)
    contact = reading.visible_contact(get_session(), current_user, contact_id)
    return render_contact(contact)


@bp.route(f"/contacts/<{ID}:contact_id>/messages", methods=["POST"])
@require_roles(*READERS)
def log_message(contact_id: int) -> Any:
    """Record the next message from the quick form."""
    session = get_session()
    contact = reading.visible_contact(session, current_user, contact_id)
    services.require_logger(session, current_user, contact.operation_id)
    form = MessageForm()
    if not form.validate_on_submit():
        return render_contact(contact, form, 400)
    operation = session.get(Operation, contact.operation_id)
    try:
        sent_at = clock.parse_typed_timestamp(form.sent_at.data, operation.timezone if operation else "UTC",
                                              "sent_at")
        files = [(f.stream, f.filename or "") for f in form.attachments.data or [] if f and f.filename]
        message = services.log_message(
            session=session,
            actor=current_user,
            contact_id=contact_id,
            direction=form.direction.data,
            sent_at=sent_at,
            body=form.body.data or "",
            corrects_id=form.corrects.data,
            files=files,
            capture_session_id=_capture_session_choice(form),
        )
        session.commit()
    except (InvalidInput, RuleViolation) as error:
        session.rollback()
        field = getattr(form, error.field or "", None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, error.message]
        return render_contact(contact, form, error.status, error=error.message)
    if message.flags:
        flash(_("Message %(id)s recorded. It is flagged: %(flags)s.", id=message.id,
                flags="; ".join(display.flag_name(name) for name in message.flags)), "warning")
    else:
        flash(_("Message %(id)s recorded.", id=message.id))
    # Back at the newest messages, with the quick form ready for the next one (its first field has the focus;
    # no fragment in the address, since a browser gives no element the focus of autofocus on a page opened
    # at a fragment).
    return redirect(url_for("evidence.contact", contact_id=contact_id, before=0, logged=message.id))


@bp.route(f"/messages/<{ID}:message_id>")
@require_roles(*READERS)
def message(message_id: int) -> Response:
    """A message in its transcript (corrections link here)."""
    found = reading.visible_message(get_session(), current_user, message_id)
    return redirect(
        url_for("evidence.contact", contact_id=found.contact_id, start=found.id, _anchor=f"m{found.id}")
    )


@bp.route(f"/profiles/<{ID}:profile_id>/contacts", methods=["GET", "POST"])
@require_roles(*READERS)
def profile_contacts(profile_id: int) -> Any:
    """A profile's contacts, and the form to record a new one: "first seen" is typed in the one pattern of
    the forms, prefilled with now in the operation's zone."""
    session = get_session()
    profile = reading.visible_profile(session, current_user, profile_id)
    operation = session.get(Operation, profile.operation_id)
    zone_name = operation.timezone if operation else "UTC"
    form = ContactForm()
    error = None
    status = 200
    if request.method == "POST":
        services.require_logger(session, current_user, profile.operation_id)
        if form.validate_on_submit():
            try:
                first_seen = clock.parse_optional_typed_timestamp(
                    form.first_seen_at.data, zone_name, "first_seen_at"
                )
                created = services.create_contact(
                    session=session,
                    actor=current_user,
                    profile_id=profile_id,
                    counterpart=form.counterpart.data or "",
                    first_seen_at=first_seen,
                )
                session.commit()
                return redirect(url_for("evidence.contact", contact_id=created.id))
            except DecoyError as failure:
                session.rollback()
                error, status = failure.message, failure.status
                shown_at = getattr(form, failure.field or "", None)
                if shown_at is not None and hasattr(shown_at, "errors") and failure.field != "csrf_token":
                    shown_at.errors = [*shown_at.errors, failure.message]
        else:
            status = 400
    else:
        form.first_seen_at.data = clock.typed_time(clock.now(), zone_name)
    listed = reading.read_contacts(
        session=session,
        actor=current_user,
        profile_id=profile_id,
        after=_optional_int("after", minimum=0),
        limit=PAGE,
    )
    capture = capture_display.panel(session, current_user, profile, operation.timezone if operation else None)
    session.commit()
    may_log = current_user.has_role("detective", "supervisor") and access.is_member(
        session, current_user, profile.operation_id
    )
    return render_template(
        "evidence/profile_contacts.html",
        profile=profile,
        operation=operation,
        contacts=listed.contacts,
        flagged=transcript.flagged_counts(session, listed.contacts),
        names=listed.usernames,
        form=form,
        may_log=may_log,
        error=error,
        next_after=listed.contacts[-1].id if listed.more else None,
        capture=capture,
    ), status


@bp.route(f"/attachments/<{ID}:attachment_id>")
@require_roles(*READERS)
def attachment(attachment_id: int) -> Response:
    """Download an attachment (never shown inline)."""
    return downloads.download(get_session(), current_user, attachment_id)


@bp.route("/search")
@require_roles(*READERS)
def search_page() -> Any:
    """Search counterparts and message text in the operations the user may see."""
    query = request.args.get("q", "")
    results = None
    error = None
    status = 200
    if query:
        session = get_session()
        try:
            results = reading.search_evidence(session=session, actor=current_user, query=query)
            session.commit()
        except InvalidInput as failure:
            error, status = failure.message, 400
    return render_template("evidence/search.html", query=query, results=results, error=error), status


# The initiative record's forms post to routes of this blueprint, defined beside the panel they serve
# (as do the disclosure classes' and the journal's).
from ..disclosure import report_views as report_pages  # noqa: E402
from ..disclosure import views as disclosure_pages  # noqa: E402
from ..initiative import views as initiative_pages  # noqa: E402
from ..retention import views as retention_pages  # noqa: E402,F401  (legal holds, outcomes, retention)
from ..safeguarding import views as safeguarding_pages  # noqa: E402,F401  (safeguarding, sensitive material)
from . import category_views  # noqa: E402,F401  (a contact's category and a suspect's notification)
