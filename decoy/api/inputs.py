"""Reading a request into the model its route declares: JSON body, multipart form or query string.

Every refusal is InvalidInput naming the field (400), never a 500: malformed or deeply nested JSON,
wrong types, numbers beyond any range. Handlers call these readers where they need the input, after
the access checks, so a caller who may not act is told so before anything about the input.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar, get_origin

from flask import request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import BadRequest

from ..errors import InvalidInput
from .openapi import declared

M = TypeVar("M", bound=BaseModel)
JSON_LIMIT = 1024 * 1024


def read_json(model: type[M], *, limit: int = JSON_LIMIT, optional: bool = False) -> M:
    """The JSON object of the request as ``model``; an ``optional`` body may be left out entirely."""
    _check_declared(model, "body")
    request.max_content_length = limit
    if optional and not request.get_data(cache=True):
        return _validated(model, {})
    if not request.is_json:
        raise InvalidInput("expected a JSON object (Content-Type: application/json)", field="body")
    try:
        data = request.get_json()
    except BadRequest as error:
        raise InvalidInput("the body is not valid JSON", field="body") from error
    except RecursionError as error:  # the standard library's parser recurses once per nesting level
        raise InvalidInput("the body is nested too deeply", field="body") from error
    if not isinstance(data, dict):
        raise InvalidInput("the body is not a JSON object", field="body")
    return _validated(model, data)


def read_form(model: type[M]) -> M:
    """The multipart/form-data request as ``model``: its text fields (empty ones left out) and its files."""
    _check_declared(model, "form")
    data: dict[str, Any] = {name: value for name, value in request.form.items() if value != ""}
    for name in request.files:
        field = model.model_fields.get(name)
        if field is None:
            raise InvalidInput(f"{name} is not a file field of this request", field=name)
        files = [upload for upload in request.files.getlist(name) if upload.filename]
        if get_origin(field.annotation) is list:
            data[name] = files
        elif files:
            data[name] = files[0]
    return _validated(model, data)


def read_query(model: type[M]) -> M:
    """The query string as ``model`` (empty arguments left out, as if not given)."""
    _check_declared(model, "query")
    return _validated(model, {name: value for name, value in request.args.items() if value != ""})


def _validated(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput.from_validation(error) from None


def _check_declared(model: type[BaseModel], part: Literal["body", "form", "query"]) -> None:
    """The model read must be the one the route declares, so that the document describes what is read."""
    spec = declared(request.endpoint)
    if spec is None or getattr(spec, part) is not model:
        raise RuntimeError(f"{request.endpoint} reads {model.__name__} as its {part} but does not declare it")
