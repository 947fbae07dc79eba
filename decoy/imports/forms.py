"""The form of a web import: the export file, its format, the decoy's name in it and how to read it.

Besides the CSRF token and the lengths the API allows, the fields carry no validators: the import service
checks every value and names the field it refuses, as it does for the API.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from ..models.capture import IMPORT_FORMATS

#: Each format's name and a one-line hint of where its file comes from (the user guide says more).
FORMAT_LABELS = {
    "whatsapp": _l("WhatsApp"),
    "telegram": _l("Telegram"),
    "instagram": _l("Instagram"),
    "decoy": _l("Decoy JSON Lines"),
}
FORMAT_HINTS = {
    "whatsapp": _l("“Export chat” on the phone: the .txt file, or the .zip it makes with media."),
    "telegram": _l(
        "Telegram Desktop, “Export chat history” as machine-readable JSON: "
        "result.json, or a ZIP of the export folder."
    ),
    "instagram": _l(
        "Meta's “Download your information”, messages in JSON: the ZIP, or one message_N.json file."
    ),
    "decoy": _l("A capture tool's JSON Lines (.jsonl, or a ZIP with its attachments)."),
}


class ImportForm(FlaskForm):
    """A platform's export for one contact, with how to read it."""

    file = FileField(_l("Export file, exactly as the platform produced it"))
    format = SelectField(
        _l("Format"),
        choices=[SelectChoice(name, FORMAT_LABELS[name]) for name in IMPORT_FORMATS],
        validate_choice=False,
    )
    decoy_name = StringField(
        _l("The decoy's name in the export (it decides which messages are the decoy's)"),
        validators=[Length(max=200)],
    )
    timezone = StringField(
        _l("Time zone of times the export writes without an offset"),
        validators=[Optional(), Length(max=64)],
    )
    chat = StringField(
        _l("Chat (only for a file that holds several chats: its name or id)"),
        validators=[Optional(), Length(max=500)],
    )
    #: The open capture sessions of the contact's profile (set by the view); the service judges the choice.
    capture_session = SelectField(_l("Taken in capture session"), choices=[], validate_choice=False)
