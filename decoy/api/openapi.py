"""The OpenAPI document of /api/v1, assembled from the paths each feature registers."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        }
    },
}

SCHEMAS: dict[str, Any] = {"Error": ERROR_SCHEMA}
PATHS: dict[str, dict[str, Any]] = {}


def error_responses(*statuses: int) -> dict[str, Any]:
    """Error answers in the shared shape."""
    ref = {"$ref": "#/components/schemas/Error"}
    content = {"application/json": {"schema": ref}}
    return {str(s): {"description": "error", "content": content} for s in statuses}


def json_response(description: str, schema: dict[str, Any], status: int = 200) -> dict[str, Any]:
    """A JSON answer with ``schema``."""
    return {str(status): {"description": description, "content": {"application/json": {"schema": schema}}}}


def register(path: str, method: str, operation: dict[str, Any]) -> None:
    """Describe one operation of the API."""
    operation.setdefault("responses", {}).update(error_responses(401))
    PATHS.setdefault(path, {})[method.lower()] = operation


def build_document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Decoy API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


register("/me", "get", {
    "summary": "The caller's account",
    "responses": json_response("account", {
        "type": "object", "required": ["username", "roles"],
        "properties": {
            "username": {"type": "string"},
            "roles": {"type": "array", "items": {"type": "string"}},
        },
    }),
})
