"""Login with two factors, enrolment with the person's own password, logout, language and the account page
(password and personal API tokens)."""

from __future__ import annotations

from urllib.parse import urlsplit

import segno
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from .. import clock
from ..db import get_session
from ..errors import InvalidInput
from ..models import User
from . import services, sessions, totp
from . import tokens as token_service
from .forms import (
    ChangePasswordForm,
    ChoosePasswordForm,
    CodeAndPasswordForm,
    CodeForm,
    LoginForm,
    TokenForm,
    show_at_field,
)
from .principal import end_cookie, sign_in_session

bp = Blueprint("auth", __name__)

PENDING_SECONDS = 300
RATE_LIMITED = _l("Too many attempts from your address. Wait a few minutes and try again.")
GENERIC_FAILURE = _l("Sign-in failed. Check your username, password and code.")
WRONG_PROOF = _l("The current password or the code is wrong.")
# At enrolment the person has already proven their password: the error says what is wrong.
WRONG_NEW_CODE = _l("The code is wrong or has expired. Enter the six-digit code your authenticator app "
                    "shows now, before it changes.")
WRONG_RESET_CODE = _l("The reset code is wrong. Enter the code your administrator gave you when they reset "
                      "your second factor (only the latest one works).")


def _address() -> str:
    return (request.remote_addr or "unknown")[:64]


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not urlsplit(target).netloc):
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


def _limited() -> bool:
    """Count this attempt from the caller's address (committed at once) and say whether it is one too many."""
    db = get_session()
    limited = services.rate_limited(db, _address())
    db.commit()
    return limited


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """First factor."""
    form = LoginForm()
    if request.method == "POST" and form.validate_on_submit():
        db = get_session()
        if _limited():
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


