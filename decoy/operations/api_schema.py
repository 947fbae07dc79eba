"""The OpenAPI description of the operations, authorizations and profiles endpoints."""

from __future__ import annotations

from typing import Any

from ..api.openapi import SCHEMAS, error_responses, json_response, register
from ..models import AuthorizationKind, OperationStatus, ProfileStatus
from .rules import STATUSES

_ID = {"type": "integer", "minimum": 1, "maximum": 2147483647}
_TIME = {"type": "string", "format": "date-time"}
_MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
_NEXT = {"type": ["string", "null"]}
_REF = "#/components/schemas/"
_STRINGS = {"type": "array", "items": {"type": "string"}}


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

_PROFILE_STATE = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {"id": {"type": "integer"}, "status": {"enum": [s.value for s in ProfileStatus]}},
}

SCHEMAS.update(
    {
        "Operation": {
            "type": "object",
            "required": [
                "id",
                "name",
                "team",
                "status",
                "timezone",
                "description",
                "created_by",
                "created_at",
            ],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "team": {"type": "string"},
                "status": {"enum": [s.value for s in OperationStatus]},
                "timezone": {"type": "string"},
                "description": {"type": "string"},
                "created_by": {"type": "string"},
                "created_at": _TIME,
                "members": {"type": "array", "items": _ref("Member")},
            },
        },
        "Member": {
            "type": "object",
            "required": ["username", "added_by", "added_at"],
            "properties": {
                "operation_id": {"type": "integer"},
                "username": {"type": "string"},
                "added_by": {"type": "string"},
                "added_at": _TIME,
            },
        },
        "AuthorizationDocument": {
            "type": "object",
            "required": ["id", "authorization_id", "kind", "filename", "sha256", "size", "media_type"],
            "properties": {
                "id": {"type": "integer"},
                "authorization_id": {"type": "integer"},
                "kind": {"enum": ["order", "written_order"]},
                "filename": {"type": "string"},
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "size": {"type": "integer"},
                "media_type": {"type": "string"},
                "uploaded_by": {"type": "string"},
                "uploaded_at": _TIME,
            },
        },
        "Authorization": {
            "type": "object",
            "required": [
                "id",
                "operation_id",
                "reference",
                "kind",
                "valid_from",
                "valid_until",
                "platforms",
                "officers",
                "max_profiles",
                "may_initiate_contact",
                "status",
                "documents",
            ],
            "properties": {
                "id": {"type": "integer"},
                "operation_id": {"type": "integer"},
                "reference": {"type": "string"},
                "kind": {"enum": [k.value for k in AuthorizationKind]},
                "authority": {"type": "string"},
                "issuer_name": {"type": "string"},
                "legal_basis": {"type": "string"},
                "offence": {"type": "string"},
                "suspect_description": {"type": "string"},
                "justification": {"type": "string"},
                "method": {"type": "string"},
                "issued_on": {"type": ["string", "null"], "format": "date"},
                "valid_from": _TIME,
                "valid_until": _TIME,
                "review_interval_days": {"type": "integer"},
                "platforms": _STRINGS,
                "persona_constraints": {"type": "string"},
                "may_initiate_contact": {"type": "boolean"},
                "max_profiles": {"type": "integer"},
                "officers": _STRINGS,
                "conditions": {"type": "string"},
                "written_order_due": _MAYBE_TIME,
                "written_order_overdue": {"type": "boolean"},
                "supersedes_id": {"type": ["integer", "null"]},
                "superseded_by": {"type": ["integer", "null"]},
                "status": {"enum": list(STATUSES)},
                "documents": {"type": "array", "items": _ref("AuthorizationDocument")},
                "registered_by": {"type": "string"},
                "registered_at": _TIME,
                "operation_name": {"type": "string"},
            },
        },
        "AuthorizationInput": {
            "type": "object",
            "required": [
                "reference",
                "kind",
                "authority",
                "legal_basis",
                "valid_from",
                "valid_until",
                "review_interval_days",
                "platforms",
                "max_profiles",
                "officers",
            ],
            "properties": {
                "reference": _text(120, 1),
                "kind": {"enum": [k.value for k in AuthorizationKind]},
                "authority": _text(200, 1),
                "issuer_name": _text(),
                "legal_basis": _text(200, 1),
                "offence": _text(20000),
                "suspect_description": _text(20000),
                "justification": _text(20000),
                "method": _text(20000),
                "issued_on": {"type": "string", "format": "date"},
                "valid_from": _TIME,
                "valid_until": _TIME,
                "review_interval_days": {"type": "integer", "minimum": 1, "maximum": 3650},
                "platforms": {"type": "array", "minItems": 1, "maxItems": 50, "items": _text(80, 1)},
                "persona_constraints": _text(20000),
                "may_initiate_contact": {"type": "boolean", "default": False},
                "max_profiles": {"type": "integer", "minimum": 1, "maximum": 1000},
                "officers": {
                    "type": "array",
                    "maxItems": 200,
                    "items": _text(64, 1),
                    "description": "usernames of the named officers",
                },
                "conditions": _text(20000),
                "supersedes_id": _ID,
                "written_order_days": {"type": "integer", "minimum": 1, "maximum": 30},
            },
        },
        "Profile": {
            "type": "object",
            "required": ["id", "operation_id", "authorization_id", "platform", "handle", "status"],
            "properties": {
                "id": {"type": "integer"},
                "operation_id": {"type": "integer"},
                "authorization_id": {"type": "integer"},
                "platform": {"type": "string"},
                "handle": {"type": "string"},
                "persona": {"type": "string"},
                "status": {"enum": [s.value for s in ProfileStatus]},
                "proposed_by": {"type": "string"},
                "proposed_at": _TIME,
                "approved_by": {"type": ["string", "null"]},
                "approved_at": _MAYBE_TIME,
                "history": {"type": "array", "items": _ref("ProfileTransition")},
            },
        },
        "ProfileTransition": {
            "type": "object",
            "required": ["from_status", "to_status", "actor", "reason", "at"],
            "properties": {
                "from_status": {"type": ["string", "null"]},
                "to_status": {"type": "string"},
                "actor": {"type": "string"},
                "reason": {"type": "string"},
                "at": _TIME,
            },
        },
    }
)


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
                **json_response("new status", _PROFILE_STATE),
                **error_responses(400, 403, 404, 409, 413),
            },
        }
        if body is not None:
            operation["requestBody"] = _json_body(body, required=action == "suspend")
        register(f"/profiles/{{profile_id}}/{action}", "post", operation)
