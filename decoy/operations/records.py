"""Reading operations, authorizations and profiles: JSON shapes and the central record of authorizations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, or_
from sqlmodel import Session, col, select

from ..models import (
    Authorization,
    AuthorizationDocument,
    AuthorizationKindChange,
    AuthorizationOfficer,
    AuthorizationWithdrawal,
    Operation,
    OperationMember,
    Profile,
    ProfileTransition,
    User,
)
from .rules import authorization_status, successor, withdrawals, written_order_overdue
from .schemas import (
    AuthorizationPublic,
    DocumentPublic,
    MemberAssigned,
    MemberPublic,
    OperationPublic,
    OperationWithMembers,
    ProfilePublic,
    ProfileWithHistory,
    RecordEntry,
    TransitionPublic,
    WithdrawalPublic,
)


def usernames(session: Session, user_ids: set[int | None]) -> dict[int, str]:
    """Usernames by account id."""
    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    rows = session.exec(select(User.id, User.username).where(col(User.id).in_(wanted))).all()
    return {int(user_id): username for user_id, username in rows if user_id is not None}


def operation_json(operation: Operation, names: dict[int, str]) -> dict[str, Any]:
    """An operation's record."""
    return _operation(operation, names).model_dump(mode="json")


def _operation(operation: Operation, names: dict[int, str]) -> OperationPublic:
    return OperationPublic(
        id=operation.id,
        name=operation.name,
        team=operation.team,
        status=operation.status,
        timezone=operation.timezone,
        description=operation.description,
        created_by=names.get(operation.created_by, ""),
        created_at=operation.created_at,
    )


def operation_with_members_json(
    operation: Operation, members: list[tuple[OperationMember, User]], names: dict[int, str]
) -> dict[str, Any]:
    """An operation's record with its members."""
    return OperationWithMembers(
        **dict(_operation(operation, names)), members=[_member(m, u, names) for m, u in members]
    ).model_dump(mode="json")


def member_rows(session: Session, operation_id: int) -> list[tuple[OperationMember, User]]:
    """The members of an operation with their accounts, by username."""
    rows = session.exec(
        select(OperationMember, User)
        .join(User, col(User.id) == OperationMember.user_id)
        .where(OperationMember.operation_id == operation_id)
        .order_by(col(User.username))
    ).all()
    return [(member, user) for member, user in rows]


def _member(member: OperationMember, user: User, names: dict[int, str]) -> MemberPublic:
    added_by = names.get(member.added_by, "")
    return MemberPublic(username=user.username, added_by=added_by, added_at=member.added_at)


def member_json(member: OperationMember, user: User, names: dict[int, str]) -> dict[str, Any]:
    """A member just assigned to an operation, with the operation."""
    return MemberAssigned(**dict(_member(member, user, names)), operation_id=member.operation_id).model_dump(
        mode="json"
    )


def officers_of(session: Session, authorization_id: int) -> list[str]:
    """The usernames an authorization names, sorted."""
    rows = session.exec(
        select(User.username)
        .join(AuthorizationOfficer, col(AuthorizationOfficer.user_id) == User.id)
        .where(AuthorizationOfficer.authorization_id == authorization_id)
        .order_by(col(User.username))
    ).all()
    return list(rows)


def documents_of(session: Session, authorization_id: int) -> list[AuthorizationDocument]:
    """The documents attached to an authorization, oldest first."""
    return list(
        session.exec(
            select(AuthorizationDocument)
            .where(AuthorizationDocument.authorization_id == authorization_id)
            .order_by(col(AuthorizationDocument.id))
        ).all()
    )


def _document(document: AuthorizationDocument, names: dict[int, str]) -> DocumentPublic:
    return DocumentPublic(
        id=document.id,
        authorization_id=document.authorization_id,
        kind=document.kind,
        filename=document.filename,
        sha256=document.sha256,
        size=document.size,
        media_type=document.media_type,
        uploaded_by=names.get(document.uploaded_by, ""),
        uploaded_at=document.uploaded_at,
    )


