"""Contacts, messages and attachments: the evidence."""

# Importing the checkers registers them with `decoy audit verify` whenever the app loads.
from . import checks  # noqa: F401
