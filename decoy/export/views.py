"""Downloading an evidence bundle: the legal officer's button (the API's endpoint answers the same)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask_login import current_user
from sqlmodel import col, select

from .. import access
from ..auth.principal import require_roles
from ..db import get_session
from ..models import Contact
from .bundle import export_to_stream, iter_bundle
from .selection import parse_contacts

bp = Blueprint("export", __name__)


def export_scope() -> dict[str, Any]:
    """The contacts, purpose and recipient an export request names (query string or form)."""
    named = request.values.getlist("contacts")
    return {
        "contacts": parse_contacts(",".join(named) if named else None),
        "purpose": request.values.get("purpose", ""),
        "recipient": request.values.get("recipient", ""),
    }


def bundle_download(operation_id: int) -> Response:
    """The operation's evidence bundle (of the contacts the request names), streamed as a ZIP download."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    plan = export_to_stream(app, get_session(), current_user, operation_id, **export_scope())
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
        session = get_session()
        operation = access.visible_operation(session, current_user, operation_id)
        contacts = session.exec(
            select(Contact).where(Contact.operation_id == operation_id).order_by(col(Contact.id))
        ).all()
        return render_template("operations/export.html", operation=operation, contacts=contacts)
    return bundle_download(operation_id)

