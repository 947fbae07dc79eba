"""Domain errors, one per kind of refusal, and their single mapping to HTTP answers."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException


class DecoyError(Exception):
    """Base of every refusal a service can raise."""

    status = 400
    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DecoyError):
    """The request is malformed; ``field`` names the offending field."""

    status = 400
    code = "invalid"


class NotAuthenticated(DecoyError):
    """No valid session or token."""

    status = 401
    code = "unauthenticated"


class Forbidden(DecoyError):
    """The caller's role does not allow this action."""

    status = 403
    code = "forbidden"


class NotFound(DecoyError):
    """The object does not exist, or belongs to an operation the caller may not see."""

    status = 404
    code = "not_found"


class RuleViolation(DecoyError):
    """The action would break a rule of the authorization or the four-eyes principle."""

    status = 409
    code = "rule_violation"


class TooLarge(DecoyError):
    """The upload exceeds the configured limit."""

    status = 413
    code = "too_large"


class Unavailable(DecoyError):
    """A service Decoy depends on (the database) is unreachable; try again."""

    status = 503
    code = "unavailable"


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The JSON shape of every error answer."""
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return {"error": body}


def wants_json() -> bool:
    """Whether the caller should get JSON rather than an HTML page."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _answer(status: int, code: str, message: str, field: str | None = None) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify(error_body(code, message, field)), status
    return render_template("errors/error.html", status=status, message=message, field=field), status


def register_error_handlers(app: Flask) -> None:
    """Map domain errors, HTTP errors and database outages to answers in one place."""

    @app.errorhandler(DecoyError)
    def _domain(error: DecoyError) -> tuple[Response | str, int]:
        return _answer(error.status, error.code, error.message, error.field)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[Response | str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        code = (error.name or "error").lower().replace(" ", "_")
        answer = _answer(error.code, code, error.description or error.name)
        if error.code == 405 and isinstance(answer[0], Response):
            answer[0].headers["Allow"] = ", ".join(error.valid_methods or [])  # type: ignore[attr-defined]
        return answer

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeoutError)
    def _database_down(error: Exception) -> tuple[Response | str, int]:
        app.logger.error("database unavailable: %s", error)
        response = _answer(503, "unavailable", "The database is unavailable; try again shortly.")
        return response
