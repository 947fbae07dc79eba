"""OpenAPI components of operations, authorizations and profiles: the shapes of their JSON objects."""

from __future__ import annotations

from typing import Any

from ..api.openapi import SCHEMAS
from ..models import AuthorizationKind, OperationStatus, ProfileStatus
from .rules import STATUSES

_TIME = {"type": "string", "format": "date-time"}
_MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
ID = {"type": "integer", "minimum": 1, "maximum": 2147483647}
_REF = "#/components/schemas/"
_STRINGS = {"type": "array", "items": {"type": "string"}}


def text_schema(max_length: int = 200, min_length: int = 0) -> dict[str, Any]:
    """A string of bounded length."""
    return {"type": "string", "minLength": min_length, "maxLength": max_length}


def ref(name: str) -> dict[str, Any]:
    """A reference to a component schema."""
    return {"$ref": _REF + name}


PROFILE_STATE: dict[str, Any] = {
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
                "members": {"type": "array", "items": ref("Member")},
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
                "documents": {"type": "array", "items": ref("AuthorizationDocument")},
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
                "reference": text_schema(120, 1),
                "kind": {"enum": [k.value for k in AuthorizationKind]},
                "authority": text_schema(200, 1),
                "issuer_name": text_schema(),
                "legal_basis": text_schema(200, 1),
                "offence": text_schema(20000),
                "suspect_description": text_schema(20000),
                "justification": text_schema(20000),
                "method": text_schema(20000),
                "issued_on": {"type": "string", "format": "date"},
                "valid_from": _TIME,
                "valid_until": _TIME,
                "review_interval_days": {"type": "integer", "minimum": 1, "maximum": 3650},
                "platforms": {"type": "array", "minItems": 1, "maxItems": 50, "items": text_schema(80, 1)},
                "persona_constraints": text_schema(20000),
                "may_initiate_contact": {"type": "boolean", "default": False},
                "max_profiles": {"type": "integer", "minimum": 1, "maximum": 1000},
                "officers": {
                    "type": "array",
                    "maxItems": 200,
                    "items": text_schema(64, 1),
                    "description": "usernames of the named officers",
                },
                "conditions": text_schema(20000),
                "supersedes_id": ID,
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
                "history": {"type": "array", "items": ref("ProfileTransition")},
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
