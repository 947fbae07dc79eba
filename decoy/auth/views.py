"""Login with two factors, enrolment, logout, language and personal API tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

import segno
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from .. import clock
from ..db import get_session
from ..models import User
from . import services, totp
from . import tokens as token_service
from .forms import CodeForm, LoginForm, TokenForm
from .principal import principal_for, start_session

bp = Blueprint("auth", __name__)

PENDING_SECONDS = 300
RATE_LIMITED = _l("Too many attempts from your address. Wait a few minutes and try again.")
GENERIC_FAILURE = _l("Sign-in failed. Check your username, password and code.")


def _address() -> str:
    return (request.remote_addr or "unknown")[:64]


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.home")


def _pending_user() -> User | None:
    user_id = session.get("pending_user")
    started = float(session.get("pending_at", 0))
    if user_id is None or clock.now().timestamp() - started > PENDING_SECONDS:
        return None
    user = get_session().get(User, int(user_id))
    if user is None or not user.is_active or services.is_locked(user):
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """First factor."""
    form = LoginForm()
    if request.method == "POST" and form.validate_on_submit():
        db = get_session()
        if services.rate_limited(db, _address()):
            db.commit()
            return render_template("auth/login.html", form=form, error=str(RATE_LIMITED)), 429
        user = services.check_password(db, form.username.data or "", form.password.data or "",
                                       address=_address())
        db.commit()
        if user is None:
            return render_template("auth/login.html", form=form, error=str(GENERIC_FAILURE)), 401
        next_path = request.args.get("next")
        session.clear()
        session["pending_user"] = user.id
        session["pending_at"] = clock.now().timestamp()
        if next_path:
            session["next"] = next_path
        target = "auth.second_factor" if user.totp_confirmed else "auth.enrol"
        return redirect(url_for(target))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, expired=request.args.get("expired")), status


def _finish_login(user: User) -> None:
    next_path = session.get("next")
    start_session(user)
    login_user(principal_for(user))
    session["next_after_login"] = _safe_next(next_path)


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor() -> Response | str | tuple[str, int]:
    """Second factor: a TOTP code or a recovery code."""
    user = _pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if not user.totp_confirmed:
        return redirect(url_for("auth.enrol"))
    form = CodeForm()
    if request.method == "POST" and form.validate_on_submit():
        db = get_session()
        if services.rate_limited(db, _address()):
            db.commit()
            return render_template("auth/code.html", form=form, error=str(RATE_LIMITED)), 429
        ok = services.check_second_factor(db, user, form.code.data or "", address=_address())
        db.commit()
        if not ok:
            return render_template("auth/code.html", form=form, error=str(GENERIC_FAILURE)), 401
        _finish_login(user)
        return redirect(session.pop("next_after_login", url_for("main.home")))
    return render_template("auth/code.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol() -> Response | str | tuple[str, int]:
    """Second-factor enrolment: QR code and secret, confirmed by a first code."""
    user = _pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if user.totp_confirmed:
        return redirect(url_for("auth.second_factor"))
    secret = services.totp_secret(user)
    uri = totp.provisioning_uri(secret, user.username)
    form = CodeForm()
    error = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            db = get_session()
            ok = services.check_second_factor(db, user, form.code.data or "", address=_address())
            codes = services.confirm_enrolment(db, user) if ok else []
            db.commit()
            if ok:
                _finish_login(user)
                return render_template("auth/recovery_codes.html", codes=codes,
                                       next=session.pop("next_after_login", url_for("main.home")))
            error, status = str(GENERIC_FAILURE), 401
    # The QR code is drawn here, as inline SVG markup produced by segno from our own URI.
    qr = Markup(segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff"))  # noqa: S704
    return render_template("auth/enrol.html", form=form, qr=qr, secret=secret, uri=uri, error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """End the session."""
    if current_user.is_authenticated:
        logout_user()
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def language() -> Response:
    """Choose the interface language."""
    choice = request.form.get("lang", "")
    if choice not in current_app.config["LANGUAGES"]:
        abort(400, description="lang: unknown language")
    session["lang"] = choice
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> Response | str | tuple[str, int]:
    """Create and list the caller's API tokens; a new token is shown once."""
    db = get_session()
    form = TokenForm()
    created = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            _token, created = token_service.create_token(
                session=db, user=current_user.user, name=form.name.data or "", days=form.days.data
            )
            db.commit()
            status = 201
    return render_template(
        "auth/tokens.html", form=form, created=created, tokens=token_service.tokens_of(db, current_user.user),
        now=clock.now(),
    ), status


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int) -> Response:
    """Revoke one of the caller's tokens."""
    db = get_session()
    token_service.revoke_token(session=db, user=current_user.user, token_id=token_id)
    db.commit()
    flash(_("Token revoked."))
    return redirect(url_for("auth.tokens"))
