"""Downloading an evidence bundle: the legal officer's button (the API's endpoint answers the same)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask_login import current_user

from .. import access
from ..auth.principal import require_roles
from ..db import get_session
from .bundle import export_to_stream, iter_bundle

bp = Blueprint("export", __name__)


def bundle_download(operation_id: int) -> Response:
    """The operation's evidence bundle, streamed as a ZIP download."""
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


@bp.route("/operations/<int:operation_id>/export", methods=["GET", "POST"])
@require_roles("legal")
def download(operation_id: int) -> Response | str:
    """The legal officer's export: GET asks to confirm, POST makes the export and downloads the bundle.

    Making an export writes its audit entry and signs a checkpoint, so it is never the side effect of a
    GET (a link followed by a browser's prefetch or a crawler would make one).
    """
    if request.method == "GET":
        operation = access.visible_operation(get_session(), current_user, operation_id)
        return render_template("operations/export.html", operation=operation)
    return bundle_download(operation_id)

