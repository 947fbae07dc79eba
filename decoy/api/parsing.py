"""Strict parsing of JSON request bodies: every refusal names its field (400), never a 500."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request

from ..clock import parse_timestamp
from ..errors import InvalidInput

MAX_TEXT = 100_000


def json_body() -> dict[str, Any]:
    """The request's JSON object, or InvalidInput."""
    if not request.is_json:
        raise InvalidInput("expected a JSON object (Content-Type: application/json)", field="body")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("the body is not a JSON object", field="body")
    return data


def text(data: dict[str, Any], name: str, *, required: bool = True, max_length: int = 200,
         default: str = "", allow_empty: bool = False) -> str:
    """A string field, trimmed of surrounding whitespace for names (not for evidence text)."""
    value = data.get(name)
    if value is None:
        if required:
            raise InvalidInput(f"{name} is required", field=name)
        return default
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string", field=name)
    value = value.strip()
    if not value and required and not allow_empty:
        raise InvalidInput(f"{name} must not be empty", field=name)
    if len(value) > max_length:
        raise InvalidInput(f"{name} is longer than {max_length} characters", field=name)
    return value


def integer(data: dict[str, Any], name: str, *, required: bool = True, minimum: int | None = None,
            maximum: int | None = None, default: int | None = None) -> int:
    """An integer field (booleans are not integers here)."""
    value = data.get(name)
    if value is None:
        if required or default is None:
            raise InvalidInput(f"{name} is required", field=name)
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be an integer", field=name)
    if minimum is not None and value < minimum:
        raise InvalidInput(f"{name} must be at least {minimum}", field=name)
    if maximum is not None and value > maximum:
        raise InvalidInput(f"{name} must be at most {maximum}", field=name)
    return value


def boolean(data: dict[str, Any], name: str, *, default: bool = False) -> bool:
    """A boolean field."""
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false", field=name)
    return value


def string_list(data: dict[str, Any], name: str, *, required: bool = True, max_items: int = 100,
                max_length: int = 200) -> list[str]:
    """A list of non-empty strings."""
    value = data.get(name)
    if value is None:
        if required:
            raise InvalidInput(f"{name} is required", field=name)
        return []
    if not isinstance(value, list) or len(value) > max_items:
        raise InvalidInput(f"{name} must be a list of at most {max_items} strings", field=name)
    items = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item) > max_length:
            raise InvalidInput(f"{name} must hold non-empty strings of at most {max_length} characters",
                               field=name)
        items.append(item.strip())
    return items


def timestamp(data: dict[str, Any], name: str, *, required: bool = True) -> datetime | None:
    """An RFC 3339 timestamp with an explicit offset; the offset is kept on the returned value."""
    value = data.get(name)
    if value is None:
        if required:
            raise InvalidInput(f"{name} is required", field=name)
        return None
    return parse_timestamp(value, name)


def page_arguments(default_limit: int = 50, max_limit: int = 500) -> tuple[int | None, int]:
    """The ``after`` keyset cursor and ``limit`` query parameters."""
    after_text = request.args.get("after")
    limit_text = request.args.get("limit")
    try:
        after = int(after_text) if after_text not in (None, "") else None
    except ValueError as error:
        raise InvalidInput("after must be an integer", field="after") from error
    try:
        limit = int(limit_text) if limit_text not in (None, "") else default_limit
    except ValueError as error:
        raise InvalidInput("limit must be an integer", field="limit") from error
    if not 1 <= limit <= max_limit:
        raise InvalidInput(f"limit must be between 1 and {max_limit}", field="limit")
    if after is not None and after < 0:
        raise InvalidInput("after must not be negative", field="after")
    return after, limit
