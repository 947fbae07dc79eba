"""Pages of contacts, messages and attachments."""

from flask import Blueprint

bp = Blueprint("evidence", __name__)
