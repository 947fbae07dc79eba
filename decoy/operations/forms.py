"""Forms of the operations pages: operations, members, authorizations, order documents and profiles."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

LONG = 20_000


class OperationForm(FlaskForm):
    """A new operation."""

    name = StringField(_l("Code name"), validators=[InputRequired(), Length(max=120)])
    team = StringField(_l("Team"), validators=[Optional(), Length(max=120)])
    timezone = StringField(_l("Time zone (e.g. Europe/Amsterdam)"), validators=[Optional(), Length(max=64)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=LONG)])


class MemberForm(FlaskForm):
    """Assign a person to an operation."""

    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=64)])


class StatusForm(FlaskForm):
    """Move an operation to another status."""

    status = SelectField(
        _l("New status"),
        choices=[
            SelectChoice("active", _l("active")),
            SelectChoice("suspended", _l("suspended")),
        ],
        validators=[InputRequired()],
    )


class AuthorizationForm(FlaskForm):
    """An order or ruling with every field of the central record; times are in the operation's zone."""

    reference = StringField(_l("Reference number"), validators=[InputRequired(), Length(max=120)])
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("ovj_order", _l("Order of the public prosecutor")),
            SelectChoice("rc_authorisation", _l("Authorisation of the examining judge")),
            SelectChoice("urgent_oral_order", _l("Urgent oral order")),
            SelectChoice("court_ruling", _l("Court ruling on the method")),
        ],
        validators=[InputRequired()],
    )
    authority = StringField(_l("Issuing authority"), validators=[InputRequired(), Length(max=200)])
    issuer_name = StringField(_l("Issued by (name)"), validators=[Optional(), Length(max=200)])
    legal_basis = StringField(
        _l("Legal basis (e.g. art. 126j Sv)"), validators=[InputRequired(), Length(max=200)]
    )
    offence = TextAreaField(_l("Offence investigated"), validators=[Optional(), Length(max=LONG)])
    suspect_description = TextAreaField(
        _l("Suspect, or the best possible description"), validators=[Optional(), Length(max=LONG)]
    )
    justification = TextAreaField(
        _l("Facts that justify the order"), validators=[Optional(), Length(max=LONG)]
    )
    method = TextAreaField(_l("Method of execution"), validators=[Optional(), Length(max=LONG)])
    issued_on = StringField(_l("Date issued (optional)"), validators=[Optional(), Length(max=40)])
    valid_from = StringField(_l("Valid from"), validators=[InputRequired(), Length(max=64)])
    valid_until = StringField(_l("Valid until"), validators=[InputRequired(), Length(max=64)])
    review_interval_days = IntegerField(
        _l("Review interval (days)"), default=30, validators=[InputRequired(), NumberRange(min=1, max=3650)]
    )
    platforms = StringField(
        _l("Permitted platforms (separated by commas)"), validators=[InputRequired(), Length(max=4000)]
    )
    persona_constraints = TextAreaField(
        _l("Persona constraints (e.g. stated age)"), validators=[Optional(), Length(max=LONG)]
    )
    persona_age_min = IntegerField(
        _l("Youngest age the persona may give (optional)"),
        validators=[Optional(), NumberRange(min=0, max=120)],
    )
    persona_age_max = IntegerField(
        _l("Oldest age the persona may give (optional)"),
        validators=[Optional(), NumberRange(min=0, max=120)],
    )
    may_initiate_contact = BooleanField(_l("The decoy may initiate contact"))
    max_profiles = IntegerField(
        _l("Maximum number of profiles"),
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=1000)],
    )
    officers = StringField(
        _l("Named officers (usernames, separated by commas)"), validators=[Optional(), Length(max=13_000)]
    )
    conditions = TextAreaField(_l("Conditions"), validators=[Optional(), Length(max=LONG)])
    oral_order_given_at = StringField(
        _l("Urgent oral order: when it was given"), validators=[Optional(), Length(max=64)]
    )
    written_order_days = IntegerField(
        _l("Urgent oral order: days until the written order is due (default: the legal basis's)"),
        validators=[Optional(), NumberRange(min=1, max=30)],
    )
    advice_reference = StringField(
        _l("Reference of the advice (where the legal basis needs it, e.g. the CTC's)"),
        validators=[Optional(), Length(max=200)],
    )
    consent_reference = StringField(
        _l("Reference of the consent (where the legal basis needs it, e.g. the Board of Procurators "
           "General's)"),
        validators=[Optional(), Length(max=200)],
    )
    supersedes_id = SelectField(_l("Extends or amends (supersedes)"), choices=[], validate_choice=False)
    document = FileField(_l("Scanned order (PDF, optional)"))


class DocumentForm(FlaskForm):
    """The scanned order of an authorization."""

    kind = SelectField(
        _l("Document"),
        choices=[SelectChoice("order", _l("Order")), SelectChoice("written_order", _l("Written order"))],
        validators=[InputRequired()],
    )
    file = FileField(_l("PDF file"))


class ProfileForm(FlaskForm):
    """A proposed decoy profile."""

    authorization_id = SelectField(_l("Runs under authorization"), choices=[], validate_choice=False)
    #: The platforms the operation's authorizations permit (set by the page); nothing else is accepted.
    platform = SelectField(_l("Platform"), choices=[], validators=[InputRequired()])
    handle = StringField(_l("Handle"), validators=[InputRequired(), Length(max=200)])
    persona = TextAreaField(_l("Persona description"), validators=[Optional(), Length(max=LONG)])
    persona_age = IntegerField(
        _l("Age the persona gives (required when the authorization sets a range)"),
        validators=[Optional(), NumberRange(min=0, max=120)],
    )


class ReasonForm(FlaskForm):
    """A reason for a suspension or retirement (required for a suspension)."""

    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class SuspensionForm(FlaskForm):
    """The confirmation of a profile's suspension: its reason (required, the service says so)."""

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class RetirementForm(FlaskForm):
    """The confirmation of a profile's retirement: its reason (optional)."""

    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=2000)])


class ActionForm(FlaskForm):
    """A button with nothing but its CSRF token (approve)."""


class SearchForm(FlaskForm):
    """Search the central record."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=200)])
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("any")),
            SelectChoice("valid", _l("valid")),
            SelectChoice("expiring", _l("expiring")),
            SelectChoice("lapsed", _l("lapsed")),
            SelectChoice("not_yet_valid", _l("not yet valid")),
            SelectChoice("superseded", _l("superseded")),
            SelectChoice("withdrawn", _l("withdrawn")),
        ],
        validators=[Optional()],
    )
