"""API endpoints of operations, members, authorizations (with order documents) and decoy profiles."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import access, clock
from ..db import before_reading_body, get_session
from ..errors import Forbidden, InvalidInput
from ..models import Authorization, Profile, User
from ..models.schemas import Page, PageQuery
from ..operations import records, services
from ..operations.schemas import (
    AuthorizationCreate,
    AuthorizationPage,
    AuthorizationPublic,
    CentralRecord,
    CentralRecordQuery,
    DocumentPublic,
    DocumentUpload,
    MemberAssigned,
    MemberCreate,
    MemberRemoval,
    MemberRemoved,
    OperationCreate,
    OperationPage,
    OperationPublic,
    OperationState,
    OperationWithMembers,
    ProfileCreate,
    ProfilePage,
    ProfilePublic,
    ProfileState,
    ProfileWithHistory,
    Retirement,
    StatusChange,
    Suspension,
)
from . import bp
from .inputs import read_form, read_json, read_query
from .openapi import route

#: Room for the form fields and multipart framing beside the document itself.
FORM_ALLOWANCE = 1024 * 1024
#: What a change may answer besides success: malformed, not allowed, unknown, against a rule, too large.
CHANGE_ERRORS = (400, 403, 404, 409, 413)

Answer = tuple[Response, int, dict[str, str]]


def _created(body: dict[str, Any], location: str) -> Answer:
    return jsonify(body), 201, {"Location": location}


def _require(*roles: str) -> None:
    """Refuse a caller without any of ``roles`` before reading the request (403, not a 400 about input)."""
    if not current_user.has_role(*roles):
        raise Forbidden("your role does not allow this")


def _page(items: list[Any], rows: list[Any], limit: int, endpoint: str, **values: Any) -> Response:
    """The first ``limit`` items and, when there are more rows, the path of the next page."""
    more = len(rows) > limit
    next_path = url_for(endpoint, after=rows[limit - 1].id, limit=limit, **values) if more else None
    return jsonify(Page(items=items[:limit], next=next_path).model_dump(mode="json"))


def _visible_authorization(session: Any, authorization_id: int) -> Authorization:
    authorization = session.get(Authorization, authorization_id)
    return access.require_visible(session, current_user, authorization, "authorization")  # type: ignore[no-any-return]


def _visible_profile(session: Any, profile_id: int) -> Profile:
    profile = session.get(Profile, profile_id)
    return access.require_visible(session, current_user, profile, "profile")  # type: ignore[no-any-return]


def _state(profile: Profile) -> Response:
    return jsonify(ProfileState(id=profile.id, status=profile.status).model_dump(mode="json"))


@route(bp, "/operations", query=PageQuery, answer=OperationPage, errors=(400,))
def list_operations() -> Response:
    """The operations the caller may see, by id."""
    page = read_query(PageQuery)
    session = get_session()
    rows = services.visible_operations(session, current_user, after=page.after, limit=page.limit + 1)
    names = records.usernames(session, {operation.created_by for operation in rows[: page.limit]})
    items = [records.operation_json(o, names) for o in rows[: page.limit]]
    return _page(items, rows, page.limit, "api.list_operations")


@route(bp, "/operations", "POST", body=OperationCreate, answer=OperationPublic, status=201,
       errors=(400, 403, 409, 413))
def create_operation() -> Answer:
    """Open an operation (supervisors)."""
    _require("supervisor")
    data = read_json(OperationCreate)
    session = get_session()
    operation = services.create_operation(
        session=session,
        actor=current_user,
        name=data.name,
        team=data.team or "",
        timezone=data.timezone or None,
        description=data.description or "",
    )
    session.commit()
    body = records.operation_json(operation, {current_user.id: current_user.username})
    return _created(body, url_for("api.get_operation", operation_id=operation.id))


@route(bp, "/operations/<int:operation_id>", answer=OperationWithMembers, errors=(404,))
def get_operation(operation_id: int) -> Response:
    """One operation with its members."""
    session = get_session()
    operation = access.visible_operation(session, current_user, operation_id)
    members = records.member_rows(session, operation_id)
    names = records.usernames(session, {operation.created_by, *(m.added_by for m, _u in members)})
    return jsonify(records.operation_with_members_json(operation, members, names))


@route(bp, "/operations/<int:operation_id>/members", "POST", body=MemberCreate, answer=MemberAssigned,
       status=201, errors=CHANGE_ERRORS)
def add_member(operation_id: int) -> Answer:
    """Assign a person to the operation (a supervisor member)."""
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    _require("supervisor")
    data = read_json(MemberCreate)
    member = services.add_member(
        session=session, actor=current_user, operation_id=operation_id, username=data.username
    )
    session.commit()
    user = session.get(User, member.user_id)
    body = records.member_json(member, user, {current_user.id: current_user.username})  # type: ignore[arg-type]
    return _created(body, url_for("api.get_operation", operation_id=operation_id))


@route(bp, "/operations/<int:operation_id>/members/<username>/remove", "POST", body=MemberRemoval,
       answer=MemberRemoved, errors=CHANGE_ERRORS)
def remove_member(operation_id: int, username: str) -> Response:
    """Remove a person from the operation, with a reason (a supervisor member); their access ends at once."""
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    _require("supervisor")
    data = read_json(MemberRemoval)
    user = services.remove_member(
        session=session, actor=current_user, operation_id=operation_id, username=username, reason=data.reason
    )
    session.commit()
    body = MemberRemoved(operation_id=operation_id, username=user.username, reason=data.reason)
    return jsonify(body.model_dump(mode="json"))


@route(bp, "/operations/<int:operation_id>/status", "POST", body=StatusChange, answer=OperationState,
       errors=CHANGE_ERRORS)
def change_status(operation_id: int) -> Response:
    """Move the operation to another status (a supervisor member)."""
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    _require("supervisor")
    data = read_json(StatusChange)
    operation = services.change_operation_status(
        session=session, actor=current_user, operation_id=operation_id, status=data.status
    )
    session.commit()
    return jsonify(OperationState(id=operation.id, status=operation.status).model_dump(mode="json"))


@route(bp, "/operations/<int:operation_id>/authorizations", query=PageQuery, answer=AuthorizationPage,
       errors=(400, 404))
def list_authorizations(operation_id: int) -> Response:
    """The operation's authorizations with their status now, by id."""
    page = read_query(PageQuery)
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    rows = records.authorizations_of(session, operation_id, after=page.after, limit=page.limit + 1)
    now = clock.now()
    items = [records.authorization_json(session, a, now) for a in rows[: page.limit]]
    return _page(items, rows, page.limit, "api.list_authorizations", operation_id=operation_id)


