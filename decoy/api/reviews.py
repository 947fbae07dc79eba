"""API endpoints of legal reviews: an operation's reviews, one review, and a legal officer's decision."""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import access
from ..db import get_session
from ..errors import InvalidInput
from ..models import MAX_ID
from ..reviews.generation import generate_reviews
from ..reviews.services import DECISIONS, decide_review, get_review, reviews_of_operation, states
from . import bp
from .openapi import SCHEMAS, error_responses, json_response, register
from .parsing import json_body

JSON_LIMIT = 64 * 1024


def _page_argument(name: str, default: int | None, minimum: int, maximum: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise InvalidInput(f"{name} must be a whole number", field=name)
    value = int(raw)
    if not minimum <= value <= maximum:
        raise InvalidInput(f"{name} must be between {minimum} and {maximum}", field=name)
    return value


@bp.route("/operations/<int:operation_id>/reviews")
def operation_reviews(operation_id: int) -> Response:
    """The operation's reviews by due time: ``{items, next}``."""
    session = get_session()
    operation = access.visible_operation(session, current_user, operation_id)
    limit = _page_argument("limit", 100, 1, 500) or 100
    after = _page_argument("after", None, 1, MAX_ID)
    if generate_reviews(session, operation_id=operation.id):  # type: ignore[arg-type]
        session.commit()
    rows, following = reviews_of_operation(
        session,
        current_user,
        operation.id,
        after=after,  # type: ignore[arg-type]
        limit=limit,
    )
    next_path = (
        url_for("api.operation_reviews", operation_id=operation.id, after=following, limit=limit)
        if following is not None
        else None
    )
    return jsonify({"items": [state.as_json() for state in states(session, rows)], "next": next_path})


@bp.route("/reviews/<int:review_id>")
def review(review_id: int) -> Response:
    """One review with its status and decision."""
    session = get_session()
    found = get_review(session, current_user, review_id)
    return jsonify(states(session, [found])[0].as_json())


@bp.route("/reviews/<int:review_id>/decision", methods=["POST"])
def decide(review_id: int) -> Response:
    """A legal officer decides: ``{decision, rationale}`` → 200 with the review."""
    request.max_content_length = JSON_LIMIT
    session = get_session()
    found = get_review(session, current_user, review_id)
    data = json_body()
    decide_review(
        session=session,
        actor=current_user,
        review_id=found.id,  # type: ignore[arg-type]
        decision=data.get("decision"),
        rationale=data.get("rationale"),
    )
    session.commit()
    return jsonify(states(session, [found])[0].as_json())


_DECISION = {
    "type": ["object", "null"],
    "properties": {
        "decision": {"type": "string", "enum": list(DECISIONS)},
        "rationale": {"type": "string"},
        "decided_by": {"type": "string"},
        "decided_at": {"type": "string", "format": "date-time"},
        "profiles": {"type": "array", "items": {"type": "integer"}},
    },
}
SCHEMAS["Review"] = {
    "type": "object",
    "required": ["id", "operation_id", "authorization_id", "kind", "due_at", "status", "decision"],
    "properties": {
        "id": {"type": "integer"},
        "operation_id": {"type": "integer"},
        "operation": {"type": "string"},
        "authorization_id": {"type": "integer"},
        "authorization_reference": {"type": "string"},
        "kind": {"type": "string", "enum": ["periodic", "before_expiry", "triggered"]},
        "trigger": {"type": ["string", "null"], "enum": ["flagged_message", "written_order_overdue", None]},
        "flag": {"type": ["string", "null"]},
        "contact_id": {"type": ["integer", "null"]},
        "due_at": {"type": "string", "format": "date-time", "description": "in the operation's zone"},
        "timezone": {"type": "string"},
        "status": {"type": "string", "enum": ["pending", "overdue", "done", "superseded"]},
        "decision": _DECISION,
    },
}
_REVIEW_REF = {"$ref": "#/components/schemas/Review"}
_ID_PARAMETER = {"in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}

register(
    "/operations/{operation_id}/reviews",
    "get",
    {
        "summary": "The operation's legal reviews by due time (generated from its authorizations)",
        "parameters": [
            {"name": "operation_id", **_ID_PARAMETER},
            {
                "name": "after",
                "in": "query",
                "schema": {"type": "integer"},
                "description": "continue after this review",
            },
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
        ],
        "responses": {
            **json_response(
                "reviews",
                {
                    "type": "object",
                    "required": ["items", "next"],
                    "properties": {
                        "items": {"type": "array", "items": _REVIEW_REF},
                        "next": {"type": ["string", "null"]},
                    },
                },
            ),
            **error_responses(400, 404),
        },
    },
)
register(
    "/reviews/{review_id}",
    "get",
    {
        "summary": "One review with its derived status and decision",
        "parameters": [{"name": "review_id", **_ID_PARAMETER}],
        "responses": {**json_response("review", _REVIEW_REF), **error_responses(404)},
    },
)
register(
    "/reviews/{review_id}/decision",
    "post",
    {
        "summary": "A legal officer decides a review; suspend and terminate act on the profiles at once",
        "parameters": [{"name": "review_id", **_ID_PARAMETER}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["decision", "rationale"],
                        "properties": {
                            "decision": {"type": "string", "enum": list(DECISIONS)},
                            "rationale": {"type": "string", "minLength": 1, "maxLength": 10000},
                        },
                    }
                }
            },
        },
        "responses": {
            **json_response("the decided review", _REVIEW_REF),
            **error_responses(400, 403, 404, 409),
        },
    },
)
