"""API endpoints of the initiative record: annotate a message, dismiss a suggestion, read the sheet."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user
from werkzeug.wrappers import Response

from ..db import get_session
from ..initiative import annotations, services
from ..initiative.schemas import (
    AnnotationCreate,
    AnnotationList,
    AnnotationPublic,
    AnnotationRecorded,
    AssessmentList,
    AssessmentPublic,
    DismissalPublic,
    InitiativeSheet,
    SuggestionDismissalCreate,
)
from . import bp
from .inputs import read_json
from .openapi import route

CHANGE_ERRORS = (400, 403, 404, 409)


@route(
    bp,
    "/messages/<int:message_id>/annotations",
    "POST",
    body=AnnotationCreate,
    answer=AnnotationRecorded,
    status=201,
    errors=CHANGE_ERRORS,
)
def annotate_message(message_id: int) -> tuple[Response, int]:
    """Annotate a message with a topic, or retract an annotation of it (``retracts``)."""
    session = get_session()
    # Who may annotate is known before the body is read: an outsider gets 404, anyone else 403.
    annotations.require_annotator(session, current_user, message_id)
    data = read_json(AnnotationCreate)
    done = annotations.annotate(
        session=session,
        actor=current_user,
        message_id=message_id,
        topic=data.topic,
        age=data.age,
        retracts=data.retracts,
        remark=data.remark or "",
        suggested_term=data.suggested_term,
    )
    flags = list(done.assessment.flags) if done.assessment is not None else None
    if flags is None:
        latest = services.assessment.latest(session, done.annotation.contact_id)
        flags = [] if latest is None else list(latest.flags)
    session.commit()
    body = services.annotation_json(done.annotation, {current_user.id: current_user.username})
    body.update(assessment=None if done.assessment is None else done.assessment.id, contact_flags=flags)
    return jsonify(AnnotationRecorded.model_validate(body).model_dump(mode="json")), 201


@route(bp, "/messages/<int:message_id>/annotations", answer=AnnotationList, errors=(404,))
def list_annotations(message_id: int) -> Response:
    """The message's annotations (retractions and legal officers' remarks included), oldest first."""
    session = get_session()
    rows, names = services.read_annotations(session, current_user, message_id)
    withdrawn = services.retractions(rows)
    session.commit()
    items = [
        AnnotationPublic.model_validate(
            services.annotation_json(row, names, withdrawn.get(row.id))
        ).model_dump(mode="json")
        for row in rows
    ]
    return jsonify({"items": items})


@route(
    bp,
    "/messages/<int:message_id>/suggestions/dismissals",
    "POST",
    body=SuggestionDismissalCreate,
    answer=DismissalPublic,
    status=201,
    errors=CHANGE_ERRORS,
)
def dismiss_suggestion(message_id: int) -> tuple[Response, int]:
    """Dismiss a suggestion of the word list for this message: it stays no finding, and that is recorded."""
    session = get_session()
    annotations.require_annotator(session, current_user, message_id)
    data = read_json(SuggestionDismissalCreate)
    row = annotations.dismiss(
        session=session, actor=current_user, message_id=message_id, topic=data.topic, term=data.term
    )
    session.commit()
    body = DismissalPublic(
        id=row.id,  # type: ignore[arg-type]
        message_id=row.message_id,
        topic=row.topic,
        term=row.term,
        by=current_user.username,
        at=row.dismissed_at,
    )
    return jsonify(body.model_dump(mode="json")), 201


@route(bp, "/contacts/<int:contact_id>/initiative", answer=InitiativeSheet, errors=(404,))
def get_initiative(contact_id: int) -> Response:
    """The contact's initiative sheet: per topic who raised it first, when, and in which message."""
    session = get_session()
    sheet = services.read_sheet(session, current_user, contact_id)
    session.commit()
    return jsonify(InitiativeSheet.model_validate(sheet).model_dump(mode="json"))


@route(bp, "/contacts/<int:contact_id>/assessments", answer=AssessmentList, errors=(404,))
def list_assessments(contact_id: int) -> Response:
    """Every recorded assessment of the contact's flags, oldest first; the last is the current one."""
    session = get_session()
    rows = services.read_assessments(session, current_user, contact_id)
    session.commit()
    return jsonify(
        {
            "items": [
                AssessmentPublic(
                    id=row.id,  # type: ignore[arg-type]
                    contact_id=row.contact_id,
                    cause=row.cause,
                    cause_id=row.cause_id,
                    basis_message_id=row.basis_message_id,
                    flags=list(row.flags),
                    raised_first=list(row.raised_first),
                    message_flags=dict(row.message_flags),
                    assessed_at=row.assessed_at,
                ).model_dump(mode="json")
                for row in rows
            ]
        }
    )
