"""Pages of operations, authorizations and profiles."""

from flask import Blueprint

bp = Blueprint("operations", __name__)
