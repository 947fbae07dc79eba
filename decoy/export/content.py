"""What an evidence bundle holds, read from one consistent snapshot of the database."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from ..clock import with_offset
from ..disclosure.codes import Officers
from ..evidence import transcript
from ..models import (
    Attachment,
    Authorization,
    AuthorizationDocument,
    AuthorizationKindChange,
    AuthorizationOfficer,
    Contact,
    Message,
    Operation,
    OperationMember,
    Profile,
    ProfileTransition,
    SignedReport,
    UserRole,
)
from ..operations.rules import withdrawals

PAGE = 2000


def iso(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC."""
    return None if moment is None else moment.isoformat()


def local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    """RFC 3339 in the operation's zone."""
    return None if moment is None else moment.astimezone(zone).isoformat()




def operation_record(session: Session, operation: Operation, names: Officers) -> dict[str, Any]:
    """The operation with its members and their roles."""
    members = session.exec(select(OperationMember).where(OperationMember.operation_id == operation.id)).all()
    roles: dict[int, list[str]] = {}
    for user_id, role in session.exec(select(UserRole.user_id, UserRole.role)).all():
        roles.setdefault(user_id, []).append(role)
    return {
        "id": operation.id,
        "name": operation.name,
        "team": operation.team,
        "status": operation.status,
        "timezone": operation.timezone,
        "description": operation.description,
        "created_by": names(operation.created_by, operation.created_at),
        "created_at": iso(operation.created_at),
        "members": [
            {
                "officer": names(member.user_id, member.added_at),
                "roles": sorted(roles.get(member.user_id, [])),
                "added_at": iso(member.added_at),
                "added_by": names(member.added_by, member.added_at),
            }
            for member in members
        ],
    }


def authorization_records(session: Session, operation_id: int, names: Officers) -> list[dict[str, Any]]:
    """Every authorization of the operation with its named officers and order documents."""
    authorizations = session.exec(
        select(Authorization)
        .where(Authorization.operation_id == operation_id)
        .order_by(col(Authorization.id))
    ).all()
    superseded = {a.supersedes_id for a in authorizations if a.supersedes_id is not None}
    ids = [a.id for a in authorizations]
    ended = withdrawals(session, ids)  # type: ignore[arg-type]
    changed = {
        change.authorization_id: change
        for change in session.exec(
            select(AuthorizationKindChange).where(col(AuthorizationKindChange.authorization_id).in_(ids))
        ).all()
    }
    records = []
    for authorization in authorizations:
        officers = session.exec(
            select(AuthorizationOfficer.user_id).where(
                AuthorizationOfficer.authorization_id == authorization.id
            )
        ).all()
        documents = session.exec(
            select(AuthorizationDocument)
            .where(AuthorizationDocument.authorization_id == authorization.id)
            .order_by(col(AuthorizationDocument.id))
        ).all()
        record = authorization.model_dump(mode="json")
        withdrawal = ended.get(authorization.id)  # type: ignore[arg-type]
        change = changed.get(authorization.id)  # type: ignore[arg-type]
        record.update(
            {
                "oral_order_given_at": iso(authorization.oral_order_given_at),
                # The kind it was registered with, where migration 0015 gave it the law's kind.
                "registered_kind": change.from_kind if change else None,
                "withdrawal": None if withdrawal is None else {
                    "id": withdrawal.id,
                    "effective_at": iso(withdrawal.effective_at),
                    "reason": withdrawal.reason,
                    "withdrawn_by": names(withdrawal.withdrawn_by, withdrawal.recorded_at),
                    "withdrawn_by_id": withdrawal.withdrawn_by,
                    "recorded_at": iso(withdrawal.recorded_at),
                },
                "valid_from": iso(authorization.valid_from),
                "valid_until": iso(authorization.valid_until),
                "registered_at": iso(authorization.registered_at),
                "written_order_due": iso(authorization.written_order_due),
                "registered_by": names(authorization.registered_by, authorization.registered_at),
                # The ids, which never change, are what the entry's row hash covers; names are shown.
                "registered_by_id": authorization.registered_by,
                "officers": sorted(
                    filter(None, (names(user_id, authorization.registered_at) for user_id in officers))
                ),
                "officer_ids": sorted(officers),
                "superseded": authorization.id in superseded,
                "documents": [
                    {
                        "id": d.id,
                        "kind": d.kind,
                        "filename": d.filename,
                        "sha256": d.sha256,
                        "size": d.size,
                        "media_type": d.media_type,
                        "uploaded_by": names(d.uploaded_by, d.uploaded_at),
                        "uploaded_at": iso(d.uploaded_at),
                        "path": f"authorizations/documents/{d.sha256}.pdf",
                    }
                    for d in documents
                ],
            }
        )
        records.append(record)
    return records


