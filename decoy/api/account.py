"""The caller's own account, and the officers' verbalisant codes (set by an admin, read by legal
officers and admins)."""

from __future__ import annotations

from datetime import datetime

from flask import jsonify
from flask_login import current_user
from werkzeug.wrappers import Response

from ..auth.principal import require_roles
from ..db import get_session
from ..disclosure import codes
from ..models.schemas import Input, Output
from . import bp
from .inputs import read_json
from .openapi import route


class Account(Output):
    """Who the caller is."""

    username: str
    roles: list[str]
    #: The code the caller acts under outside Decoy (null until an admin sets it).
    verbalisant_code: str | None


class CodeSet(Input):
    """An officer's verbalisant code, e.g. ``AVIM-0412``."""

    code: str


class CodeAssigned(Output):
    """The account and the code it now has."""

    username: str
    code: str


class CodeAssignment(Output):
    """That an account had a code from a moment on (until its next assignment)."""

    username: str
    display_name: str
    code: str
    assigned_at: datetime
    assigned_by: str | None


class CodeAssignments(Output):
    """Who had which code when, newest first."""

    items: list[CodeAssignment]


@route(bp, "/me", answer=Account)
def me() -> Response:
    """The caller's account."""
    account = Account(
        username=current_user.username,
        roles=sorted(current_user.roles),
        verbalisant_code=current_user.verbalisant_code,
    )
    return jsonify(account.model_dump(mode="json"))


@route(
    bp,
    "/users/<username>/verbalisant-code",
    "PUT",
    body=CodeSet,
    answer=CodeAssigned,
    errors=(400, 403, 404, 409),
)
@require_roles("admin")
def set_verbalisant_code(username: str) -> Response:
    """Give an officer's account its verbalisant code (admins only); the change is recorded."""
    session = get_session()
    data = read_json(CodeSet)
    user = codes.set_code(session, actor=current_user, username=username, code=data.code)
    session.commit()
    answer = CodeAssigned(username=user.username, code=user.verbalisant_code or "")
    return jsonify(answer.model_dump(mode="json"))


@route(bp, "/verbalisant-codes", answer=CodeAssignments, errors=(403,))
@require_roles("admin", "legal")
def verbalisant_codes() -> Response:
    """Who had which verbalisant code from when (legal officers and admins; never leaves Decoy)."""
    items = [CodeAssignment(**vars(found)) for found in codes.mapping(get_session())]
    return jsonify(CodeAssignments(items=items).model_dump(mode="json"))
