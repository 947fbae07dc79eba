"""Forms of capture sessions: start one on a profile, end one with the completeness statement.

The fields carry no validators besides the CSRF token: the service checks every value and names the field
it refuses, as the API does.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField


class StartForm(FlaskForm):
    """A capture session starting now, operated by the person who submits it."""

    device = StringField(_l("Device (the police device or virtual machine id)"))
    tool = StringField(_l("Tool (manual, an import format, or the capture tool's name)"), default="manual")


class EndForm(FlaskForm):
    """The end of a capture session: the officer's statement of completeness and the gaps they know of."""

    completeness_statement = TextAreaField(
        _l("Completeness statement (for example: every message of this session is recorded)")
    )
    known_gaps = TextAreaField(_l("Known gaps (optional)"))
