"""Forms of the review pages: the decision and a calendar feed token."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange

DECISION_CHOICES = [
    SelectChoice("continue", _l("Continue: the operation stays within its authorization")),
    SelectChoice("amend", _l("Amend: the authorization or its conditions must be amended")),
    SelectChoice("suspend", _l("Suspend: suspend every active profile under this authorization now")),
    SelectChoice("terminate", _l("Terminate: retire every profile under this authorization now")),
]


class DecisionForm(FlaskForm):
    """A legal officer's decision on a review."""

    decision = RadioField(_l("Decision"), choices=DECISION_CHOICES, validators=[DataRequired()])
    rationale = TextAreaField(_l("Rationale"), validators=[DataRequired(), Length(max=10_000)])


class CalendarTokenForm(FlaskForm):
    """A new token for the calendar feed."""

    name = StringField(
        _l("Name (for example: Outlook at the office)"), validators=[DataRequired(), Length(max=100)]
    )
    days = IntegerField(_l("Valid for (days)"), default=180, validators=[DataRequired(), NumberRange(1, 366)])
