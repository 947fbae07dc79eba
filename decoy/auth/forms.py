"""Forms of the login flow and the account page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class LoginForm(FlaskForm):
    """First factor: username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class CodeForm(FlaskForm):
    """Second factor: a TOTP code or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])


class NewPasswordFields:
    """The person's own new password, typed twice (the service checks length and sameness)."""

    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)])
    repeat = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=1024)])


class CodeAndPasswordForm(CodeForm, NewPasswordFields):
    """Second factor, for a person who has yet to replace a password someone else set."""


class ChoosePasswordForm(FlaskForm, NewPasswordFields):
    """The first step of enrolment: the person's own password (and the reset code after a reset)."""

    reset_code = StringField(_l("Reset code"), validators=[Optional(), Length(max=64)])


class ChangePasswordForm(FlaskForm, NewPasswordFields):
    """A new password, proven by the current one and a current second-factor code."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    code = StringField(_l("Code from your authenticator app"), validators=[DataRequired(), Length(max=32)])


class TokenForm(FlaskForm):
    """A new API token."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    days = IntegerField(_l("Valid for (days)"), default=90, validators=[DataRequired(), NumberRange(1, 366)])


def show_at_field(form: FlaskForm, name: str | None, message: str) -> str | None:
    """Show ``message`` at the form's field ``name`` (with the error summary); the message back when the
    form has no such field, to be shown above the form instead."""
    target = form._fields.get(name) if name else None
    if target is None or target.type in ("CSRFTokenField", "HiddenField"):
        return message
    target.errors = [*target.errors, message]
    return None
