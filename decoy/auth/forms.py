"""Forms of the login flow and the token page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, NumberRange


class LoginForm(FlaskForm):
    """First factor: username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class CodeForm(FlaskForm):
    """Second factor: a TOTP code or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])


class TokenForm(FlaskForm):
    """A new API token."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    days = IntegerField(_l("Valid for (days)"), default=90, validators=[DataRequired(), NumberRange(1, 366)])