def profile_records(session: Session, operation_id: int, names: Officers) -> list[dict[str, Any]]:
    """Every profile of the operation with its full state history."""
    profiles = session.exec(
        select(Profile).where(Profile.operation_id == operation_id).order_by(col(Profile.id))
    ).all()
    records = []
    for profile in profiles:
        history = session.exec(
            select(ProfileTransition)
            .where(ProfileTransition.profile_id == profile.id)
            .order_by(col(ProfileTransition.id))
        ).all()
        records.append(
            {
                "id": profile.id,
                "operation_id": profile.operation_id,
                "authorization_id": profile.authorization_id,
                "platform": profile.platform,
                "handle": profile.handle,
                "persona": profile.persona,
                # The age the persona gives (null when none was given): in the row hash only when set.
                "persona_age": profile.persona_age,
                "status": profile.status,
                "proposed_by": names(profile.proposed_by, profile.proposed_at),
                "proposed_by_id": profile.proposed_by,
                "proposed_at": iso(profile.proposed_at),
                "approved_by": names(profile.approved_by, profile.approved_at),
                "approved_at": iso(profile.approved_at),
                "history": [
                    {
                        "id": t.id,
                        "from": t.from_status,
                        "to": t.to_status,
                        "actor": t.actor,
                        "reason": t.reason,
                        "at": iso(t.at),
                    }
                    for t in history
                ],
            }
        )
    return records


def contacts(session: Session, operation_id: int) -> list[Contact]:
    """The operation's contacts in order."""
    return list(
        session.exec(
            select(Contact).where(Contact.operation_id == operation_id).order_by(col(Contact.id))
        ).all()
    )


def contact_record(contact: Contact, names: Officers, zone: ZoneInfo) -> dict[str, Any]:
    """A contact's own fields."""
    return {
        "id": contact.id,
        "profile_id": contact.profile_id,
        "counterpart": contact.counterpart,
        "first_seen_at": iso(contact.first_seen_at),
        "first_seen_local": local(contact.first_seen_at, zone),
        "flags": list(contact.flags),
        "recorded_by": names(contact.recorded_by, contact.recorded_at),
        "recorded_at": iso(contact.recorded_at),
    }


def iter_messages(session: Session, contact_id: int) -> Iterator[tuple[Message, list[Attachment]]]:
    """A contact's messages in transcript order, with their attachments, read page by page."""
    after: tuple[datetime, int] | None = None
    while True:
        query = select(Message).where(Message.contact_id == contact_id)
        if after is not None:
            query = query.where(transcript.after_in_order(*after))
        page = session.exec(query.order_by(col(Message.sent_at), col(Message.id)).limit(PAGE)).all()
        if not page:
            return
        attachments: dict[int, list[Attachment]] = {}
        ids = [message.id for message in page]
        for attachment in session.exec(
            select(Attachment).where(col(Attachment.message_id).in_(ids)).order_by(col(Attachment.id))
        ).all():
            attachments.setdefault(attachment.message_id, []).append(attachment)
        for message in page:
            yield message, attachments.get(message.id or 0, [])
        after = (page[-1].sent_at, page[-1].id or 0)


