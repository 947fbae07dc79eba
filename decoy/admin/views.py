"""The admin's account screens: create, deactivate, reactivate, reset the second factor (its one-time reset
code shown once). Deactivating and resetting each ask for confirmation on a page of their own (GET) that
says what will happen; the form on it does it (POST)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..auth import services
from ..auth.forms import show_at_field
from ..auth.principal import require_roles
from ..db import get_session
from ..disclosure import codes
from ..errors import Forbidden, InvalidInput, RuleViolation
from ..models import User
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
                error = show_at_field(form, invalid.field, invalid.message)
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


def _confirmation(
    user: User, action: str, *, refused: str | None = None, status: int = 200
) -> tuple[str, int]:
    """The page that asks to confirm ``action`` ("deactivate" or "reset") on ``user``: the account, what
    will happen, and why it is refused or what to beware of when the account is the admin's own."""
    db = get_session()
    own = user.id == current_user.id
    refusal = warning = None
    if action == "deactivate" and own:
        refusal = _("This is your own account: you cannot deactivate it. Another administrator can.")
    elif action == "deactivate" and not user.is_active:
        refusal = _("This account is already deactivated.")
    elif action == "reset" and accounts.own_reset_refused(db, current_user.username, user):
        refusal = _(
            "This is your own account: ask another administrator to reset your second factor. Nobody resets "
            "their own while another administrator can, because a reset code together with your password "
            "replaces your second factor, so anyone at your open session who knew your password could take "
            "your account over."
        )
    elif action == "reset" and own:
        warning = _(
            "This is your own account, and you are the only active administrator. Your session ends at "
            "once: copy the reset code from the next page before you leave it, then sign in again with your "
            "password and that code. Without the code, nobody can reset your second factor from the screens."
        )
    return render_template("admin/confirm.html", user=user, roles=accounts.roles_of(db, user), action=action,
                           refusal=refusal or refused, warning=warning), status


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@require_roles("admin")
def deactivate(user_id: int) -> Response | tuple[str, int]:
    """GET: what deactivating the account does, to confirm. POST: deactivate it: its sessions end and its
    tokens are revoked for good."""
    user = accounts.get_user(get_session(), user_id)
    if request.method == "GET":
        return _confirmation(user, "deactivate")
    try:
        return _set_active(user_id, active=False)
    except Forbidden as refused:
        get_session().rollback()
        return _confirmation(user, "deactivate", refused=refused.message, status=refused.status)


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@require_roles("admin")
def activate(user_id: int) -> Response:
    """Reactivate an account (its old tokens stay revoked)."""
    return _set_active(user_id, active=True)


@bp.route("/users/<int:user_id>/reset-second-factor", methods=["GET", "POST"])
@require_roles("admin")
def reset_second_factor(user_id: int) -> str | tuple[str, int]:
    """GET: what resetting the account's second factor does, to confirm. POST: reset it; the one-time
    reset code is shown on this answer only."""
    db = get_session()
    user = accounts.get_user(db, user_id)
    if request.method == "GET":
        return _confirmation(user, "reset")
    try:
        reset = accounts.reset_second_factor(session=db, actor=current_user.username, user_id=user_id)
    except Forbidden as refused:
        db.rollback()
        return _confirmation(user, "reset", refused=refused.message, status=refused.status)
    db.commit()
    return render_template("admin/users.html", form=CreateUserForm(formdata=None),
                           users=accounts.all_users(db), error=None, reset=reset,
                           code_form=CodeForm(formdata=None))
