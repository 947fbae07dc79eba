"""The caller's own account."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user
from werkzeug.wrappers import Response

from ..models.schemas import Output
from . import bp
from .openapi import route


class Account(Output):
    """Who the caller is."""

    username: str
    roles: list[str]


@route(bp, "/me", answer=Account)
def me() -> Response:
    """The caller's account."""
    account = Account(username=current_user.username, roles=sorted(current_user.roles))
    return jsonify(account.model_dump(mode="json"))
