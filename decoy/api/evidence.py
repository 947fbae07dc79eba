"""API endpoints of contacts, messages and attachments: ingest for capture tools, reads for readers."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..db import before_reading_body, get_session
from ..evidence import downloads, reading, services, transcript
from ..evidence.schemas import (
    ContactCreate,
    ContactPage,
    ContactPublic,
    MessageCreate,
    MessageOrDisposed,
    MessagePage,
    MessageRecorded,
    MessageUpload,
    SearchQuery,
    SearchResults,
)
from ..evidence.serialize import contact_json, message_json, recorded_json, search_json
from ..initiative.assessment import contact_flags_now
from ..models.schemas import Page, PageQuery, TranscriptQuery
from ..retention.disposal import disposed_messages
from . import bp
from .inputs import read_form, read_json, read_query
from .openapi import BINARY, Content, route

#: Room for the text fields and multipart framing beside the attachments themselves.
FORM_ALLOWANCE = 8 * 1024 * 1024


def _created(body: dict[str, Any], location: str) -> tuple[Response, int, dict[str, str]]:
    return jsonify(body), 201, {"Location": location}


@route(bp, "/profiles/<int:profile_id>/contacts", "POST", body=ContactCreate, answer=ContactPublic,
       status=201, errors=(400, 403, 404, 413))
def create_contact(profile_id: int) -> tuple[Response, int, dict[str, str]]:
    """Record a counterpart who reached the profile."""
    data = read_json(ContactCreate, limit=FORM_ALLOWANCE)
    session = get_session()
    contact = services.create_contact(
        session=session,
        actor=current_user,
        profile_id=profile_id,
        counterpart=data.counterpart,
        first_seen_at=data.first_seen_at,
    )
    session.commit()
    body = contact_json(contact, {current_user.id: current_user.username})
    return _created(body, url_for("api.get_contact", contact_id=contact.id))


@route(bp, "/profiles/<int:profile_id>/contacts", query=PageQuery, answer=ContactPage, errors=(400, 404))
def list_contacts(profile_id: int) -> Response:
    """The profile's contacts, by id."""
    page = read_query(PageQuery)
    after, limit = page.after, page.limit
    session = get_session()
    listed = reading.read_contacts(
        session=session, actor=current_user, profile_id=profile_id, after=after, limit=limit
    )
    rows, more, names = listed.contacts, listed.more, listed.usernames
    flags = contact_flags_now(session, rows)
    session.commit()
    next_path = (
        url_for("api.list_contacts", profile_id=profile_id, after=rows[-1].id, limit=limit) if more else None
    )
    items = [contact_json(c, names, flags.get(c.id)) for c in rows]  # type: ignore[arg-type]
    return jsonify(Page(items=items, next=next_path).model_dump(mode="json"))


@route(bp, "/contacts/<int:contact_id>", answer=ContactPublic, errors=(404,))
def get_contact(contact_id: int) -> Response:
    """One contact."""
    session = get_session()
    read = reading.read_contact(session=session, actor=current_user, contact_id=contact_id)
    contact, names = read.contact, read.usernames
    flags = contact_flags_now(session, [contact]).get(contact_id)
    session.commit()
    return jsonify(contact_json(contact, names, flags))


def _message_input() -> tuple[MessageCreate, list[services.Upload]]:
    """The fields and files of a JSON or multipart request."""
    if request.mimetype != "multipart/form-data":
        return read_json(MessageCreate, limit=FORM_ALLOWANCE), []
    # The body's limit (every file's) was set before the request was read (decoy.limit_request_body).
    request.max_form_memory_size = FORM_ALLOWANCE
    form = read_form(MessageUpload)
    fields = MessageCreate(
        direction=form.direction, sent_at=form.sent_at, body=form.body, corrects=form.corrects_id,
        capture_session=form.capture_session_id,
    )
    return fields, [(upload.stream, upload.filename or "") for upload in form.attachments]


