"""The evidence bundle of an operation, for legal officers."""

from __future__ import annotations

from flask import Response

from ..auth.principal import require_roles
from ..export.views import bundle_download
from . import bp
from .openapi import BINARY, Content, route


@route(bp, "/operations/<int:operation_id>/export", answer=Content(("application/zip",), BINARY),
       errors=(403, 404))
@require_roles("legal")
def api_download(operation_id: int) -> Response:
    """The operation's evidence bundle (ZIP); each call makes an export (its audit entry and a checkpoint).

    A GET, as the first version of the API fixed it; API clients call it deliberately, and the web page
    makes exports by POST only.
    """
    return bundle_download(operation_id)
