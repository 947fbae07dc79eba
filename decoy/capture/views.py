"""The forms of capture sessions on the profile page: start one, end one. The sessions themselves are
shown on the profile's and the contacts' pages (templates/capture/_sessions.html)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.principal import require_roles
from ..db import get_session
from ..errors import InvalidInput, RuleViolation
from ..models import CaptureSession, Operation, Profile
from . import services
from .forms import EndForm, StartForm

bp = Blueprint("capture", __name__)
READERS = ("detective", "supervisor", "legal")
ID = "int"
#: Refusals a form shows beside itself, with their status; NotFound and Forbidden go to the error page.
SHOWN = (InvalidInput, RuleViolation)


def _show(form: Any, refusal: InvalidInput | RuleViolation) -> None:
    field = getattr(form, refusal.field or "", None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, refusal.message]


def _refused(template: str, form: Any, profile: Profile, status: int, error: str, **context: Any) -> Any:
    session = get_session()
    session.rollback()
    operation = session.get(Operation, profile.operation_id)
    html = render_template(template, form=form, profile=profile, operation=operation, error=error, **context)
    return html, status


def _to_profile(profile_id: int) -> Any:
    return redirect(url_for("evidence.profile_contacts", profile_id=profile_id, _anchor="capture-sessions"))


@bp.route(f"/profiles/<{ID}:profile_id>/capture-sessions", methods=["POST"])
@require_roles(*READERS)
def start_session(profile_id: int) -> Any:
    """Start a capture session on the profile, operated by the caller."""
    session = get_session()
    profile = services.require_operator(session=session, actor=current_user, profile_id=profile_id)
    form = StartForm()
    if not form.validate_on_submit():
        return _refused("capture/start.html", form, profile, 400, _("The form expired; try again."))
    try:
        row = services.start_session(
            session=session,
            actor=current_user,
            profile_id=profile_id,
            device=form.device.data or "",
            tool=form.tool.data or "",
        )
        session.commit()
    except SHOWN as refusal:
        _show(form, refusal)
        return _refused("capture/start.html", form, profile, refusal.status, refusal.message)
    flash(_("Capture session %(id)s started: you operate %(handle)s.", id=row.id, handle=profile.handle))
    return _to_profile(profile_id)


@bp.route(f"/capture-sessions/<{ID}:capture_session_id>/end", methods=["POST"])
@require_roles(*READERS)
def end_session(capture_session_id: int) -> Any:
    """End a capture session with the completeness statement (its operator or a supervisor)."""
    session = get_session()
    row: CaptureSession = services.require_ender(
        session=session, actor=current_user, capture_session_id=capture_session_id
    )
    profile = session.get(Profile, row.profile_id)
    assert profile is not None  # noqa: S101 - a session's profile exists (foreign key)
    form = EndForm()
    if not form.validate_on_submit():
        return _refused("capture/end.html", form, profile, 400, _("The form expired; try again."), row=row)
    try:
        services.end_session(
            session=session,
            actor=current_user,
            capture_session_id=capture_session_id,
            completeness_statement=form.completeness_statement.data or "",
            known_gaps=form.known_gaps.data or "",
        )
        session.commit()
    except SHOWN as refusal:
        _show(form, refusal)
        return _refused("capture/end.html", form, profile, refusal.status, refusal.message, row=row)
    flash(_("Capture session %(id)s ended with your statement.", id=capture_session_id))
    return _to_profile(row.profile_id)
