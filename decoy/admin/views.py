"""The admin's account screens: create, deactivate, reactivate, reset the second factor (its one-time reset
code shown once)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..auth import services
from ..auth.principal import require_roles
from ..db import get_session
from ..disclosure import codes
from ..errors import InvalidInput, RuleViolation
from . import services as accounts
from .forms import CodeForm, CreateUserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", methods=["GET", "POST"])
@require_roles("admin")
def users() -> Response | str | tuple[str, int]:
    """List accounts and create new ones."""
    db = get_session()
    form = CreateUserForm()
    status = 200
    error = None
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                services.create_user(
                    session=db, actor=current_user.username, username=form.username.data or "",
                    password=form.password.data or "", roles=list(form.roles.data or []),
                    email=form.email.data or None, display_name=form.display_name.data or "",
                    code=form.code.data or None, created_by=current_user.id,
                )
            except (InvalidInput, RuleViolation) as invalid:
                db.rollback()
                error = invalid.message
            else:
                db.commit()
                flash(_("Account %(name)s created. At the first sign-in the person chooses their own "
                        "password and sets up a second factor.", name=form.username.data))
                return redirect(url_for("admin.users"))
    return render_template("admin/users.html", form=form, users=accounts.all_users(db), error=error,
                           code_form=CodeForm(formdata=None)), status


@bp.route("/users/<int:user_id>/verbalisant-code", methods=["POST"])
@require_roles("admin")
def set_code(user_id: int) -> Response | tuple[str, int]:
    """Give an officer's account its verbalisant code; a refusal is shown on the accounts page."""
    db = get_session()
    user = accounts.get_user(db, user_id)
    form = CodeForm()
    try:
        if not form.validate_on_submit():
            raise InvalidInput(_("code: enter the officer's verbalisant code"), field="code")
        codes.set_code(db, actor=current_user, username=user.username, code=form.code.data or "")
    except (InvalidInput, RuleViolation) as refused:
        db.rollback()
        page = render_template("admin/users.html", form=CreateUserForm(formdata=None),
                               users=accounts.all_users(db), error=None, code_form=form,
                               code_error=refused.message, code_user=user_id)
        return page, refused.status
    db.commit()
    flash(_("%(name)s now acts under verbalisant code %(code)s.", name=user.username,
            code=user.verbalisant_code))
    return redirect(url_for("admin.users"))


@bp.route("/verbalisant-codes")
@require_roles("admin", "legal")
def verbalisant_codes() -> str:
    """Who had which verbalisant code from when: for legal officers and admins, never exported."""
    return render_template("admin/verbalisant_codes.html", assignments=codes.mapping(get_session()))


def _set_active(user_id: int, *, active: bool) -> Response:
    db = get_session()
    accounts.set_active(session=db, actor=current_user.username, user_id=user_id, active=active)
    db.commit()
    if active:
        flash(_("Account reactivated. Its earlier API tokens stay revoked."))
    else:
        flash(_("Account deactivated: its sessions have ended and its API tokens are revoked."))
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@require_roles("admin")
def deactivate(user_id: int) -> Response:
    """Deactivate an account: its sessions end and its tokens are revoked for good."""
    return _set_active(user_id, active=False)


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@require_roles("admin")
def activate(user_id: int) -> Response:
    """Reactivate an account (its old tokens stay revoked)."""
    return _set_active(user_id, active=True)


@bp.route("/users/<int:user_id>/reset-second-factor", methods=["POST"])
@require_roles("admin")
def reset_second_factor(user_id: int) -> str:
    """Reset an account's second factor; the one-time reset code is shown on this answer only."""
    db = get_session()
    reset = accounts.reset_second_factor(session=db, actor=current_user.username, user_id=user_id)
    db.commit()
    return render_template("admin/users.html", form=CreateUserForm(), users=accounts.all_users(db),
                           error=None, reset=reset, code_form=CodeForm(formdata=None))