def document_json(document: AuthorizationDocument, names: dict[int, str]) -> dict[str, Any]:
    """An order document's record."""
    return _document(document, names).model_dump(mode="json")


def _withdrawal(withdrawal: AuthorizationWithdrawal | None, names: dict[int, str]) -> WithdrawalPublic | None:
    if withdrawal is None:
        return None
    return WithdrawalPublic(
        id=withdrawal.id,
        authorization_id=withdrawal.authorization_id,
        effective_at=withdrawal.effective_at,
        reason=withdrawal.reason,
        by=names.get(withdrawal.withdrawn_by),
        recorded_at=withdrawal.recorded_at,
    )


def withdrawal_json(session: Session, withdrawal: AuthorizationWithdrawal) -> dict[str, Any]:
    """A withdrawal's record."""
    names = usernames(session, {withdrawal.withdrawn_by})
    return _withdrawal(withdrawal, names).model_dump(mode="json")  # type: ignore[union-attr]


def _authorization(session: Session, authorization: Authorization, now: datetime) -> AuthorizationPublic:
    documents = documents_of(session, authorization.id)  # type: ignore[arg-type]
    withdrawal = withdrawals(session, [authorization.id]).get(authorization.id)  # type: ignore[list-item,arg-type]
    kind_change = session.get(AuthorizationKindChange, authorization.id)
    names = usernames(
        session,
        {
            authorization.registered_by,
            *(d.uploaded_by for d in documents),
            *([withdrawal.withdrawn_by] if withdrawal else []),
        },
    )
    newer = successor(session, authorization.id)  # type: ignore[arg-type]
    return AuthorizationPublic(
        id=authorization.id,
        operation_id=authorization.operation_id,
        reference=authorization.reference,
        kind=authorization.kind,
        authority=authorization.authority,
        issuer_name=authorization.issuer_name,
        legal_basis=authorization.legal_basis,
        offence=authorization.offence,
        suspect_description=authorization.suspect_description,
        justification=authorization.justification,
        method=authorization.method,
        issued_on=authorization.issued_on,
        valid_from=authorization.valid_from,
        valid_until=authorization.valid_until,
        review_interval_days=authorization.review_interval_days,
        platforms=list(authorization.platforms),
        persona_constraints=authorization.persona_constraints,
        may_initiate_contact=authorization.may_initiate_contact,
        max_profiles=authorization.max_profiles,
        persona_age_min=authorization.persona_age_min,
        persona_age_max=authorization.persona_age_max,
        officers=officers_of(session, authorization.id),  # type: ignore[arg-type]
        conditions=authorization.conditions,
        written_order_due=authorization.written_order_due,
        written_order_overdue=written_order_overdue(session, authorization, now),
        oral_order_given_at=authorization.oral_order_given_at,
        advice_reference=authorization.advice_reference,
        consent_reference=authorization.consent_reference,
        registered_kind=kind_change.from_kind if kind_change else None,
        withdrawal=_withdrawal(withdrawal, names),
        supersedes_id=authorization.supersedes_id,
        superseded_by=newer.id if newer else None,
        status=authorization_status(session, authorization, now),
        documents=[_document(document, names) for document in documents],
        registered_by=names.get(authorization.registered_by, ""),
        registered_at=authorization.registered_at,
    )


def authorization_json(session: Session, authorization: Authorization, now: datetime) -> dict[str, Any]:
    """Every field of an authorization, its status now, officers, documents and place in the chain."""
    return _authorization(session, authorization, now).model_dump(mode="json")


def record_entry_json(session: Session, row: RecordRow, now: datetime) -> dict[str, Any]:
    """An authorization of the central record, with its operation's name."""
    public = _authorization(session, row.authorization, now)
    return RecordEntry(**dict(public), operation_name=row.operation.name).model_dump(mode="json")


