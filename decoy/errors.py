"""Domain errors, one per kind of refusal, and their single mapping to HTTP answers."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from pydantic import BaseModel, Field, ValidationError
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

    @classmethod
    def from_validation(cls, error: ValidationError) -> InvalidInput:
        """The first problem a model found, naming its top-level field (``body`` for the whole body)."""
        problem = error.errors(include_url=False, include_input=False)[0]
        location = problem["loc"]
        field = str(location[0]) if location else "body"
        where = field + "".join(f"[{part}]" for part in location[1:])
        return cls(f"{where} {_explain(problem)}", field=field)


def _explain(problem: Any) -> str:
    """What is wrong, as the end of a sentence that starts with the field's name (never its value)."""
    kind, context = problem["type"], problem.get("ctx") or {}
    phrases = {
        "missing": "is required",
        "string_type": "must be a string",
        "string_unicode": "contains an unpaired surrogate, which cannot be stored as text",
        "int_type": "must be an integer",
        "int_parsing": "must be an integer",
        "bool_type": "must be true or false",
        "list_type": "must be a list",
        "model_type": "must be a JSON object",
        "is_instance_of": "must be a file",
        "literal_error": f"must be one of {context.get('expected')}",
        "string_too_long": f"is longer than {context.get('max_length')} characters",
        "too_long": f"must hold at most {context.get('max_length')} items",
        "too_short": f"must hold at least {context.get('min_length')} items",
        "greater_than_equal": f"must be at least {context.get('ge')}",
        "less_than_equal": f"must be at most {context.get('le')}",
        "string_pattern_mismatch": f"must match {context.get('pattern')}",
        "value_error": str(context.get("error")),
    }
    if kind == "string_too_short":
        shortest = context.get("min_length")
        return "must not be empty" if shortest == 1 else f"is shorter than {shortest} characters"
    return phrases.get(kind) or "is invalid: " + str(problem["msg"])


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


class ErrorDetail(BaseModel):
    """What went wrong: a code for programs, a message for people, the offending field when there is one."""

    code: str
    message: str
    field: str | None = Field(default=None, description="the offending field; absent when none is named")


class Error(BaseModel):
    """The JSON shape of every error answer."""

    error: ErrorDetail


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The JSON body of an error answer (``field`` left out when there is none)."""
    return Error(error=ErrorDetail(code=code, message=message, field=field)).model_dump(exclude_none=True)


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


def page_message(error: HTTPException) -> str:
    """The explanation an HTML error page shows for an HTTP error, in the reader's language.

    Werkzeug's standard explanations are replaced; a view's own description is kept.
    """
    if error.code == 400 and type(error).__name__ == "CSRFError":
        return _("The form expired; try again.")
    if error.description != type(error).description:
        return str(error.description or error.name)
    messages = {
        400: _("The request is malformed."),
        401: _("Sign in to continue."),
        403: _("Your role does not allow this."),
        404: _("The page does not exist, or you may not see it."),
        405: _("This address does not accept this kind of request."),
        413: _("The upload is too large."),
        429: _("Too many requests; wait a moment and try again."),
        500: _("Something went wrong on the server; the error is logged."),
    }
    return messages.get(error.code or 0, error.description or error.name)


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
        message = (error.description or error.name) if wants_json() else page_message(error)
        answer = _answer(error.code, code, message)
        if error.code == 405 and isinstance(answer[0], Response):
            answer[0].headers["Allow"] = ", ".join(error.valid_methods or [])  # type: ignore[attr-defined]
        return answer

    @app.errorhandler(OSError)
    def _storage_unavailable(error: OSError) -> tuple[Response | str, int]:
        # Receiving an upload spools it to a temporary file: a full or failing disk is the server's
        # condition, not the client's mistake, and nothing has been recorded.
        app.logger.error("storage unavailable: %s", error)
        reason = error.strerror or "input/output error"
        message = f"The server cannot store data right now ({reason}); try again later."
        if not wants_json():
            message = _(
                "The server cannot store data right now (%(reason)s); try again later.", reason=reason
            )
        return _answer(503, "unavailable", message)

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeoutError)
    def _database_down(error: Exception) -> tuple[Response | str, int]:
        app.logger.error("database unavailable: %s", error)
        message = "The database is unavailable; try again shortly."
        if not wants_json():
            message = _("The database is unavailable; try again shortly.")
        response = _answer(503, "unavailable", message)
        return response
