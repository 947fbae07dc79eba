"""Downloading an evidence bundle: the legal officer's button and the API endpoint."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, stream_with_context
from flask_login import current_user

from ..api import bp as api_bp
from ..api.openapi import json_response, register
from ..auth.principal import require_roles
from ..db import get_session
from .bundle import export_to_stream, iter_bundle

bp = Blueprint("export", __name__)


def _download(operation_id: int) -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    plan = export_to_stream(app, get_session(), current_user, operation_id)
    # The request's session has committed the export's entry and checkpoint; the bundle is read from
    # its own snapshot while it streams.
    get_session().close()
    response = Response(stream_with_context(iter_bundle(app, plan)), mimetype="application/zip")
    filename = f"decoy-operation-{operation_id}-evidence-{plan.checkpoint.size}.zip"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/operations/<int:operation_id>/export")
@require_roles("legal")
def download(operation_id: int) -> Response:
    """The legal officer's download of an operation's evidence bundle."""
    return _download(operation_id)


@api_bp.route("/operations/<int:operation_id>/export")
@require_roles("legal")
def api_download(operation_id: int) -> Response:
    """The evidence bundle of an operation (ZIP), for legal officers."""
    return _download(operation_id)


register(
    "/operations/{operation_id}/export",
    "get",
    {
        "summary": "The operation's evidence bundle (ZIP)",
        "parameters": [
            {"name": "operation_id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "responses": {
            "200": {
                "description": "bundle",
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            },
            **json_response("not legal", {"$ref": "#/components/schemas/Error"}, 403),
            **json_response("unknown operation", {"$ref": "#/components/schemas/Error"}, 404),
        },
    },
)