def _finish_login(user: User, started: sessions.NewSession) -> str:
    """Sign the person in with their new session; where to go next."""
    next_path = session.get("next")
    sign_in_session(user, started)
    return _safe_next(next_path)


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor() -> Response | str | tuple[str, int]:
    """Second factor: a TOTP code or a recovery code (and the person's own password if they have yet to
    choose one)."""
    user = _pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if not user.totp_confirmed:
        return redirect(url_for("auth.enrol"))
    form = CodeAndPasswordForm() if user.must_set_password else CodeForm()
    error = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            if _limited():
                return render_template("auth/code.html", form=form, error=str(RATE_LIMITED)), 429
            db = get_session()
            own = form if isinstance(form, CodeAndPasswordForm) else None
            try:
                started = services.sign_in(
                    session=db, user=user, code=form.code.data or "", address=_address(),
                    new_password=own.new_password.data or "" if own else None,
                    repeat=own.repeat.data or "" if own else None,
                )
            except InvalidInput as invalid:
                db.rollback()
                error = show_at_field(form, invalid.field, invalid.message)
            else:
                db.commit()
                if started is not None:
                    return redirect(_finish_login(user, started))
                error, status = str(GENERIC_FAILURE), 401
    return render_template("auth/code.html", form=form, error=error), status


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol() -> Response | str | tuple[str, int]:
    """Enrolment: first the person's own password (with the reset code after a reset), then the second
    factor, shown as QR code and secret and confirmed by a first code."""
    user = _pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if user.totp_confirmed:
        return redirect(url_for("auth.second_factor"))
    if user.must_set_password:
        return _choose_password(user)
    form = CodeForm()
    error = None
    status = 200
    if request.method == "POST":
        status = 400
        # Not counted against the address: the pending sign-in passed the counted password step, and every
        # wrong code counts towards the account's lockout.
        if form.validate_on_submit():
            db = get_session()
            enrolled = services.enrol(session=db, user=user, code=form.code.data or "", address=_address())
            db.commit()
            if enrolled is not None:
                started, codes = enrolled
                return render_template("auth/recovery_codes.html", codes=codes,
                                       next=_finish_login(user, started))
            error, status = show_at_field(form, "code", _refused_code(user, WRONG_NEW_CODE)), 401
    secret = services.totp_secret(user)
    uri = totp.provisioning_uri(secret, user.username)
    # The QR code is drawn here, as inline SVG markup produced by segno from our own URI.
    qr = Markup(segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff"))  # noqa: S704
    return render_template("auth/enrol.html", form=form, qr=qr, secret=secret, uri=uri, error=error), status


def _refused_code(user: User, wrong: str) -> str:
    """What to tell a person at enrolment whose code was refused: that the account is now locked, or
    ``wrong``."""
    if services.is_locked(user):
        return _("Too many wrong codes: your account is locked for %(minutes)d minutes. Sign in again "
                 "after that.", minutes=current_app.config["LOCKOUT_MINUTES"])
    return str(wrong)


def _choose_password(user: User) -> Response | str | tuple[str, int]:
    """Enrolment's first step; the second factor's secret is shown only after it."""
    form = ChoosePasswordForm()
    after_reset = user.reset_code_hash is not None
    error = None
    status = 200
    if request.method == "POST":
        status = 400
        # As at enrolment's second step, a wrong reset code counts towards the account's lockout.
        if form.validate_on_submit():
            db = get_session()
            try:
                chosen = services.choose_password(
                    session=db, user=user, new_password=form.new_password.data or "",
                    repeat=form.repeat.data or "", reset_code=form.reset_code.data or "", address=_address(),
                )
            except InvalidInput as invalid:
                db.rollback()
                error = show_at_field(form, invalid.field, invalid.message)
            else:
                db.commit()
                if chosen:
                    session["pending_at"] = clock.now().timestamp()
                    flash(_("Your password is set. Now set up your second factor."))
                    return redirect(url_for("auth.enrol"))
                error, status = show_at_field(form, "reset_code", _refused_code(user, WRONG_RESET_CODE)), 401
    return render_template("auth/choose_password.html", form=form, after_reset=after_reset,
                           error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """End the session, on the server: its cookie never signs anyone in again."""
    if current_user.is_authenticated and current_user.login_session is not None:
        db = get_session()
        sessions.end(session=db, actor=current_user.username, row=current_user.login_session, reason="logout")
        db.commit()
    end_cookie()
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
    """The account page: change the password; create and list the caller's API tokens (a new token is
    shown once)."""
    db = get_session()
    form = TokenForm()
    password_form = ChangePasswordForm(prefix="password")
    created = None
    password_error = None
    status = 200
    if request.method == "POST" and "password-current_password" in request.form:
        status = 400
        if password_form.validate_on_submit():
            changed, password_error = _change_password(password_form)
            if changed:
                return redirect(url_for("auth.tokens"))
    elif request.method == "POST":
        status = 400
        if form.validate_on_submit():
            _token, created = token_service.create_token(
                session=db, user=current_user.user, name=form.name.data or "", days=form.days.data
            )
            db.commit()
            status = 201
    return render_template(
        "auth/tokens.html", form=form, password_form=password_form, password_error=password_error,
        created=created, tokens=token_service.tokens_of(db, current_user.user), now=clock.now(),
    ), status


def _change_password(form: ChangePasswordForm) -> tuple[bool, str | None]:
    """Change the caller's password: whether it changed, and an error to show above the form (an error of
    one field is shown at the field)."""
    db = get_session()
    row = current_user.login_session
    try:
        changed = services.change_password(
            session=db, user=current_user.user, current_password=form.current_password.data or "",
            code=form.code.data or "", new_password=form.new_password.data or "",
            repeat=form.repeat.data or "", keep_session=row.id if row is not None else None,
            address=_address(),
        )
    except InvalidInput as invalid:
        db.rollback()
        return False, show_at_field(form, invalid.field, invalid.message)
    db.commit()
    if not changed:
        return False, str(WRONG_PROOF)
    flash(_("Your password is changed. Your other sessions have ended."))
    return True, None


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int) -> Response:
    """Revoke one of the caller's tokens."""
    db = get_session()
    token_service.revoke_token(session=db, user=current_user.user, token_id=token_id)
    db.commit()
    flash(_("Token revoked."))
    return redirect(url_for("auth.tokens"))
