"""Forms of the evidence pages: a new contact, the next message with a screenshot, a search."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, MultipleFileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..models import MAX_ID


class ContactForm(FlaskForm):
    """A counterpart who reached the profile."""

    counterpart = StringField(
        _l("Counterpart (handle or identifier, exactly as the platform shows it)"),
        validators=[InputRequired(), Length(max=1000)],
    )
    first_seen_at = StringField(_l("First seen"), validators=[Optional()])


class MessageForm(FlaskForm):
    """The next message of a conversation, verbatim, with optional screenshots."""

    direction = RadioField(
        _l("Direction"),
        choices=[
            SelectChoice("in", _l("Incoming (from the counterpart)")),
            SelectChoice("out", _l("Outgoing (from the decoy)")),
        ],
        validators=[InputRequired()],
    )
    sent_at = StringField(
        _l("Platform time"), validators=[InputRequired()]
    )
    body = TextAreaField(_l("Text, exactly as shown on the platform"))
    corrects = IntegerField(
        _l("Corrects message no. (optional)"), validators=[Optional(), NumberRange(min=1, max=MAX_ID)]
    )
    attachments = MultipleFileField(_l("Screenshot or exported file"))
    #: The open capture sessions of the profile (set by the view); the service judges the choice.
    capture_session = SelectField(_l("Captured in capture session"), choices=[], validate_choice=False)
