"""API endpoints of a contact's proces-verbaal, its signed copies and redacted copies of attachments."""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user
from pydantic import Field
from werkzeug.wrappers import Response

from ..db import before_reading_body, get_session
from ..disclosure import codes, redactions, reports
from ..disclosure.report_views import draft_response, signed_report_response
from ..errors import InvalidInput
from ..evidence.reading import visible_contact
from ..export.proces_verbaal_wording import LANGUAGES
from ..models import Attachment
from ..models.schemas import File, Output, Query, Sha256, Upload, UtcMoment, one_of, text
from . import bp
from .inputs import read_form, read_query
from .openapi import BINARY, Content, route

#: Room for a multipart request's text fields and boundaries beside its file.
FORM_ALLOWANCE = 1024 * 1024
PDF = Content(("application/pdf",), BINARY)


class DraftQuery(Query):
    """The language of the draft."""

    lang: one_of(LANGUAGES) = Field(default="nl", description="nl (Dutch, the default) or en (English)")


class SignedReportUpload(Upload):
    """The proces-verbaal as the officer signed it, a PDF."""

    file: File


class SignedReportPublic(Output):
    """A signed copy of a contact's proces-verbaal: the file's hash, and who uploaded it (by code) when."""

    id: int
    contact_id: int
    sha256: Sha256
    size: int
    filename: str
    by: str | None = Field(description="the verbalisant code of the officer who uploaded it")
    at: UtcMoment


class SignedReportList(Output):
    """A contact's signed copies, oldest first."""

    items: list[SignedReportPublic]


class RedactionUpload(Upload):
    """A redacted copy of an attachment and the statement of what was redacted and why."""

    statement: text(redactions.MAX_STATEMENT, required=True) = Field(
        description="what was redacted and why (required)"
    )
    file: File


class RedactionPublic(Output):
    """A redacted copy of an attachment, beside the original's hash; the legal officer by code."""

    id: int
    attachment_id: int
    sha256: Sha256
    original_sha256: Sha256
    size: int
    media_type: str
    filename: str
    statement: str
    by: str | None = Field(description="the verbalisant code of the legal officer who made it")
    at: UtcMoment


class RedactionList(Output):
    """An attachment's redacted copies, oldest first; the last is the one a bundle carries."""

    items: list[RedactionPublic]


def _multipart(field: str) -> None:
    """Read the body as a form (after the access checks): its file, within the attachment limit."""
    request.max_form_memory_size = FORM_ALLOWANCE
    if request.mimetype != "multipart/form-data":
        raise InvalidInput(f"send the file as multipart/form-data in the field {field}", field=field)


@route(bp, "/contacts/<int:contact_id>/proces-verbaal", query=DraftQuery, answer=PDF, errors=(400, 404, 409))
def proces_verbaal(contact_id: int) -> Response:
    """The contact's draft proces-verbaal (PDF) under the caller's verbalisant code; ``lang`` nl or en."""
    session = get_session()
    visible_contact(session, current_user, contact_id)
    query = read_query(DraftQuery)
    made = reports.draft(session=session, actor=current_user, contact_id=contact_id, language=query.lang)
    session.commit()
    return draft_response(made)


@route(bp, "/contacts/<int:contact_id>/signed-reports", "POST", form=SignedReportUpload,
       answer=SignedReportPublic, status=201, also=(200,), errors=(400, 403, 404, 409, 413))
def upload_signed_report(contact_id: int) -> tuple[Response, int, dict[str, str]]:
    """Keep the signed proces-verbaal (PDF, field ``file``) with the contact; 200 when kept before."""
    session = get_session()
    reports.require_reporter(session, current_user, contact_id)
    before_reading_body(session)
    _multipart("file")
    data = read_form(SignedReportUpload)
    done = reports.upload_signed_report(
        session=session, actor=current_user, contact_id=contact_id, stream=data.file.stream,
        filename=data.file.filename or "",
    )
    session.commit()
    body = SignedReportPublic.model_validate(reports.signed_report_json(done.report, codes.Officers(session)))
    location = url_for("api.download_signed_report", report_id=done.report.id)
    return jsonify(body.model_dump(mode="json")), 201 if done.created else 200, {"Location": location}


@route(bp, "/contacts/<int:contact_id>/signed-reports", answer=SignedReportList, errors=(404,))
def list_signed_reports(contact_id: int) -> Response:
    """The contact's signed copies of its proces-verbaal, oldest first."""
    session = get_session()
    rows = reports.signed_reports(session=session, actor=current_user, contact_id=contact_id)
    names = codes.Officers(session)
    session.commit()
    items = [
        SignedReportPublic.model_validate(reports.signed_report_json(row, names)).model_dump(mode="json")
        for row in rows
    ]
    return jsonify({"items": items})


@route(bp, "/signed-reports/<int:report_id>/file", answer=PDF, errors=(404,))
def download_signed_report(report_id: int) -> Response:
    """Download a signed copy of a proces-verbaal; each download is recorded."""
    return signed_report_response(get_session(), current_user, report_id)


@route(bp, "/attachments/<int:attachment_id>/redactions", "POST", form=RedactionUpload,
       answer=RedactionPublic, status=201, errors=(400, 403, 404, 409, 413))
def create_redaction(attachment_id: int) -> tuple[Response, int, dict[str, str]]:
    """Attach a redacted copy of an attachment (legal officers): ``file`` and ``statement``."""
    session = get_session()
    redactions.require_redactor(session, current_user, attachment_id)
    before_reading_body(session)
    _multipart("file")
    data = read_form(RedactionUpload)
    row = redactions.redact(
        session=session, actor=current_user, attachment_id=attachment_id, stream=data.file.stream,
        filename=data.file.filename or "", statement=data.statement,
    )
    original = session.get(Attachment, attachment_id)
    assert original is not None  # noqa: S101 - redact checked it in this transaction
    session.commit()
    body = redactions.redaction_json(row, original.sha256, codes.Officers(session))
    location = url_for("api.list_redactions", attachment_id=attachment_id)
    return jsonify(RedactionPublic.model_validate(body).model_dump(mode="json")), 201, {"Location": location}


@route(bp, "/attachments/<int:attachment_id>/redactions", answer=RedactionList, errors=(404,))
def list_redactions(attachment_id: int) -> Response:
    """The attachment's redacted copies, oldest first; the latest is the one a bundle carries."""
    session = get_session()
    attachment, rows = redactions.redactions_for(
        session=session, actor=current_user, attachment_id=attachment_id
    )
    names = codes.Officers(session)
    session.commit()
    items = [
        RedactionPublic.model_validate(redactions.redaction_json(row, attachment.sha256, names)).model_dump(
            mode="json"
        )
        for row in rows
    ]
    return jsonify({"items": items})
