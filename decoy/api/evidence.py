"""API endpoints of contacts, messages and attachments: ingest for capture tools, reads for readers."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..db import before_reading_body, get_session
from ..errors import InvalidInput
from ..evidence import downloads, reading, services, transcript
from ..evidence.api_schema import describe
from ..evidence.serialize import attachment_json, contact_json, message_json
from . import bp
from .parsing import json_body, page_arguments, parse_timestamp

ID = "int"
#: Room for the text fields and multipart framing beside the attachments themselves.
FORM_ALLOWANCE = 8 * 1024 * 1024


def _created(body: dict[str, Any], location: str) -> tuple[Response, int, dict[str, str]]:
    return jsonify(body), 201, {"Location": location}


@bp.route(f"/profiles/<{ID}:profile_id>/contacts", methods=["POST"])
def create_contact(profile_id: int) -> tuple[Response, int, dict[str, str]]:
    """Record a counterpart who reached the profile."""
    request.max_content_length = FORM_ALLOWANCE
    data = json_body()
    first_seen = data.get("first_seen_at")
    session = get_session()
    contact = services.create_contact(
        session=session,
        actor=current_user,
        profile_id=profile_id,
        counterpart=data.get("counterpart"),  # type: ignore[arg-type]  (checked by the service)
        first_seen_at=None if first_seen is None else parse_timestamp(first_seen, "first_seen_at"),
    )
    session.commit()
    body = contact_json(contact, {current_user.id: current_user.username})
    return _created(body, url_for("api.get_contact", contact_id=contact.id))


@bp.route(f"/profiles/<{ID}:profile_id>/contacts")
def list_contacts(profile_id: int) -> Response:
    """The profile's contacts, by id."""
    after, limit = page_arguments()
    session = get_session()
    listed = reading.read_contacts(
        session=session, actor=current_user, profile_id=profile_id, after=after, limit=limit
    )
    rows, more, names = listed.contacts, listed.more, listed.usernames
    session.commit()
    next_path = (
        url_for("api.list_contacts", profile_id=profile_id, after=rows[-1].id, limit=limit) if more else None
    )
    return jsonify({"items": [contact_json(c, names) for c in rows], "next": next_path})


@bp.route(f"/contacts/<{ID}:contact_id>")
def get_contact(contact_id: int) -> Response:
    """One contact."""
    session = get_session()
    read = reading.read_contact(session=session, actor=current_user, contact_id=contact_id)
    contact, names = read.contact, read.usernames
    session.commit()
    return jsonify(contact_json(contact, names))


def _message_input() -> tuple[dict[str, Any], list[services.Upload]]:
    """The fields and files of a JSON or multipart request."""
    limit = int(current_app.config["MAX_ATTACHMENT_BYTES"])
    if request.mimetype == "multipart/form-data":
        request.max_content_length = limit * services.MAX_FILES + FORM_ALLOWANCE
        request.max_form_memory_size = FORM_ALLOWANCE
        form = request.form
        data: dict[str, Any] = {key: form.get(key) for key in ("direction", "sent_at", "body", "corrects")}
        if data["corrects"] in (None, ""):
            data["corrects"] = None
        else:
            try:
                data["corrects"] = int(data["corrects"])
            except ValueError as error:
                raise InvalidInput("corrects must be a message id", field="corrects") from error
        files = [(f.stream, f.filename or "") for f in request.files.getlist("attachments") if f]
        if data["body"] is None:
            data["body"] = ""
        unexpected = set(request.files) - {"attachments"}
        if unexpected:
            raise InvalidInput('files belong in the field "attachments"', field=sorted(unexpected)[0])
        return data, files
    request.max_content_length = FORM_ALLOWANCE
    data = json_body()
    corrects = data.get("corrects")
    if corrects is not None and (isinstance(corrects, bool) or not isinstance(corrects, int)):
        raise InvalidInput("corrects must be a message id", field="corrects")
    if "body" not in data:
        raise InvalidInput("body is required", field="body")
    return data, []


@bp.route(f"/contacts/<{ID}:contact_id>/messages", methods=["POST"])
def log_message(contact_id: int) -> tuple[Response, int, dict[str, str]]:
    """Record one message (JSON, or multipart with files in ``attachments``); 201 means durable."""
    session = get_session()
    before_reading_body(session)
    data, files = _message_input()
    direction = data.get("direction")
    if direction is None:
        raise InvalidInput("direction is required", field="direction")
    if data.get("sent_at") is None:
        raise InvalidInput("sent_at is required", field="sent_at")
    sent_at = parse_timestamp(data["sent_at"], "sent_at")
    message = services.log_message(
        session=session,
        # The principal itself, not the proxy that looks it up again at every attribute.
        actor=current_user._get_current_object(),  # type: ignore[attr-defined]
        contact_id=contact_id,
        direction=direction,
        sent_at=sent_at,
        body=data["body"],
        corrects_id=data.get("corrects"),
        files=files,
    )
    attachments = services.attachments_of(session, [message.id])[message.id] if files else []  # type: ignore[index,list-item]
    session.commit()
    body = {
        "id": message.id,
        "flags": list(message.flags),
        "corrects": message.corrects_id,
        "attachments": [attachment_json(a) for a in attachments],
    }
    return _created(body, url_for("api.get_message", message_id=message.id))


@bp.route(f"/contacts/<{ID}:contact_id>/messages")
def list_messages(contact_id: int) -> Response:
    """The contact's transcript in platform-time order, by keyset (``after`` = the last id seen)."""
    after, limit = page_arguments(default_limit=100, max_limit=500)
    session = get_session()
    page = reading.read_messages(
        session=session, actor=current_user, contact_id=contact_id, after=after, limit=limit
    ).page
    session.commit()
    items = [
        message_json(m, page.attachments.get(m.id, []), page.usernames)  # type: ignore[arg-type]
        for m in page.messages
    ]
    next_path = None
    if page.next_after is not None:
        next_path = url_for("api.list_messages", contact_id=contact_id, after=page.next_after, limit=limit)
    return jsonify({"items": items, "next": next_path})


@bp.route(f"/messages/<{ID}:message_id>")
def get_message(message_id: int) -> Response:
    """One message."""
    session = get_session()
    read = reading.read_message(session=session, actor=current_user, message_id=message_id)
    message, attachments, names = read.message, read.attachments, read.usernames
    session.commit()
    return jsonify(message_json(message, attachments, names))


@bp.route(f"/attachments/<{ID}:attachment_id>")
def download_attachment(attachment_id: int) -> Response:
    """The file, as a download with its sniffed type (text as application/octet-stream)."""
    return downloads.download(get_session(), current_user, attachment_id)


@bp.route("/search")
def search_evidence() -> Response:
    """Contacts and messages containing ``q`` in the operations the caller may see."""
    session = get_session()
    results = reading.search_evidence(session=session, actor=current_user, query=request.args.get("q", ""))
    contact_names = transcript.usernames(session, {c.recorded_by for c in results.contacts})
    session.commit()
    return jsonify(
        {
            "contacts": [contact_json(c, contact_names) for c in results.contacts],
            "messages": [
                {
                    "id": m.id,
                    "contact_id": m.contact_id,
                    "operation_id": m.operation_id,
                    "direction": m.direction,
                    "flags": list(m.flags),
                    "snippet": text,
                }
                for m, text in results.messages
            ],
            "truncated": results.truncated,
        }
    )


describe()
