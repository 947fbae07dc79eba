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


class CodeForm(FlaskForm):
    """An officer's verbalisant code."""

    code = StringField(_l("Verbalisant code"), validators=[DataRequired(), Length(max=38)])


class CreateUserForm(FlaskForm):
    """A new account."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=2, max=64)])
    display_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=320)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=12, max=1024)])
    code = StringField(
        _l("Verbalisant code"),
        validators=[Optional(), Length(max=38)],
        description=_l("The code the officer acts under outside Decoy, e.g. AVIM-0412. Officers need one "
                       "before they act on an operation."),
    )
    roles = MultiCheckboxField(
        _l("Roles"),
        choices=[SelectChoice("detective", _l("Detective")), SelectChoice("supervisor", _l("Supervisor")),
                 SelectChoice("legal", _l("Legal officer")), SelectChoice("admin", _l("Administrator"))],
        validators=[DataRequired()],
    )
