"""API endpoints of legal reviews: an operation's reviews, one review, and a legal officer's decision."""

from __future__ import annotations

from flask import jsonify, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import access
from ..db import get_session
from ..models.schemas import LongPageQuery, Page
from ..reviews.schemas import DecisionCreate, ReviewPage, ReviewPublic
from ..reviews.services import decide_review, get_review, reviews_of_operation, states
from . import bp
from .inputs import read_json, read_query
from .openapi import route

JSON_LIMIT = 64 * 1024


@route(bp, "/operations/<int:operation_id>/reviews", query=LongPageQuery, answer=ReviewPage,
       errors=(400, 404))
def operation_reviews(operation_id: int) -> Response:
    """The operation's legal reviews by due time (the scheduler creates them; reading creates none)."""
    session = get_session()
    operation = access.visible_operation(session, current_user, operation_id)
    page = read_query(LongPageQuery)
    rows, following = reviews_of_operation(
        session,
        current_user,
        operation.id,  # type: ignore[arg-type]
        after=page.after or None,
        limit=page.limit,
    )
    next_path = (
        url_for("api.operation_reviews", operation_id=operation.id, after=following, limit=page.limit)
        if following is not None
        else None
    )
    items = [state.as_json() for state in states(session, rows)]
    return jsonify(Page(items=items, next=next_path).model_dump(mode="json"))


@route(bp, "/reviews/<int:review_id>", answer=ReviewPublic, errors=(404,))
def review(review_id: int) -> Response:
    """One review with its derived status and decision."""
    session = get_session()
    found = get_review(session, current_user, review_id)
    return jsonify(states(session, [found])[0].as_json())


@route(bp, "/reviews/<int:review_id>/decision", "POST", body=DecisionCreate, answer=ReviewPublic,
       errors=(400, 403, 404, 409, 413))
def decide(review_id: int) -> Response:
    """A legal officer decides a review; suspend and terminate act on the profiles at once."""
    session = get_session()
    found = get_review(session, current_user, review_id)
    data = read_json(DecisionCreate, limit=JSON_LIMIT)
    decide_review(
        session=session,
        actor=current_user,
        review_id=found.id,  # type: ignore[arg-type]
        decision=data.decision,
        rationale=data.rationale,
    )
    session.commit()
    return jsonify(states(session, [found])[0].as_json())