@route(bp, "/operations/<int:operation_id>/authorizations", "POST", body=AuthorizationCreate,
       answer=AuthorizationPublic, status=201, errors=CHANGE_ERRORS)
def register_authorization(operation_id: int) -> Answer:
    """Register an order or ruling, or an extension that supersedes one (legal officers)."""
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    _require("legal")
    data = read_json(AuthorizationCreate)
    authorization = services.register_authorization(
        session=session, actor=current_user, operation_id=operation_id, **data.terms()
    )
    session.commit()
    body = records.authorization_json(session, authorization, clock.now())
    return _created(body, url_for("api.get_authorization", authorization_id=authorization.id))


@route(bp, "/authorizations/<int:authorization_id>", answer=AuthorizationPublic, errors=(404,))
def get_authorization(authorization_id: int) -> Response:
    """One authorization with its status, officers, documents and place in the supersede chain."""
    session = get_session()
    authorization = _visible_authorization(session, authorization_id)
    return jsonify(records.authorization_json(session, authorization, clock.now()))


@route(bp, "/authorizations/<int:authorization_id>/documents", "POST", form=DocumentUpload,
       answer=DocumentPublic, status=201, errors=(400, 403, 404, 413))
def attach_document(authorization_id: int) -> Answer:
    """Attach the scanned order (PDF, multipart field ``file``) to an authorization (legal officers)."""
    session = get_session()
    _visible_authorization(session, authorization_id)
    before_reading_body(session)
    request.max_content_length = int(current_app.config["MAX_ATTACHMENT_BYTES"]) + FORM_ALLOWANCE
    request.max_form_memory_size = FORM_ALLOWANCE
    if request.mimetype != "multipart/form-data":
        raise InvalidInput("send the PDF as multipart/form-data in the field file", field="file")
    data = read_form(DocumentUpload)
    document = services.attach_order_document(
        session=session,
        actor=current_user,
        authorization_id=authorization_id,
        stream=data.file.stream,
        filename=data.file.filename,
        kind=data.kind,
    )
    session.commit()
    body = records.document_json(document, {current_user.id: current_user.username})
    return _created(body, url_for("api.get_authorization", authorization_id=authorization_id))


