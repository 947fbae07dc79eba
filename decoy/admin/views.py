"""The admin's account screens: create, deactivate, reactivate, reset the second factor."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..auth import services
from ..auth.principal import require_roles
from ..db import get_session
from ..errors import InvalidInput
from .forms import CreateUserForm

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
                )
            except InvalidInput as invalid:
                db.rollback()
                error = invalid.message
            else:
                db.commit()
                flash(_("Account %(name)s created. The person enrols a second factor at first login.",
                        name=form.username.data))
                return redirect(url_for("admin.users"))
    return render_template("admin/users.html", form=form, users=services.all_users(db), error=error), status


def _act(user_id: int, action: str) -> Response:
    db = get_session()
    if action == "reset":
        services.reset_second_factor(session=db, actor=current_user.username, user_id=user_id)
        message = _("Second factor reset; the person enrols again at the next login.")
    else:
        services.set_active(session=db, actor=current_user.username, user_id=user_id,
                            active=action == "activate")
        message = _("Account updated.")
    db.commit()
    flash(message)
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@require_roles("admin")
def deactivate(user_id: int) -> Response:
    """Deactivate an account: its sessions and tokens stop working."""
    return _act(user_id, "deactivate")


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@require_roles("admin")
def activate(user_id: int) -> Response:
    """Reactivate an account."""
    return _act(user_id, "activate")


@bp.route("/users/<int:user_id>/reset-second-factor", methods=["POST"])
@require_roles("admin")
def reset_second_factor(user_id: int) -> Response:
    """Reset an account's second factor."""
    return _act(user_id, "reset")
