"""API endpoints of operations, members, authorizations (with order documents) and decoy profiles."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, jsonify, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import access, clock
from ..db import before_reading_body, get_session
from ..errors import Forbidden, InvalidInput
from ..models import MAX_ID, Authorization, Profile, User
from ..operations import records, rules, services
from ..operations.api_schema import describe
from . import bp
from .parsing import boolean, integer, json_body, page_arguments, string_list, text, timestamp

ID = "int"
JSON_LIMIT = 1024 * 1024
LONG_TEXT = 20_000
#: Room for the form fields and multipart framing beside the document itself.
FORM_ALLOWANCE = 1024 * 1024

Answer = tuple[Response, int, dict[str, str]]


def _created(body: dict[str, Any], location: str) -> Answer:
    return jsonify(body), 201, {"Location": location}


def _require(*roles: str) -> None:
    """Refuse a caller without any of ``roles`` before reading the request (403, not a 400 about input)."""
    if not current_user.has_role(*roles):
        raise Forbidden("your role does not allow this")


def _body() -> dict[str, Any]:
    request.max_content_length = JSON_LIMIT
    return json_body()


def _page(rows: list[Any], limit: int, endpoint: str, **values: Any) -> tuple[list[Any], str | None]:
    more = len(rows) > limit
    rows = rows[:limit]
    next_path = url_for(endpoint, after=rows[-1].id, limit=limit, **values) if more else None
    return rows, next_path


def _visible_authorization(session: Any, authorization_id: int) -> Authorization:
    authorization = session.get(Authorization, authorization_id)
    return access.require_visible(session, current_user, authorization, "authorization")  # type: ignore[no-any-return]


def _visible_profile(session: Any, profile_id: int) -> Profile:
    profile = session.get(Profile, profile_id)
    return access.require_visible(session, current_user, profile, "profile")  # type: ignore[no-any-return]


def _profile_body(session: Any, profile: Profile, *, history: bool = False) -> dict[str, Any]:
    body = records.profile_json(
        profile, records.usernames(session, {profile.proposed_by, profile.approved_by})
    )
    if history:
        body["history"] = [
            records.transition_json(step) for step in records.transitions_of(session, profile.id)
        ]
    return body


@bp.route("/operations")
def list_operations() -> Response:
    """The operations the caller may see, by id."""
    after, limit = page_arguments()
    session = get_session()
    rows = services.visible_operations(session, current_user, after=after, limit=limit + 1)
    rows, next_path = _page(rows, limit, "api.list_operations")
    names = records.usernames(session, {operation.created_by for operation in rows})
    return jsonify({"items": [records.operation_json(o, names) for o in rows], "next": next_path})


@bp.route("/operations", methods=["POST"])
def create_operation() -> Answer:
    """Open an operation (supervisors)."""
    _require("supervisor")
    data = _body()
    session = get_session()
    operation = services.create_operation(
        session=session,
        actor=current_user,
        name=text(data, "name", max_length=120),
        team=text(data, "team", required=False, max_length=120),
        timezone=text(data, "timezone", required=False, max_length=64) or None,
        description=text(data, "description", required=False, max_length=LONG_TEXT),
    )
    session.commit()
    body = records.operation_json(operation, {current_user.id: current_user.username})
    return _created(body, url_for("api.get_operation", operation_id=operation.id))


@bp.route(f"/operations/<{ID}:operation_id>")
def get_operation(operation_id: int) -> Response:
    """One operation with its members."""
    session = get_session()
    operation = access.visible_operation(session, current_user, operation_id)
    members = records.member_rows(session, operation_id)
    names = records.usernames(session, {operation.created_by, *(m.added_by for m, _u in members)})
    body = records.operation_json(operation, names)
    body["members"] = [records.member_json(member, user, names) for member, user in members]
    return jsonify(body)


@bp.route(f"/operations/<{ID}:operation_id>/members", methods=["POST"])
def add_member(operation_id: int) -> Answer:
    """Assign a person to the operation (a supervisor member)."""
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    _require("supervisor")
    data = _body()
    member = services.add_member(
        session=session,
        actor=current_user,
        operation_id=operation_id,
        username=text(data, "username", max_length=64),
    )
    session.commit()
    user = session.get(User, member.user_id)
    body = {
        "operation_id": operation_id,
        **records.member_json(member, user, {current_user.id: current_user.username}),
    }
    return _created(body, url_for("api.get_operation", operation_id=operation_id))


@bp.route(f"/operations/<{ID}:operation_id>/status", methods=["POST"])
def change_status(operation_id: int) -> Response:
    """Move the operation to another status (a supervisor member)."""
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    _require("supervisor")
    data = _body()
    operation = services.change_operation_status(
        session=session,
        actor=current_user,
        operation_id=operation_id,
        status=text(data, "status", max_length=16),
    )
    session.commit()
    return jsonify({"id": operation.id, "status": operation.status})


@bp.route(f"/operations/<{ID}:operation_id>/authorizations")
def list_authorizations(operation_id: int) -> Response:
    """The operation's authorizations with their status now, by id."""
    after, limit = page_arguments()
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    rows = records.authorizations_of(session, operation_id, after=after, limit=limit + 1)
    rows, next_path = _page(rows, limit, "api.list_authorizations", operation_id=operation_id)
    now = clock.now()
    return jsonify({"items": [records.authorization_json(session, a, now) for a in rows], "next": next_path})