def authorizations_of(
    session: Session, operation_id: int, *, after: int | None = None, limit: int | None = None
) -> list[Authorization]:
    """An operation's authorizations by id."""
    query = (
        select(Authorization)
        .where(Authorization.operation_id == operation_id)
        .order_by(col(Authorization.id))
    )
    if after is not None:
        query = query.where(col(Authorization.id) > after)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def profiles_of(
    session: Session, operation_id: int, *, after: int | None = None, limit: int | None = None
) -> list[Profile]:
    """An operation's profiles by id."""
    query = select(Profile).where(Profile.operation_id == operation_id).order_by(col(Profile.id))
    if after is not None:
        query = query.where(col(Profile.id) > after)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def transitions_of(session: Session, profile_id: int) -> list[ProfileTransition]:
    """A profile's history, oldest first."""
    return list(
        session.exec(
            select(ProfileTransition)
            .where(ProfileTransition.profile_id == profile_id)
            .order_by(col(ProfileTransition.id))
        ).all()
    )


def _transition(transition: ProfileTransition) -> TransitionPublic:
    return TransitionPublic(
        from_status=transition.from_status,
        to_status=transition.to_status,
        actor=transition.actor,
        reason=transition.reason,
        at=transition.at,
    )


def _profile(profile: Profile, names: dict[int, str]) -> ProfilePublic:
    return ProfilePublic(
        id=profile.id,
        operation_id=profile.operation_id,
        authorization_id=profile.authorization_id,
        platform=profile.platform,
        handle=profile.handle,
        persona=profile.persona,
        persona_age=profile.persona_age,
        status=profile.status,
        proposed_by=names.get(profile.proposed_by, ""),
        proposed_at=profile.proposed_at,
        approved_by=names.get(profile.approved_by, "") if profile.approved_by else None,
        approved_at=profile.approved_at,
    )


def profile_json(profile: Profile, names: dict[int, str]) -> dict[str, Any]:
    """A profile's record (without its history)."""
    return _profile(profile, names).model_dump(mode="json")


def profile_with_history_json(session: Session, profile: Profile) -> dict[str, Any]:
    """A profile's record with its history of states, oldest first."""
    names = usernames(session, {profile.proposed_by, profile.approved_by})
    history = [_transition(step) for step in transitions_of(session, profile.id)]  # type: ignore[arg-type]
    return ProfileWithHistory(**dict(_profile(profile, names)), history=history).model_dump(mode="json")


@dataclass(frozen=True)
class RecordRow:
    """One line of the central record: an authorization, its operation and its status now."""

    authorization: Authorization
    operation: Operation
    status: str
    written_order_overdue: bool


def central_record(session: Session, now: datetime, query: str = "", status: str = "") -> list[RecordRow]:
    """Every authorization of every operation, newest first, optionally searched and filtered by status.

    The search matches reference, operation name, authority, issuer, legal basis and offence
    (case-insensitive). Only legal officers may be shown this; the caller checks.
    """
    statement = select(Authorization, Operation).join(
        Operation, col(Operation.id) == Authorization.operation_id
    )
    words = query.strip()
    if words:
        pattern = "%" + words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        columns = (
            Authorization.reference,
            Operation.name,
            Authorization.authority,
            Authorization.issuer_name,
            Authorization.legal_basis,
            Authorization.offence,
        )
        statement = statement.where(
            or_(*(cast(column, String).ilike(pattern, escape="\\") for column in columns))
        )
    statement = statement.order_by(col(Authorization.registered_at).desc(), col(Authorization.id).desc())
    rows = []
    for authorization, operation in session.exec(statement).all():
        current = authorization_status(session, authorization, now)
        if status and current != status:
            continue
        rows.append(
            RecordRow(authorization, operation, current, written_order_overdue(session, authorization, now))
        )
    return rows
