"""The evidence bundle of an operation, for legal officers."""

from __future__ import annotations

from flask import Response

from ..auth.principal import require_roles
from ..export.views import bundle_download
from . import bp
from .openapi import BINARY, Content, route


@route(bp, "/operations/<int:operation_id>/export", "POST", answer=Content(("application/zip",), BINARY),
       errors=(403, 404))
@require_roles("legal")
def api_export(operation_id: int) -> Response:
    """Make an export of the operation (its audit entry and a checkpoint) and answer its bundle (ZIP)."""
    return bundle_download(operation_id)


@route(bp, "/operations/<int:operation_id>/export", answer=Content(("application/zip",), BINARY),
       errors=(403, 404))
@require_roles("legal")
def api_download(operation_id: int) -> Response:
    """The same as POST, kept for clients of the first API version: prefer POST, as this makes an export."""
    return bundle_download(operation_id)
