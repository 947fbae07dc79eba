"""The proces-verbaal on the contact page: the draft as a download (Dutch or English), the upload of the
copy the officer signed outside Decoy, and the signed copies with their hashes.

The routes are registered on the evidence blueprint (decoy/evidence/views.py imports this module), so that
a refused upload is shown on the contact page it came from. The responses that send a draft or a signed
copy are shared with the API (decoy/api/reports.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import Session

from .. import access, blobstore
from ..access import Actor
from ..auth.principal import require_roles
from ..db import get_session
from ..errors import InvalidInput, RuleViolation, TooLarge
from ..evidence.reading import visible_contact
from ..evidence.views import READERS, bp, render_contact
from ..export.proces_verbaal_wording import LANGUAGES
from ..models import Contact
from . import codes, reports

#: Where the panel sits on the contact page.
ANCHOR = "proces-verbaal"
#: Refusals of an upload shown on the contact page; NotFound and Forbidden go to the error page.
SHOWN = (InvalidInput, RuleViolation, TooLarge)


@dataclass(frozen=True)
class SignedCopy:
    """One signed copy as the panel lists it."""

    id: int
    filename: str
    sha256: str
    size: int
    by: str | None
    at: datetime


@dataclass(frozen=True)
class Panel:
    """What the contact page shows of the proces-verbaal."""

    contact_id: int
    may_upload: bool
    signed: list[SignedCopy]
    error: str | None


def contact_panel(session: Session, actor: Actor, contact: Contact) -> Panel:
    """The panel of a contact the caller may see: the drafts, the upload form for its officers, and the
    signed copies (the refusal of an upload just sent, if any)."""
    rows = reports.signed_reports(session=session, actor=actor, contact_id=contact.id)  # type: ignore[arg-type]
    names = codes.Officers(session)
    signed = [
        SignedCopy(row.id or 0, row.filename, row.sha256, row.size, names(row.uploaded_by, row.uploaded_at),
                   row.uploaded_at)
        for row in rows
    ]
    may_upload = actor.has_role("detective", "supervisor") and access.is_member(
        session, actor, contact.operation_id
    )
    return Panel(contact.id or 0, may_upload, signed, g.pop("signed_report_error", None))


def draft_response(made: reports.Draft) -> Response:
    """A draft as a PDF download, with its SHA-256 (the one its audit entry recorded)."""
    response = Response(made.pdf, mimetype="application/pdf")
    name = f"proces-verbaal-contact-{made.contact_id}-{made.language}-concept.pdf"
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Content-SHA256"] = made.sha256
    response.headers["Cache-Control"] = "no-store"
    return response


def signed_report_response(session: Session, actor: Actor, report_id: int) -> Response:
    """A signed copy as a PDF download; the read is committed to the audit log before a byte leaves."""
    found = reports.read_signed_report(session=session, actor=actor, report_id=report_id)
    session.commit()
    report = found.report
    name = f"proces-verbaal-contact-{report.contact_id}-signed-{report.id}-{report.sha256[:12]}.pdf"
    # Chunk by chunk from whichever store holds it (database chunks on short connections of their own: the
    # request's session is closed by then); the file is opened only once the answer is being sent.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    response = Response(blobstore.iter_blob(report.sha256, app), mimetype="application/pdf")
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.headers["Content-Length"] = str(report.size)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Content-SHA256"] = report.sha256
    return response


def language() -> str:
    """The draft's language from ``?lang=`` (Dutch when left out); InvalidInput naming ``lang``."""
    chosen = request.args.get("lang", "") or "nl"
    if chosen not in LANGUAGES:
        raise InvalidInput(_("lang must be nl or en"), field="lang")
    return chosen


@bp.route("/contacts/<int:contact_id>/proces-verbaal.pdf")
@require_roles(*READERS)
def proces_verbaal(contact_id: int) -> Response:
    """The contact's draft proces-verbaal under the caller's verbalisant code (``?lang=nl|en``)."""
    session = get_session()
    visible_contact(session, current_user, contact_id)
    made = reports.draft(session=session, actor=current_user, contact_id=contact_id, language=language())
    session.commit()
    return draft_response(made)


@bp.route("/contacts/<int:contact_id>/signed-reports", methods=["POST"])
@require_roles(*READERS)
def upload_signed_report(contact_id: int) -> Any:
    """Keep the proces-verbaal the officer signed outside Decoy (a PDF) with the contact."""
    session = get_session()
    contact = reports.require_reporter(session, current_user, contact_id)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InvalidInput(_("choose the signed PDF"), field="file")
        done = reports.upload_signed_report(
            session=session, actor=current_user, contact_id=contact_id, stream=upload.stream,
            filename=upload.filename,
        )
        session.commit()
    except SHOWN as error:
        session.rollback()
        g.signed_report_error = error.message
        return render_contact(contact, status=error.status)
    sha256 = done.report.sha256
    if done.created:
        flash(_("Signed proces-verbaal kept with SHA-256 %(sha256)s.", sha256=sha256))
    else:
        flash(_("This signed proces-verbaal was kept before (SHA-256 %(sha256)s).", sha256=sha256))
    return redirect(url_for("evidence.contact", contact_id=contact_id, _anchor=ANCHOR))


@bp.route("/signed-reports/<int:report_id>")
@require_roles(*READERS)
def signed_report(report_id: int) -> Response:
    """Download a signed proces-verbaal (never shown inline)."""
    return signed_report_response(get_session(), current_user, report_id)
