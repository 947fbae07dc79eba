"""The JSON API under /api/v1: bearer tokens or the session, JSON errors, OpenAPI description."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.wrappers import Response

from ..errors import NotAuthenticated
from .openapi import Content, build_document, route

bp = Blueprint("api", __name__, url_prefix="/api/v1")

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@bp.before_request
def _authenticate() -> None:
    """Accept a bearer token, or the session (then unsafe methods need the CSRF header)."""
    if request.headers.get("Authorization", ""):
        # Flask-Login's request loader read the bearer token (decoy.auth.principal); with a non-empty
        # header there is no cookie session, so the token authenticates this request alone.
        if not current_user.is_authenticated:
            raise NotAuthenticated("invalid, expired or revoked token")
        g.api_token_auth = True
        return
    if request.endpoint == "api.openapi":
        return
    if not current_user.is_authenticated:
        raise NotAuthenticated("authentication required: a bearer token or a session")
    if request.method in UNSAFE_METHODS:
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except CSRFError as error:
            raise NotAuthenticated(f"CSRF token missing or invalid: {error.description}") from error
        except Exception as error:  # flask-wtf raises ValidationError for a bad token
            raise NotAuthenticated("CSRF token missing or invalid") from error


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@route(bp, "/openapi.json", answer=Content(("application/json",), {"type": "object"}), public=True)
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API, generated from its routes' models."""
    return jsonify(build_document(bp))


# Feature modules attach their routes to ``bp`` when imported.
from . import (  # noqa: E402,F401
    account,
    audit,
    capture,
    categories,
    disclosure,
    evidence,
    export,
    imports,
    initiative,
    leads,
    notices,
    operations,
    orders,
    reports,
    retention,
    reviews,
    safeguarding,
)
