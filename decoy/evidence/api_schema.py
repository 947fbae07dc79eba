"""The OpenAPI description of the evidence endpoints."""

from __future__ import annotations

from typing import Any

from ..api.openapi import SCHEMAS, error_responses, json_response, register
from ..models import FLAGS

_ID = {"type": "integer", "minimum": 1, "maximum": 2147483647}
_TIME = {"type": "string", "format": "date-time"}
_FLAGS = {"type": "array", "items": {"type": "string", "enum": list(FLAGS)}}
_NEXT = {"type": ["string", "null"]}
_REF = "#/components/schemas/"


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


def _page(default: int, maximum: int) -> list[dict[str, Any]]:
    return [
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
            "schema": {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
        },
    ]


SCHEMAS.update(
    {
        "Attachment": {
            "type": "object",
            "required": ["id", "sha256", "size", "media_type", "filename"],
            "properties": {
                "id": {"type": "integer"},
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "size": {"type": "integer"},
                "media_type": {"type": "string"},
                "filename": {"type": "string"},
            },
        },
        "Contact": {
            "type": "object",
            "required": [
                "id",
                "operation_id",
                "profile_id",
                "counterpart",
                "first_seen_at",
                "flags",
                "recorded_by",
                "recorded_at",
            ],
            "properties": {
                "id": {"type": "integer"},
                "operation_id": {"type": "integer"},
                "profile_id": {"type": "integer"},
                "counterpart": {"type": "string"},
                "first_seen_at": _TIME,
                "flags": _FLAGS,
                "recorded_by": {"type": "string"},
                "recorded_at": _TIME,
            },
        },
        "Message": {
            "type": "object",
            "required": [
                "id",
                "contact_id",
                "direction",
                "sent_at",
                "recorded_at",
                "recorded_by",
                "body",
                "flags",
                "corrects",
                "attachments",
            ],
            "properties": {
                "id": {"type": "integer"},
                "contact_id": {"type": "integer"},
                "direction": {"type": "string", "enum": ["in", "out"]},
                "sent_at": _TIME,
                "recorded_at": _TIME,
                "recorded_by": {"type": "string"},
                "body": {"type": "string"},
                "body_sha256": {"type": "string"},
                "flags": _FLAGS,
                "corrects": {"type": ["integer", "null"]},
                "attachments": {"type": "array", "items": {"$ref": _REF + "Attachment"}},
            },
        },
    }
)

_MESSAGE_FIELDS = {
    "direction": {"type": "string", "enum": ["in", "out"]},
    "sent_at": {**_TIME, "description": "the platform's time, RFC 3339 with its offset"},
    "body": {"type": "string", "description": "verbatim text; may be empty when files are attached"},
}


def describe() -> None:
    """Register every evidence endpoint with the OpenAPI document."""
    register(
        "/profiles/{profile_id}/contacts",
        "post",
        {
            "summary": "Record a contact (a counterpart who reached the profile)",
            "parameters": [_path("profile_id")],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["counterpart"],
                            "properties": {
                                "counterpart": {"type": "string", "minLength": 1},
                                "first_seen_at": _TIME,
                            },
                        }
                    }
                },
            },
            "responses": {
                **json_response("recorded", {"$ref": _REF + "Contact"}, 201),
                **error_responses(400, 403, 404, 413),
            },
        },
    )
    register(
        "/profiles/{profile_id}/contacts",
        "get",
        {
            "summary": "The profile's contacts",
            "parameters": [_path("profile_id"), *_page(50, 500)],
            "responses": {
                **json_response(
                    "contacts",
                    {
                        "type": "object",
                        "required": ["items", "next"],
                        "properties": {
                            "items": {"type": "array", "items": {"$ref": _REF + "Contact"}},
                            "next": _NEXT,
                        },
                    },
                ),
                **error_responses(400, 404),
            },
        },
    )
    register(
        "/contacts/{contact_id}",
        "get",
        {
            "summary": "One contact",
            "parameters": [_path("contact_id")],
            "responses": {**json_response("contact", {"$ref": _REF + "Contact"}), **error_responses(404)},
        },
    )
    register(
        "/contacts/{contact_id}/messages",
        "post",
        {
            "summary": "Record a message (JSON, or multipart with files in `attachments`)",
            "parameters": [_path("contact_id")],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["direction", "sent_at", "body"],
                            "properties": {**_MESSAGE_FIELDS, "corrects": _ID},
                        }
                    },
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["direction", "sent_at"],
                            "properties": {
                                **_MESSAGE_FIELDS,
                                "corrects": {"type": "string", "pattern": "^[0-9]{1,9}$"},
                                "attachments": {
                                    "type": "array",
                                    "items": {"type": "string", "format": "binary"},
                                },
                            },
                        }
                    },
                },
            },
            "responses": {
                **json_response(
                    "recorded (durable)",
                    {
                        "type": "object",
                        "required": ["id", "flags", "attachments"],
                        "properties": {
                            "id": {"type": "integer"},
                            "flags": _FLAGS,
                            "corrects": {"type": ["integer", "null"]},
                            "attachments": {"type": "array", "items": {"$ref": _REF + "Attachment"}},
                        },
                    },
                    201,
                ),
                **error_responses(400, 403, 404, 413),
            },
        },
    )
    register(
        "/contacts/{contact_id}/messages",
        "get",
        {
            "summary": "The transcript in platform-time order (keyset paged)",
            "parameters": [_path("contact_id"), *_page(100, 500)],
            "responses": {
                **json_response(
                    "messages",
                    {
                        "type": "object",
                        "required": ["items", "next"],
                        "properties": {
                            "items": {"type": "array", "items": {"$ref": _REF + "Message"}},
                            "next": _NEXT,
                        },
                    },
                ),
                **error_responses(400, 404),
            },
        },
    )
    register(
        "/messages/{message_id}",
        "get",
        {
            "summary": "One message",
            "parameters": [_path("message_id")],
            "responses": {**json_response("message", {"$ref": _REF + "Message"}), **error_responses(404)},
        },
    )
    register(
        "/attachments/{attachment_id}",
        "get",
        {
            "summary": "Download an attachment (always as a download; the read is audited)",
            "parameters": [_path("attachment_id")],
            "responses": {
                "200": {
                    "description": "the file",
                    "content": {
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                        "*/*": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                **error_responses(404),
            },
        },
    )
    register(
        "/search",
        "get",
        {
            "summary": "Search counterparts and message text in the operations the caller may see",
            "parameters": [
                {
                    "name": "q",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "minLength": 2, "maxLength": 200},
                }
            ],
            "responses": {
                **json_response(
                    "results",
                    {
                        "type": "object",
                        "required": ["contacts", "messages", "truncated"],
                        "properties": {
                            "contacts": {"type": "array", "items": {"$ref": _REF + "Contact"}},
                            "messages": {"type": "array", "items": {"type": "object"}},
                            "truncated": {"type": "boolean"},
                        },
                    },
                ),
                **error_responses(400),
            },
        },
    )
