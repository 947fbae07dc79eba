"""Forms of account administration."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as labelled checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CreateUserForm(FlaskForm):
    """A new account."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=2, max=64)])
    display_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=320)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=12, max=1024)])
    roles = MultiCheckboxField(
        _l("Roles"),
        choices=[SelectChoice("detective", _l("Detective")), SelectChoice("supervisor", _l("Supervisor")),
                 SelectChoice("legal", _l("Legal officer")), SelectChoice("admin", _l("Administrator"))],
        validators=[DataRequired()],
    )
