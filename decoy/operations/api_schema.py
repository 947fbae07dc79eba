"""The OpenAPI description of the operations, authorizations and profiles endpoints."""

from __future__ import annotations

from typing import Any

from ..api.openapi import error_responses, json_response, register
from ..models import OperationStatus
from .api_models import PROFILE_STATE
from .rules import STATUSES

_ID = {"type": "integer", "minimum": 1, "maximum": 2147483647}
_NEXT = {"type": ["string", "null"]}
_REF = "#/components/schemas/"


def _text(max_length: int = 200, min_length: int = 0) -> dict[str, Any]:
    return {"type": "string", "minLength": min_length, "maxLength": max_length}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF + name}


def _list(name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "next"],
        "properties": {"items": {"type": "array", "items": _ref(name)}, "next": _NEXT},
    }


def _json_body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


_PAGE = [
    {
        "name": "after",
        "in": "query",
        "required": False,
        "schema": {**_ID, "minimum": 0},
        "description": "the id of the last item of the previous page",
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
    },
]


def describe() -> None:
    """Register the endpoints of this feature in the OpenAPI document."""
    op_path = [_path("operation_id")]
    register(
        "/operations",
        "get",
        {
            "summary": "The caller's operations",
            "parameters": _PAGE,
            "responses": {**json_response("operations", _list("Operation")), **error_responses(400)},
        },
    )
    register(
        "/operations",
        "post",
        {
            "summary": "Open an operation (supervisors)",
            "requestBody": _json_body(
                {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": _text(120, 1),
                        "team": _text(120),
                        "timezone": _text(64),
                        "description": _text(20000),
                    },
                }
            ),
            "responses": {
                **json_response("created", _ref("Operation"), 201),
                **error_responses(400, 403, 409, 413),
            },
        },
    )
    register(
        "/operations/{operation_id}",
        "get",
        {
            "summary": "One operation with its members",
            "parameters": op_path,
            "responses": {**json_response("operation", _ref("Operation")), **error_responses(404)},
        },
    )
    register(
        "/operations/{operation_id}/members",
        "post",
        {
            "summary": "Assign a person to the operation (a supervisor member)",
            "parameters": op_path,
            "requestBody": _json_body(
                {"type": "object", "required": ["username"], "properties": {"username": _text(64, 1)}}
            ),
            "responses": {
                **json_response("assigned", _ref("Member"), 201),
                **error_responses(400, 403, 404, 409, 413),
            },
        },
    )
    register(
        "/operations/{operation_id}/status",
        "post",
        {
            "summary": "Move the operation to another status (a supervisor member)",
            "parameters": op_path,
            "requestBody": _json_body(
                {
                    "type": "object",
                    "required": ["status"],
                    "properties": {"status": {"enum": [s.value for s in OperationStatus]}},
                }
            ),
            "responses": {
                **json_response(
                    "changed",
                    {
                        "type": "object",
                        "required": ["id", "status"],
                        "properties": {"id": {"type": "integer"}, "status": {"type": "string"}},
                    },
                ),
                **error_responses(400, 403, 404, 409, 413),
            },
        },
    )
    register(
        "/operations/{operation_id}/authorizations",
        "get",
        {
            "summary": "The operation's authorizations with their status",
            "parameters": op_path + _PAGE,
            "responses": {
                **json_response("authorizations", _list("Authorization")),
                **error_responses(400, 404),
            },
        },
    )
    register(
        "/operations/{operation_id}/authorizations",
        "post",
        {
            "summary": "Register an authorization or an extension superseding one (legal officers)",
            "parameters": op_path,
            "requestBody": _json_body(_ref("AuthorizationInput")),
            "responses": {
                **json_response("registered", _ref("Authorization"), 201),
                **error_responses(400, 403, 404, 409, 413),
            },
        },
    )
    register(
        "/authorizations",
        "get",
        {
            "summary": "The central record of every operation's authorizations (legal officers)",
            "parameters": [
                {
                    "name": "q",
                    "in": "query",
                    "required": False,
                    "schema": _text(200),
                    "description": "search: reference, operation, authority, issuer, legal basis, offence",
                },
                {"name": "status", "in": "query", "required": False, "schema": {"enum": list(STATUSES)}},
            ],
            "responses": {
                **json_response("central record", _list("Authorization")),
                **error_responses(400, 403),
            },
        },
    )
    register(
        "/authorizations/{authorization_id}",
        "get",
        {
            "summary": "One authorization",
            "parameters": [_path("authorization_id")],
            "responses": {**json_response("authorization", _ref("Authorization")), **error_responses(404)},
        },
    )
    register(
        "/authorizations/{authorization_id}/documents",
        "post",
        {
            "summary": "Attach the scanned order as PDF (legal officers)",
            "parameters": [_path("authorization_id")],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "kind": {"enum": ["order", "written_order"]},
                            },
                        }
                    }
                },
            },
            "responses": {
                **json_response("attached", _ref("AuthorizationDocument"), 201),
                **error_responses(400, 403, 404, 413),
            },
        },
    )
    register(
        "/operations/{operation_id}/profiles",
        "get",
        {
            "summary": "The operation's decoy profiles",
            "parameters": op_path + _PAGE,
            "responses": {**json_response("profiles", _list("Profile")), **error_responses(400, 404)},
        },
    )
    register(
        "/operations/{operation_id}/profiles",
        "post",
        {
            "summary": "Propose a decoy profile (a supervisor member)",
            "parameters": op_path,
            "requestBody": _json_body(
                {
                    "type": "object",
                    "required": ["authorization_id", "platform", "handle"],
                    "properties": {
                        "authorization_id": _ID,
                        "platform": _text(80, 1),
                        "handle": _text(200, 1),
                        "persona": _text(20000),
                    },
                }
            ),
            "responses": {
                **json_response("proposed", _ref("Profile"), 201),
                **error_responses(400, 403, 404, 409, 413),
            },
        },
    )
    register(
        "/profiles/{profile_id}",
        "get",
        {
            "summary": "One profile with its history",
            "parameters": [_path("profile_id")],
            "responses": {**json_response("profile", _ref("Profile")), **error_responses(404)},
        },
    )
    reason = {"type": "object", "properties": {"reason": _text(2000)}}
    for action, summary, body in (
        ("approve", "Approve a colleague's proposal; 409 names the broken rule", None),
        ("suspend", "Suspend an active profile, with a reason", {**reason, "required": ["reason"]}),
        ("retire", "Retire a profile for good", reason),
    ):
        operation: dict[str, Any] = {
            "summary": summary,
            "parameters": [_path("profile_id")],
            "responses": {
                **json_response("new status", PROFILE_STATE),
                **error_responses(400, 403, 404, 409, 413),
            },
        }
        if body is not None:
            operation["requestBody"] = _json_body(body, required=action == "suspend")
        register(f"/profiles/{{profile_id}}/{action}", "post", operation)
