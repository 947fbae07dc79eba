"""API endpoints of imports: a platform's own export file into one contact."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..db import before_reading_body, get_session
from ..errors import InvalidInput
from ..evidence.recording import require_recorder
from ..imports import services
from ..imports.exports import ImportRefused, Limits
from ..imports.schemas import ImportPublic, ImportUpload
from ..imports.serialize import import_json
from . import bp
from .inputs import read_form
from .openapi import route

#: The most the multipart parser holds in memory at once (a text field, or the data it is scanning for
#: the next boundary); the file itself is spooled to disk.
FORM_ALLOWANCE = 1024 * 1024


@route(
    bp,
    "/contacts/<int:contact_id>/imports",
    "POST",
    form=ImportUpload,
    answer=ImportPublic,
    status=201,
    also=(200,),
    errors=(400, 403, 404, 409, 413),
)
def import_export(contact_id: int) -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
    """Import a platform's export into the contact: 201 with what it added; 200 when the same file was
    imported before (nothing added) and for a dry run (nothing stored)."""
    session = get_session()
    actor: Any = current_user._get_current_object()  # type: ignore[attr-defined]
    require_recorder(session=session, actor=actor, contact_id=contact_id)
    before_reading_body(session)
    request.max_form_memory_size = FORM_ALLOWANCE
    if request.mimetype != "multipart/form-data":
        raise InvalidInput("an import is a multipart/form-data request with the export in file", field="file")
    form = read_form(ImportUpload)
    wanted = services.ImportRequest(
        contact_id=contact_id,
        format=form.format,
        decoy_name=form.decoy_name,
        filename=form.file.filename or "",
        timezone=form.timezone,
        chat=form.chat,
        capture_session_id=None if form.capture_session is None else int(form.capture_session),
        dry_run=form.dry_run in ("true", "1"),
    )
    try:
        limits = Limits(max_uncompressed=int(current_app.config["MAX_IMPORT_UNPACKED_BYTES"]))
        outcome = services.import_export(session, actor, wanted, form.file.stream, limits=limits)
    except ImportRefused as refused:
        session.rollback()
        raise InvalidInput(refused.message, field=refused.field) from None
    body = jsonify(import_json(outcome))
    if outcome.created and not outcome.dry_run:
        return body, 201, {"Location": url_for("api.get_import", import_id=outcome.id)}
    return body, 200


@route(bp, "/imports/<int:import_id>", answer=ImportPublic, errors=(404, 409))
def get_import(import_id: int) -> Response:
    """An import with its counts and the differences it found."""
    session = get_session()
    outcome = services.visible_import(session, current_user, import_id)
    return jsonify(import_json(outcome))
