"""The web pages of imports (spec "Import"): on a contact, choose a platform's export, see what importing
it would do (a dry run), and confirm; and each import's own page.

The upload is kept on the server between the preview and the confirmation (decoy/imports/pending.py):
the confirmation sends its token, never the file again. Only people who may record into the contact
(require_recorder, as the API) see the form; the upload's CSRF token is checked after that access check,
so that nobody who may not record makes the server receive their file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import Session

from ..auth.principal import require_roles
from ..capture import display as capture_display
from ..db import before_reading_body, get_session
from ..evidence import reading, transcript
from ..evidence.recording import require_recorder
from ..extensions import csrf
from ..models import Contact, MessageImport, Operation, Profile
from ..models.capture import CONFIRMED
from . import pending, services
from .exports import ImportRefused, Limits
from .forms import FORMAT_HINTS, ImportForm

bp = Blueprint("imports", __name__)
READERS = ("detective", "supervisor", "legal")
ID = "int"
#: The most the multipart parser holds in memory at once (a text field); the file is spooled to disk.
FORM_ALLOWANCE = 1024 * 1024
#: The differences a preview shows with their text (each is read, and recorded as read, to be shown);
#: the rest are flagged on the contact page all the same.
SHOWN_DIFFERENCES = 100


def _actor() -> Any:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _place(session: Session, contact: Contact) -> tuple[Operation, Profile]:
    operation = session.get(Operation, contact.operation_id)
    profile = session.get(Profile, contact.profile_id)
    assert operation is not None and profile is not None  # noqa: S101 - foreign keys
    return operation, profile


def _blank_form(choices: dict[str, Any] | None = None) -> ImportForm:
    values = dict(choices or {})
    values["timezone"] = values.get("timezone") or current_app.config["TIMEZONE"]
    if values.get("capture_session") is not None:
        values["capture_session"] = str(values["capture_session"])
    return ImportForm(formdata=None, data=values)


def _render_form(
    session: Session, contact: Contact, form: ImportForm, status: int = 200, error: str | None = None
) -> tuple[str, int]:
    operation, profile = _place(session, contact)
    capture = capture_display.panel(session, _actor(), profile, operation.timezone)
    session.commit()
    form.capture_session.choices = capture.choices
    if form.capture_session.data is None:
        form.capture_session.data = capture.default
    html = render_template(
        "imports/upload.html",
        contact=contact,
        operation=operation,
        profile=profile,
        form=form,
        hints=FORMAT_HINTS,
        error=error,
        hours=pending.PENDING_HOURS,
    )
    return html, status


def _refused(session: Session, contact: Contact, form: ImportForm, refused: ImportRefused) -> tuple[str, int]:
    """The form again with the refusal at its field and a summary at the top; nothing was stored."""
    session.rollback()
    field = getattr(form, refused.field, None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, refused.message]
    summary = _("The export cannot be imported: %(reason)s Nothing was stored.", reason=refused.message)
    return _render_form(session, contact, form, 400, summary)


def _capture_session_choice(form: ImportForm) -> int | None:
    value = form.capture_session.data or ""
    if value == "":
        return None
    if not value.isdigit() or len(value) > 10:
        raise ImportRefused("capture_session", _("Choose a capture session from the list."))
    return int(value)


def _run(session: Session, kept: pending.Pending, path: Path, *, dry_run: bool) -> services.ImportOutcome:
    """The import service on the kept file, with the choices kept with it."""
    choices = kept.choices
    wanted = services.ImportRequest(
        contact_id=kept.contact_id,
        format=choices.get("format") or "",
        decoy_name=choices.get("decoy_name") or "",
        filename=kept.filename,
        timezone=choices.get("timezone") or None,
        chat=choices.get("chat") or None,
        capture_session_id=choices.get("capture_session"),
        dry_run=dry_run,
    )
    limits = Limits(max_uncompressed=int(current_app.config["MAX_IMPORT_UNPACKED_BYTES"]))
    with path.open("rb") as stream:
        return services.import_export(session, _actor(), wanted, stream, limits=limits)


@bp.route(f"/contacts/<{ID}:contact_id>/import", methods=["GET", "POST"])
@csrf.exempt  # checked in the view, after the access check and before the body is read
@require_roles(*READERS)
def upload(contact_id: int) -> Any:
    """The form; on POST the file is kept and the preview (a dry run) shown."""
    session = get_session()
    require_recorder(session=session, actor=_actor(), contact_id=contact_id)
    contact = reading.visible_contact(session, _actor(), contact_id)
    if request.method == "GET":
        return _render_form(session, contact, _blank_form())
    before_reading_body(session)
    request.max_form_memory_size = FORM_ALLOWANCE
    csrf.protect()
    form = ImportForm()
    if not form.validate():
        return _render_form(session, contact, form, 400, _("Check the fields marked below."))
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        form.file.errors = [*form.file.errors, _("Choose the export file.")]
        return _render_form(session, contact, form, 400, _("Check the fields marked below."))
    try:
        choices = {
            "format": form.format.data or "",
            "decoy_name": form.decoy_name.data or "",
            "timezone": (form.timezone.data or "").strip() or None,
            "chat": form.chat.data or None,
            "capture_session": _capture_session_choice(form),
        }
        pending.cleanup()
        kept = pending.keep(
            upload.stream,
            user_id=_actor().id,
            contact_id=contact_id,
            choices=choices,
            filename=upload.filename or "",
            max_bytes=int(current_app.config["MAX_IMPORT_BYTES"]),
        )
    except ImportRefused as refused:
        return _refused(session, contact, form, refused)
    try:
        outcome = _run(session, kept, kept.path, dry_run=True)
    except ImportRefused as refused:
        pending.discard(kept.token)
        return _refused(session, contact, form, refused)
    except BaseException:
        pending.discard(kept.token)
        raise
    imported_before = not outcome.dry_run
    if imported_before:  # the same file is imported already: there is nothing to confirm
        pending.discard(kept.token)
    return _preview(session, contact, kept, outcome, imported_before)


def _differences(session: Session, outcome: services.ImportOutcome) -> list[dict[str, Any]]:
    """The hand-typed messages the export contradicts or lacks, read (and recorded as read) to be shown."""
    shown = []
    for message_id, kind, export_id in outcome.tally.differences()[:SHOWN_DIFFERENCES]:
        read = reading.read_message(session=session, actor=_actor(), message_id=message_id)
        shown.append({"message": read.message, "kind": kind, "export_message_id": export_id})
    return shown


def _preview(
    session: Session,
    contact: Contact,
    kept: pending.Pending,
    outcome: services.ImportOutcome,
    imported_before: bool,
) -> tuple[str, int]:
    operation, profile = _place(session, contact)
    differences = [] if imported_before else _differences(session, outcome)
    session.commit()
    html = render_template(
        "imports/preview.html",
        contact=contact,
        operation=operation,
        profile=profile,
        token=kept.token,
        filename=kept.filename,
        outcome=outcome,
        tally=outcome.tally,
        confirmed=sum(1 for found in outcome.tally.outcomes if found[1] == CONFIRMED),
        differences=differences,
        unshown=len(outcome.tally.differences()) - len(differences),
        imported_before=imported_before,
        hours=pending.PENDING_HOURS,
    )
    return html, 200


@bp.route(f"/contacts/<{ID}:contact_id>/import/<token>", methods=["POST"])
@require_roles(*READERS)
def confirm(contact_id: int, token: str) -> Any:
    """Import the kept file of a preview (``action=cancel``: delete it); only its uploader, for the same
    contact, within pending.PENDING_HOURS."""
    session = get_session()
    require_recorder(session=session, actor=_actor(), contact_id=contact_id)
    contact = reading.visible_contact(session, _actor(), contact_id)
    kept = pending.find(token, user_id=_actor().id, contact_id=contact_id)
    if kept is None:
        message = _(
            "This preview has expired or does not exist: a preview is kept for %(hours)s hours, for the "
            "person who uploaded the file. Choose the file again.",
            hours=pending.PENDING_HOURS,
        )
        return _render_form(session, contact, _blank_form(), 404, message)
    if request.form.get("action") == "cancel":
        pending.discard(token)
        flash(_("Import cancelled; nothing was stored."))
        return redirect(url_for("evidence.contact", contact_id=contact_id))
    path = pending.claim(kept)
    if path is None:
        message = _("This preview was confirmed or cancelled already. Choose the file again to import it.")
        return _render_form(session, contact, _blank_form(kept.choices), 409, message)
    try:
        outcome = _run(session, kept, path, dry_run=False)
    except ImportRefused as refused:
        return _refused(session, contact, _blank_form(kept.choices), refused)
    finally:
        pending.discard(token)
    session.commit()
    if outcome.created:
        flash(
            _(
                "Imported: %(added)s messages added, %(duplicates)s already present, %(differences)s "
                "differences.",
                added=outcome.tally.added,
                duplicates=outcome.tally.duplicates,
                differences=len(outcome.tally.differences()),
            )
        )
    else:
        flash(_("This file was imported before (import %(id)s); nothing was added.", id=outcome.id))
    return redirect(url_for("evidence.contact", contact_id=contact_id))


@bp.route(f"/imports/<{ID}:import_id>")
@require_roles(*READERS)
def import_page(import_id: int) -> Any:
    """An import: its file, how it was read, who imported it and when, what it added and found."""
    session = get_session()
    outcome = services.visible_import(session, _actor(), import_id)
    found = session.get(MessageImport, import_id)
    contact = session.get(Contact, outcome.request.contact_id)
    assert found is not None and contact is not None  # noqa: S101 - visible_import found both
    operation, profile = _place(session, contact)
    names = transcript.usernames(session, {found.imported_by})
    session.commit()
    return render_template(
        "imports/import.html",
        found=found,
        contact=contact,
        operation=operation,
        profile=profile,
        outcome=outcome,
        tally=outcome.tally,
        confirmed=sum(1 for item in outcome.tally.outcomes if item[1] == CONFIRMED),
        differences=outcome.tally.differences(),
        imported_by=names.get(found.imported_by, ""),
    )
