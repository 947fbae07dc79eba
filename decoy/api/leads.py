"""API endpoints of the leads register: record a lead passed on from an operation, list an operation's
leads, and the central register of leads as CSV."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for
from flask_login import current_user
from pydantic import Field

from .. import access
from ..db import get_session
from ..disclosure import codes
from ..errors import Forbidden
from ..models import TLP_LABELS, Lead
from ..models.schemas import Input, Output, Sha256, Timestamp, UtcMoment, text
from ..orders import leads
from . import bp
from .inputs import read_json
from .openapi import Content, route

CSV = Content(("text/csv",), {"type": "string"})


class LeadCreate(Input):
    """Information passed from the operation to another unit or agency."""

    recipient: text(leads.MAX_LINE, required=True) = Field(
        description="the unit or agency the information went to (one line)"
    )
    legal_basis: text(leads.MAX_LINE, required=True) = Field(
        description="the legal basis of passing it on, e.g. a statutory provision (one line)"
    )
    tlp: text(32, required=True) = Field(
        description="the Traffic Light Protocol label (FIRST TLP 2.0), in any case: " + ", ".join(TLP_LABELS)
    )
    sha256: text(64, required=True) = Field(
        description="the SHA-256 of what was sent, 64 hexadecimal digits (stored in lower case)"
    )
    description: text(leads.MAX_DESCRIPTION, required=True) = Field(description="what was passed on")
    passed_at: Timestamp | None = Field(
        default=None, description="when it was passed on (RFC 3339 with an offset; not in the future); now "
        "when left out"
    )


class LeadPublic(Output):
    """A lead: to whom, on what basis, under which label, the hash of what was sent, when and by whom."""

    id: int
    operation_id: int
    recipient: str
    legal_basis: str
    tlp: str = Field(description="one of " + ", ".join(TLP_LABELS))
    sha256: Sha256
    description: str
    passed_at: UtcMoment
    by: str | None = Field(description="the verbalisant code of the officer who passed it on")
    recorded_at: UtcMoment


class LeadList(Output):
    """An operation's leads in the order they were recorded (the whole register: ``next`` is null)."""

    items: list[LeadPublic]
    next: str | None


def lead_json(row: Lead, by: str | None) -> dict[str, Any]:
    """A lead as the API shows it."""
    return LeadPublic.model_validate(
        {
            "id": row.id,
            "operation_id": row.operation_id,
            "recipient": row.recipient,
            "legal_basis": row.legal_basis,
            "tlp": row.tlp,
            "sha256": row.sha256,
            "description": row.description,
            "passed_at": row.passed_at,
            "by": by,
            "recorded_at": row.recorded_at,
        }
    ).model_dump(mode="json")


@route(bp, "/operations/<int:operation_id>/leads", "POST", body=LeadCreate, answer=LeadPublic, status=201,
       errors=(400, 403, 404, 409, 413))
def record_lead(operation_id: int) -> tuple[Response, int, dict[str, str]]:
    """Record a lead passed on from the operation (its supervisors and detectives, legal officers)."""
    session = get_session()
    # Who may record is known before the body is read: an outsider gets 404, a reader 403.
    leads.require_recorder(session, current_user, operation_id)
    data = read_json(LeadCreate)
    row = leads.record_lead(
        session=session,
        actor=current_user,
        operation_id=operation_id,
        recipient=data.recipient,
        legal_basis=data.legal_basis,
        tlp=data.tlp,
        sha256=data.sha256,
        description=data.description,
        passed_at=data.passed_at,
    )
    session.commit()
    location = url_for("api.list_leads", operation_id=operation_id)
    return jsonify(lead_json(row, current_user.verbalisant_code)), 201, {"Location": location}


@route(bp, "/operations/<int:operation_id>/leads", answer=LeadList, errors=(404,))
def list_leads(operation_id: int) -> Response:
    """The operation's leads in the order they were recorded."""
    session = get_session()
    rows = leads.list_leads(session, current_user, operation_id)
    officers = codes.Officers(session)
    session.commit()
    items = [lead_json(row, officers(row.passed_by, row.recorded_at)) for row in rows]
    return jsonify(LeadList.model_validate({"items": items, "next": None}).model_dump(mode="json"))


@route(bp, "/leads.csv", answer=CSV, errors=(403,))
def leads_csv() -> Response:
    """The central register of leads as CSV: every lead of the operations the caller may see."""
    if not access.sees_evidence(current_user):
        raise Forbidden("the register of leads is for officers")
    session = get_session()
    body = leads.central_csv(session, current_user)
    session.commit()
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="leads.csv"'
    return response
