"""Decoy: evidence-grade management of court-sanctioned decoy-profile operations."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any

from flask import Flask, Request, current_app, g, has_request_context, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import get_locale
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import config as configuration
from . import db
from .clock import SystemClock
from .evidence.validation import MAX_FILES
from .extensions import babel, csrf, login_manager
from .models import MAX_ID

__all__ = ["create_app"]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class IdConverter(IntegerConverter):
    """Route ids: non-negative integers within the range of an id column, in ASCII digits only (Python's
    ``\\d`` would also take other scripts' digits, so that /attachments/١ named attachment 1)."""

    regex = r"[0-9]+"

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


class CookieSessions(SecureCookieSessionInterface):
    """The signed session cookie of the web pages. An API request that carries a bearer token has none:
    the token authenticates that request alone, so no cookie is read, signed or set for it."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """No session (an empty, unwritable one) for a bearer-token API request."""
        # The same test as the API's: a non-empty Authorization header is all that authenticates.
        if request.headers.get("Authorization") and request.path.startswith("/api/"):
            return None
        return super().open_session(app, request)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then the instance file, then ``test_config``, then ``DECOY_*``.

    The factory has no side effects: no migrations, network or scheduler start.
    """
    settings: dict[str, Any] = dict(configuration.DEFAULTS)
    environment = configuration.from_environment(os.environ)
    given = environment.get("DATA_DIR") or (test_config or {}).get("DATA_DIR")
    data_dir = Path(given or settings["DATA_DIR"])
    app = Flask(
        "decoy",
        instance_path=str(data_dir.resolve()),
        template_folder=str(configuration.resource_dir("templates")),
        static_folder=str(Path(__file__).resolve().parent / "static"),
    )
    app.config.update(settings)
    app.config.from_pyfile("decoy.cfg", silent=True)
    if test_config:
        app.config.update(test_config)
    app.config.update(environment)
    configuration.finalise(app.config)
    _check_legal_maxima(app)
    _check_retention_schedule(app)

    app.extensions["clock"] = app.config.get("CLOCK") or SystemClock()
    if app.config["PROXY_HOPS"]:
        # Behind the documented TLS proxy: the client's address and scheme come from the headers that
        # exactly this many trusted proxies append; anything a client puts before them is ignored.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.session_interface = CookieSessions()
    # Every <int:…> in a route is a row id: one past the column's range is simply not found (404).
    app.url_map.converters["int"] = IdConverter
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    from .errors import register_error_handlers

    register_error_handlers(app)
    from .cli import register_commands

    register_commands(app)
    return app


def _check_legal_maxima(app: Flask) -> None:
    """Refuse to start with a table of legal maxima that cannot be used (the data directory's override)."""
    from .orders.maxima import MaximaError, load_table

    try:
        load_table(app.config["DATA_DIR"])
    except MaximaError as error:
        raise configuration.ConfigurationError(str(error)) from error


def _check_retention_schedule(app: Flask) -> None:
    """Refuse to start with a retention schedule that cannot be used (the data directory's override)."""
    from .retention.schedule import ScheduleError, load_schedule

    try:
        load_schedule(app.config["DATA_DIR"])
    except ScheduleError as error:
        raise configuration.ConfigurationError(str(error)) from error


def select_locale() -> str | None:
    """The chosen language, else the browser's preference; the default outside a request (CLI, scheduler)."""
    if not has_request_context():
        return None
    chosen = session.get("lang")
    if chosen:
        return str(chosen)
    return request.accept_languages.best_match(["en", "nl"]) if request else None


def register_extensions(app: Flask) -> None:
    """Bind the extensions and the database."""
    db.init_app(app)
    # Templates build lists (a field's described-by ids, an error summary) with {% do %}.
    app.jinja_env.add_extension("jinja2.ext.do")
    from . import audit_bridge, clock

    clock.init_app(app)

    audit_bridge.init_app(app)
    # Before CSRF protection, which reads the form: the body's limit is known before anything is read.
    app.before_request(limit_request_body)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    from .auth import principal

    principal.enforce_session_timeouts(app)


#: Endpoints that take files: their body may hold MAX_FILES attachments of MAX_ATTACHMENT_BYTES each.
UPLOAD_ENDPOINTS = frozenset(
    {
        "evidence.log_message",
        "api.log_message",
        "operations.register_authorization",
        "operations.attach_document",
        "api.attach_document",
        "api.upload_signed_report",
        "api.create_redaction",
        "evidence.upload_signed_report",
    }
)
#: Endpoints that take a platform's export file (one file, up to MAX_IMPORT_BYTES).
IMPORT_ENDPOINTS = frozenset({"api.import_export", "imports.upload"})
IMPORT_FORM_ALLOWANCE = 1024 * 1024
#: Bodies without files: the sign-in forms, the other forms, and JSON (each API route may narrow it).
LOGIN_BODY_LIMIT = 16 * 1024
FORM_BODY_LIMIT = 256 * 1024
JSON_BODY_LIMIT = 8 * 1024 * 1024
UPLOAD_FORM_ALLOWANCE = 8 * 1024 * 1024


def limit_request_body() -> None:
    """No endpoint reads an unbounded body: each has a limit, and a larger declared body is a 413 at once."""
    endpoint = request.endpoint or ""
    if endpoint in IMPORT_ENDPOINTS:
        limit = int(current_app.config["MAX_IMPORT_BYTES"]) + IMPORT_FORM_ALLOWANCE
    elif endpoint in UPLOAD_ENDPOINTS:
        limit = int(current_app.config["MAX_ATTACHMENT_BYTES"]) * MAX_FILES + UPLOAD_FORM_ALLOWANCE
    elif endpoint.startswith("auth."):
        limit = LOGIN_BODY_LIMIT
    elif endpoint.startswith("api."):
        limit = JSON_BODY_LIMIT
    else:
        limit = FORM_BODY_LIMIT
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(f"the request body is larger than {limit} bytes")


def register_blueprints(app: Flask) -> None:
    """Register every feature's views."""
    from .admin.views import bp as admin_bp
    from .api import bp as api_bp
    from .auth.views import bp as auth_bp
    from .capture.views import bp as capture_bp
    from .evidence.views import bp as evidence_bp
    from .export.views import bp as export_bp
    from .imports.views import bp as imports_bp
    from .integrity.views import bp as integrity_bp
    from .main.views import bp as main_bp
    from .operations.views import bp as operations_bp
    from .reviews.views import bp as reviews_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(operations_bp)
    app.register_blueprint(evidence_bp)
    app.register_blueprint(capture_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(integrity_bp)
    app.register_blueprint(export_bp)
    app.register_blueprint(reviews_bp)
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)


def register_request_hooks(app: Flask) -> None:
    """Request ids, security headers and template globals."""

    @app.before_request
    def _request_id() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex

    @app.after_request
    def _security_headers(response: Any) -> Any:
        headers = response.headers
        # One update for the fixed ones (each replaces a header of the same name).
        headers.update(SECURITY_HEADERS)
        headers["X-Request-ID"] = g.get("request_id", "")
        if request.endpoint != "static":
            headers.setdefault("Cache-Control", "no-store")
        if request.is_secure or app.config["SESSION_COOKIE_SECURE"]:
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        return response

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        return {"current_locale": str(get_locale() or "en"), "languages": app.config["LANGUAGES"]}
