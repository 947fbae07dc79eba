"""API endpoints of capture sessions: start one on a profile, end it with the completeness statement, read."""

from __future__ import annotations

from flask import jsonify, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..capture import services
from ..capture.schemas import (
    CaptureSessionCreate,
    CaptureSessionEnding,
    CaptureSessionPage,
    CaptureSessionPublic,
)
from ..capture.serialize import session_json
from ..db import get_session
from ..models.schemas import Page, PageQuery
from . import bp
from .inputs import read_json, read_query
from .openapi import route

#: What a change may answer besides success: malformed, not allowed, unknown, against a rule, too large.
CHANGE_ERRORS = (400, 403, 404, 409, 413)


@route(
    bp,
    "/profiles/<int:profile_id>/capture-sessions",
    "POST",
    body=CaptureSessionCreate,
    answer=CaptureSessionPublic,
    status=201,
    errors=CHANGE_ERRORS,
)
def start_capture_session(profile_id: int) -> tuple[Response, int, dict[str, str]]:
    """Start a capture session on an active profile, operated by the caller."""
    session = get_session()
    # Who may start one is known before the body is read: an outsider gets 404, a reader 403.
    services.require_operator(session=session, actor=current_user, profile_id=profile_id)
    data = read_json(CaptureSessionCreate)
    row = services.start_session(
        session=session, actor=current_user, profile_id=profile_id, device=data.device, tool=data.tool
    )
    session.commit()
    body = session_json(services.SessionRecord(row, None), {current_user.id: current_user.username})
    return jsonify(body), 201, {"Location": url_for("api.get_capture_session", capture_session_id=row.id)}


@route(
    bp,
    "/profiles/<int:profile_id>/capture-sessions",
    query=PageQuery,
    answer=CaptureSessionPage,
    errors=(400, 404),
)
def list_capture_sessions(profile_id: int) -> Response:
    """The profile's capture sessions with their ends, by id."""
    page = read_query(PageQuery)
    session = get_session()
    listed = services.read_sessions(
        session=session, actor=current_user, profile_id=profile_id, after=page.after, limit=page.limit
    )
    session.commit()
    next_path = None
    if listed.more:
        last = listed.records[-1].session.id
        next_path = url_for("api.list_capture_sessions", profile_id=profile_id, after=last, limit=page.limit)
    items = [session_json(found, listed.usernames) for found in listed.records]
    return jsonify(Page(items=items, next=next_path).model_dump(mode="json"))


@route(bp, "/capture-sessions/<int:capture_session_id>", answer=CaptureSessionPublic, errors=(404,))
def get_capture_session(capture_session_id: int) -> Response:
    """One capture session with its end."""
    session = get_session()
    found, names = services.read_session(
        session=session, actor=current_user, capture_session_id=capture_session_id
    )
    session.commit()
    return jsonify(session_json(found, names))


@route(
    bp,
    "/capture-sessions/<int:capture_session_id>/end",
    "POST",
    body=CaptureSessionEnding,
    answer=CaptureSessionPublic,
    errors=CHANGE_ERRORS,
)
def end_capture_session(capture_session_id: int) -> Response:
    """End a capture session (its operator or a supervisor of the operation), once."""
    session = get_session()
    services.require_ender(session=session, actor=current_user, capture_session_id=capture_session_id)
    data = read_json(CaptureSessionEnding)
    ended = services.end_session(
        session=session,
        actor=current_user,
        capture_session_id=capture_session_id,
        completeness_statement=data.completeness_statement,
        known_gaps=data.known_gaps,
    )
    names = services.usernames_of(session, [ended])
    session.commit()
    return jsonify(session_json(ended, names))