@route(bp, "/operations/<int:operation_id>/profiles", query=PageQuery, answer=ProfilePage, errors=(400, 404))
def list_profiles(operation_id: int) -> Response:
    """The operation's decoy profiles, by id."""
    page = read_query(PageQuery)
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    rows = records.profiles_of(session, operation_id, after=page.after, limit=page.limit + 1)
    shown = rows[: page.limit]
    names = records.usernames(session, {p.proposed_by for p in shown} | {p.approved_by for p in shown})
    items = [records.profile_json(p, names) for p in shown]
    return _page(items, rows, page.limit, "api.list_profiles", operation_id=operation_id)


@route(bp, "/operations/<int:operation_id>/profiles", "POST", body=ProfileCreate, answer=ProfilePublic,
       status=201, errors=CHANGE_ERRORS)
def propose_profile(operation_id: int) -> Answer:
    """Propose a decoy profile (a supervisor member); it waits for a colleague's approval."""
    session = get_session()
    access.visible_operation(session, current_user, operation_id)
    _require("supervisor")
    data = read_json(ProfileCreate)
    profile = services.propose_profile(
        session=session,
        actor=current_user,
        operation_id=operation_id,
        authorization_id=data.authorization_id,
        platform=data.platform,
        handle=data.handle,
        persona=data.persona or "",
        persona_age=data.persona_age,
    )
    session.commit()
    names = records.usernames(session, {profile.proposed_by, profile.approved_by})
    return _created(records.profile_json(profile, names), url_for("api.get_profile", profile_id=profile.id))


@route(bp, "/profiles/<int:profile_id>", answer=ProfileWithHistory, errors=(404,))
def get_profile(profile_id: int) -> Response:
    """One profile with its history of states."""
    session = get_session()
    profile = _visible_profile(session, profile_id)
    return jsonify(records.profile_with_history_json(session, profile))


@route(bp, "/profiles/<int:profile_id>/approve", "POST", answer=ProfileState, errors=CHANGE_ERRORS)
def approve_profile(profile_id: int) -> Response:
    """Approve a colleague's proposal; 409 naming the rule when it may not become active."""
    session = get_session()
    profile = services.approve_profile(session=session, actor=current_user, profile_id=profile_id)
    session.commit()
    return _state(profile)


@route(bp, "/profiles/<int:profile_id>/suspend", "POST", body=Suspension, answer=ProfileState,
       errors=CHANGE_ERRORS)
def suspend_profile(profile_id: int) -> Response:
    """Suspend an active profile, with a reason."""
    session = get_session()
    _visible_profile(session, profile_id)
    data = read_json(Suspension)
    profile = services.suspend_profile(
        session=session, actor=current_user, profile_id=profile_id, reason=data.reason
    )
    session.commit()
    return _state(profile)


@route(bp, "/profiles/<int:profile_id>/retire", "POST", body=Retirement, body_required=False,
       answer=ProfileState, errors=CHANGE_ERRORS)
def retire_profile(profile_id: int) -> Response:
    """Retire a profile for good (a supervisor member)."""
    session = get_session()
    _visible_profile(session, profile_id)
    data = read_json(Retirement, optional=True)
    profile = services.retire_profile(
        session=session, actor=current_user, profile_id=profile_id, reason=data.reason or ""
    )
    session.commit()
    return _state(profile)


@route(bp, "/authorizations", query=CentralRecordQuery, answer=CentralRecord, errors=(400, 403))
def central_record() -> Response:
    """The central record of authorizations of every operation (legal officers), searchable."""
    if not current_user.has_role("legal"):
        raise Forbidden("the central record is for legal officers")
    search = read_query(CentralRecordQuery)
    session = get_session()
    now = clock.now()
    rows = records.central_record(session, now, search.q, search.status or "")
    items = [records.record_entry_json(session, row, now) for row in rows]
    return jsonify(Page(items=items, next=None).model_dump(mode="json"))