def _issued_on(data: dict[str, Any]) -> date | None:
    value = data.get("issued_on")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 10:
        raise InvalidInput("issued_on must be a date (YYYY-MM-DD)", field="issued_on")
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise InvalidInput("issued_on must be a date (YYYY-MM-DD)", field="issued_on") from error


def authorization_terms(data: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of register_authorization from a JSON object (each field checked)."""
    long_texts = (
        "offence",
        "suspect_description",
        "justification",
        "method",
        "persona_constraints",
        "conditions",
    )
    return {
        "reference": text(data, "reference", max_length=120),
        "kind": text(data, "kind", max_length=24),
        "authority": text(data, "authority"),
        "issuer_name": text(data, "issuer_name", required=False),
        "legal_basis": text(data, "legal_basis"),
        **{name: text(data, name, required=False, max_length=LONG_TEXT) for name in long_texts},
        "issued_on": _issued_on(data),
        "valid_from": timestamp(data, "valid_from"),
        "valid_until": timestamp(data, "valid_until"),
        "review_interval_days": integer(data, "review_interval_days", minimum=1, maximum=3650),
        "platforms": string_list(data, "platforms", max_items=50, max_length=80),
        "may_initiate_contact": boolean(data, "may_initiate_contact"),
        "max_profiles": integer(data, "max_profiles", minimum=1, maximum=1000),
        "officers": string_list(data, "officers", max_items=200, max_length=64),
        "supersedes_id": integer(data, "supersedes_id", required=False, minimum=1, maximum=MAX_ID)
        if data.get("supersedes_id") is not None
        else None,
        "written_order_days": integer(data, "written_order_days", required=False, minimum=1, maximum=30)
        if data.get("written_order_days") is not None
        else None,
    }


@bp.route(f"/operations/<{ID}:operation_id>/authorizations", methods=["POST"])
def register_authorization(operation_id: int) -> Answer:
    """Register an order or ruling, or an extension that supersedes one (legal officers)."""
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    _require("legal")
    data = _body()
    authorization = services.register_authorization(
        session=session, actor=current_user, operation_id=operation_id, **authorization_terms(data)
    )
    session.commit()
    body = records.authorization_json(session, authorization, clock.now())
    return _created(body, url_for("api.get_authorization", authorization_id=authorization.id))


@bp.route(f"/authorizations/<{ID}:authorization_id>")
def get_authorization(authorization_id: int) -> Response:
    """One authorization with its status, officers, documents and place in the supersede chain."""
    session = get_session()
    authorization = _visible_authorization(session, authorization_id)
    return jsonify(records.authorization_json(session, authorization, clock.now()))


@bp.route(f"/authorizations/<{ID}:authorization_id>/documents", methods=["POST"])
def attach_document(authorization_id: int) -> Answer:
    """Attach the scanned order (PDF, multipart field ``file``) to an authorization (legal officers)."""
    session = get_session()
    _visible_authorization(session, authorization_id)
    before_reading_body(session)
    request.max_content_length = int(current_app.config["MAX_ATTACHMENT_BYTES"]) + FORM_ALLOWANCE
    request.max_form_memory_size = FORM_ALLOWANCE
    if request.mimetype != "multipart/form-data":
        raise InvalidInput("send the PDF as multipart/form-data in the field file", field="file")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("file is required (a PDF)", field="file")
    kind = request.form.get("kind") or "order"
    document = services.attach_order_document(
        session=session,
        actor=current_user,
        authorization_id=authorization_id,
        stream=upload.stream,
        filename=upload.filename,
        kind=kind,
    )
    session.commit()
    body = records.document_json(document, {current_user.id: current_user.username})
    return _created(body, url_for("api.get_authorization", authorization_id=authorization_id))


@bp.route(f"/operations/<{ID}:operation_id>/profiles")
def list_profiles(operation_id: int) -> Response:
    """The operation's decoy profiles, by id."""
    after, limit = page_arguments()
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    rows = records.profiles_of(session, operation_id, after=after, limit=limit + 1)
    rows, next_path = _page(rows, limit, "api.list_profiles", operation_id=operation_id)
    names = records.usernames(session, {p.proposed_by for p in rows} | {p.approved_by for p in rows})
    return jsonify({"items": [records.profile_json(p, names) for p in rows], "next": next_path})


@bp.route(f"/operations/<{ID}:operation_id>/profiles", methods=["POST"])
def propose_profile(operation_id: int) -> Answer:
    """Propose a decoy profile (a supervisor member); it waits for a colleague's approval."""
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    _require("supervisor")
    data = _body()
    profile = services.propose_profile(
        session=session,
        actor=current_user,
        operation_id=operation_id,
        authorization_id=integer(data, "authorization_id", minimum=1, maximum=MAX_ID),
        platform=text(data, "platform", max_length=80),
        handle=text(data, "handle"),
        persona=text(data, "persona", required=False, max_length=LONG_TEXT),
    )
    session.commit()
    return _created(_profile_body(session, profile), url_for("api.get_profile", profile_id=profile.id))


@bp.route(f"/profiles/<{ID}:profile_id>")
def get_profile(profile_id: int) -> Response:
    """One profile with its history of states."""
    session = get_session()
    profile = _visible_profile(session, profile_id)
    return jsonify(_profile_body(session, profile, history=True))


def _optional_body() -> dict[str, Any]:
    if not request.get_data(cache=True):
        return {}
    return _body()


@bp.route(f"/profiles/<{ID}:profile_id>/approve", methods=["POST"])
def approve_profile(profile_id: int) -> Response:
    """Approve a colleague's proposal; 409 naming the rule when it may not become active."""
    session = get_session()
    profile = services.approve_profile(
        session=session, actor=current_user, profile_id=profile_id
    )
    session.commit()
    return jsonify({"id": profile.id, "status": profile.status})


@bp.route(f"/profiles/<{ID}:profile_id>/suspend", methods=["POST"])
def suspend_profile(profile_id: int) -> Response:
    """Suspend an active profile, with a reason."""
    session = get_session()
    _visible_profile(session, profile_id)
    data = _body()
    profile = services.suspend_profile(
        session=session,
        actor=current_user,
        profile_id=profile_id,
        reason=text(data, "reason", max_length=2000),
    )
    session.commit()
    return jsonify({"id": profile.id, "status": profile.status})


@bp.route(f"/profiles/<{ID}:profile_id>/retire", methods=["POST"])
def retire_profile(profile_id: int) -> Response:
    """Retire a profile for good (a supervisor member)."""
    session = get_session()
    _visible_profile(session, profile_id)
    data = _optional_body()
    profile = services.retire_profile(
        session=session,
        actor=current_user,
        profile_id=profile_id,
        reason=text(data, "reason", required=False, max_length=2000),
    )
    session.commit()
    return jsonify({"id": profile.id, "status": profile.status})


@bp.route("/authorizations")
def central_record() -> Response:
    """The central record of authorizations of every operation (legal officers), searchable."""
    if not current_user.has_role("legal"):
        raise Forbidden("the central record is for legal officers")
    query = request.args.get("q", "")
    status = request.args.get("status", "")
    if len(query) > 200:
        raise InvalidInput("q is longer than 200 characters", field="q")
    if status and status not in rules.STATUSES:
        raise InvalidInput("status must be one of " + ", ".join(rules.STATUSES), field="status")
    session = get_session()
    now = clock.now()
    rows = records.central_record(session, now, query, status)
    items = []
    for row in rows:
        item = records.authorization_json(session, row.authorization, now)
        item["operation_name"] = row.operation.name
        items.append(item)
    return jsonify({"items": items, "next": None})


describe()