@route(bp, "/contacts/<int:contact_id>/messages", "POST", body=MessageCreate, form=MessageUpload,
       answer=MessageRecorded, status=201, errors=(400, 403, 404, 409, 413))
def log_message(contact_id: int) -> tuple[Response, int, dict[str, str]]:
    """Record one message (JSON, or multipart with files in ``attachments``); 201 means durable."""
    session = get_session()
    if request.mimetype == "multipart/form-data":
        # Files: refuse an outsider before the body is received.
        services.require_recorder(session=session, actor=current_user, contact_id=contact_id)
    before_reading_body(session)
    data, files = _message_input()
    message = services.log_message(
        session=session,
        # The principal itself, not the proxy that looks it up again at every attribute.
        actor=current_user._get_current_object(),  # type: ignore[attr-defined]
        contact_id=contact_id,
        direction=data.direction,
        sent_at=data.sent_at,
        body=data.body,
        corrects_id=data.corrects,
        files=files,
        capture_session_id=data.capture_session,
    )
    attachments = services.attachments_of(session, [message.id])[message.id] if files else []  # type: ignore[index,list-item]
    session.commit()
    return _created(recorded_json(message, attachments), url_for("api.get_message", message_id=message.id))


@route(bp, "/contacts/<int:contact_id>/messages", query=TranscriptQuery, answer=MessagePage,
       errors=(400, 404))
def list_messages(contact_id: int) -> Response:
    """The contact's transcript in platform-time order, by keyset (``after`` = the last id seen);
    ``marked=1``: only the messages annotated or flagged."""
    query = read_query(TranscriptQuery)
    after, limit, marked = query.after, query.limit, query.marked
    session = get_session()
    page = reading.read_messages(
        session=session, actor=current_user, contact_id=contact_id, after=after, limit=limit, marked=marked
    ).page
    session.commit()
    disposed = disposed_messages(session, [m.id for m in page.messages])  # type: ignore[misc]
    items = [
        message_json(m, page.attachments.get(m.id, []), page.usernames, page.flags.get(m.id), disposed)  # type: ignore[arg-type]
        for m in page.messages
    ]
    next_path = None
    if page.next_after is not None:
        next_path = url_for(
            "api.list_messages",
            contact_id=contact_id,
            after=page.next_after,
            limit=limit,
            **({"marked": 1} if marked else {}),
        )
    return jsonify(Page(items=items, next=next_path).model_dump(mode="json"))


@route(bp, "/messages/<int:message_id>", answer=MessageOrDisposed, errors=(404,))
def get_message(message_id: int) -> Response:
    """One message (a disposed one: its id and the disposal, never its text)."""
    session = get_session()
    read = reading.read_message(session=session, actor=current_user, message_id=message_id)
    message, attachments, names = read.message, read.attachments, read.usernames
    session.commit()
    flags = transcript.current_flags(session, [message]).get(message_id)
    disposed = disposed_messages(session, [message_id])
    return jsonify(message_json(message, attachments, names, flags, disposed))


@route(bp, "/attachments/<int:attachment_id>", answer=Content(("application/octet-stream", "*/*"), BINARY),
       errors=(404,))
def download_attachment(attachment_id: int) -> Response:
    """The file, as a download with its sniffed type (text as application/octet-stream)."""
    return downloads.download(get_session(), current_user, attachment_id)


@route(bp, "/search", query=SearchQuery, answer=SearchResults, errors=(400, 404))
def search_evidence() -> Response:
    """Contacts and messages containing ``q`` in the operations the caller may see."""
    session = get_session()
    results = reading.search_evidence(session=session, actor=current_user, query=read_query(SearchQuery).q)
    contact_names = transcript.usernames(session, {c.recorded_by for c in results.contacts})
    session.commit()
    return jsonify(search_json(results.contacts, results.messages, contact_names, results.truncated))