def message_record(
    message: Message,
    attachments: list[Attachment],
    names: Officers,
    zone: ZoneInfo,
    later_flags: Sequence[str] = (),
    lifted_flags: Sequence[str] = (),
) -> dict[str, Any]:
    """One message as the transcript shows it: verbatim text, both times, flags and attachments.

    ``flags`` are those recorded with the message (its audit entry holds them); ``later_flags`` those
    found afterwards (an import's reconciliation, listed in ``imports.json``, or the contact's latest
    assessment, in ``initiative.json``); ``lifted_flags`` recorded ones the latest assessment no longer
    gives (a message recorded late showed the counterpart wrote first).
    """
    return {
        "id": message.id,
        "direction": message.direction,
        "sent_at": with_offset(message.sent_at, message.sent_offset_minutes).isoformat(),
        "sent_at_local": local(message.sent_at, zone),
        "recorded_at": iso(message.recorded_at),
        "recorded_at_local": local(message.recorded_at, zone),
        "recorded_by": names(message.recorded_by, message.recorded_at),
        "body": message.body,
        "body_sha256": message.body_sha256,
        # The commitment's key and the commitment (null for a message recorded before commitments).
        "body_salt": message.body_salt,
        "body_commitment": message.body_commitment,
        "corrects": message.corrects_id,
        "flags": list(message.flags),
        # The officer at the keyboard and the capture session, for a message captured in one (else null).
        "operated_by": names(message.operated_by, message.recorded_at),
        "capture_session": message.capture_session_id,
        "later_flags": list(later_flags),
        "lifted_flags": list(lifted_flags),
        # Where an imported message comes from (all null for a typed message).
        "import_id": message.import_id,
        "source": message.source,
        "platform_message_id": message.platform_message_id,
        "assumed_timezone": message.assumed_timezone,
        "attachments": [
            {
                "sha256": a.sha256,
                "size": a.size,
                "media_type": a.media_type,
                "filename": a.filename,
                "path": f"attachments/{a.sha256}",
            }
            for a in attachments
        ],
    }


def review_records(
    session: Session, operation_id: int, names: Officers, zone: ZoneInfo
) -> list[dict[str, Any]]:
    """The operation's legal reviews with their decisions, then the automatic enforcement actions."""
    from ..models.reviews import EnforcementAction, ReviewDecision
    from ..reviews.services import operation_records

    records = operation_records(session, operation_id)
    decided = {
        d.review_id: d
        for d in session.exec(
            select(ReviewDecision).where(col(ReviewDecision.review_id).in_([r["id"] for r in records]))
        ).all()
    }
    for record in records:
        row = decided.get(record["id"])
        if record["decision"] is not None and row is not None:
            # The decision's row and account ids: what the entry's row hash covers.
            record["decision"].update(
                {
                    "id": row.id,
                    "decided_by_id": row.decided_by,
                    "decided_by": names(row.decided_by, row.decided_at),
                }
            )
    for action in session.exec(
        select(EnforcementAction)
        .where(EnforcementAction.operation_id == operation_id)
        .order_by(col(EnforcementAction.id))
    ).all():
        records.append(
            {
                "id": f"enforcement-{action.id}",
                "kind": "enforcement",
                "trigger": action.rule,
                "authorization_id": action.authorization_id,
                "review_id": action.review_id,
                "due_at": local(action.at, zone),
                "status": "done",
                "decision": {
                    "decision": "suspend",
                    "rationale": f"automatic: {action.rule}",
                    "decided_by": "system",
                    "decided_at": local(action.at, zone),
                    "profiles": list(action.profiles),
                },
            }
        )
    return records


def signed_reports(session: Session, contact_id: int) -> list[SignedReport]:
    """The contact's signed proces-verbaal copies, oldest first."""
    return list(
        session.exec(
            select(SignedReport)
            .where(SignedReport.contact_id == contact_id)
            .order_by(col(SignedReport.id))
        ).all()
    )
