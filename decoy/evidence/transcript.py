"""The transcript's data: a contact's messages and a profile's contacts by keyset (read via reading.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, String, and_, bindparam, cast, func, or_
from sqlmodel import Session, col, select

from ..errors import InvalidInput
from ..initiative.assessment import ASSESSED_FLAGS, assessed_message_flags, flags_now, latest
from ..models import FLAGS, MAX_ID, Attachment, Contact, ExportReconciliation, Message, Profile, User
from ..models.capture import DIFFERS, MISSING, MessageImport
from ..models.initiative import Annotation
from .services import attachments_of


@dataclass
class Page:
    """One page of a transcript, in platform-time order."""

    messages: list[Message]
    attachments: dict[int, list[Attachment]]
    usernames: dict[int, str]
    corrected_by: dict[int, list[int]]
    #: Each message's flags now (decoy.initiative.assessment.flags_now), by message id.
    flags: dict[int, list[str]] = field(default_factory=dict)
    next_after: int | None = None
    previous_before: int | None = None
    cursor: dict[str, Any] = field(default_factory=dict)


def by_id(session: Session, model: Any, object_id: int, *, lock: bool = False) -> Any:
    """The row of ``model`` with id ``object_id``, or None (ids beyond the column's range, and anything but a
    whole number, included); ``lock`` holds the row until the transaction ends (PostgreSQL)."""
    if type(object_id) is not int or not 0 < object_id <= MAX_ID:
        return None
    return session.get(model, object_id, with_for_update=True if lock else None)


def usernames(session: Session, user_ids: set[int]) -> dict[int, str]:
    """Usernames by account id."""
    if not user_ids:
        return {}
    rows = session.exec(select(User.id, User.username).where(col(User.id).in_(user_ids))).all()
    return {int(user_id): username for user_id, username in rows if user_id is not None}


def _anchor(session: Session, contact: Contact, message_id: int, name: str) -> Message:
    anchor = by_id(session, Message, message_id)
    if anchor is None or anchor.contact_id != contact.id:
        raise InvalidInput(_("%(field)s must name a message of this contact", field=name), field=name)
    return anchor  # type: ignore[no-any-return]


def message_page(
    session: Session,
    contact: Contact,
    *,
    after: int | None = None,
    before: int | None = None,
    start: int | None = None,
    limit: int = 50,
    marked: bool = False,
) -> Page:
    """A page of the contact's messages ordered by (sent_at, id), using the (contact, sent_at, id) index.

    ``after`` continues past a message, ``start`` begins at one (inclusive), ``before`` ends just before
    one; with none of them the first page is returned, and with ``before=0`` the last page. ``marked``
    keeps only the messages that carry an annotation (any, retractions and remarks included) or a flag
    now (as recorded, as assessed, or found later by an import), in the same order and by the same keyset.
    """
    order = (col(Message.sent_at), col(Message.id))
    query = select(Message).where(Message.contact_id == contact.id)
    if marked:
        query = query.where(marked_condition(session, contact))
    backwards = before is not None
    if after is not None or start is not None:
        anchor = _anchor(
            session,
            contact,
            after if after is not None else start,  # type: ignore[arg-type]
            "after" if after is not None else "start",
        )
        query = query.where(after_in_order(anchor.sent_at, anchor.id, inclusive=after is None))
    elif before:
        anchor = _anchor(session, contact, before, "before")
        query = query.where(before_in_order(anchor.sent_at, anchor.id))
    if backwards:
        query = query.order_by(order[0].desc(), order[1].desc())
    else:
        query = query.order_by(*order)
    rows = list(session.exec(query.limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    page = Page(
        messages=rows,
        attachments=attachments_of(session, [m.id for m in rows if m.id is not None]),
        usernames=usernames(
            session,
            {m.recorded_by for m in rows} | {m.operated_by for m in rows if m.operated_by is not None},
        ),
        corrected_by=_corrections_of(session, [m.id for m in rows if m.id is not None]),
        flags=current_flags(session, rows),
    )
    if rows:
        if backwards:
            page.previous_before = rows[0].id if more else None
            page.next_after = rows[-1].id if before else None
        else:
            page.next_after = rows[-1].id if more else None
            page.previous_before = rows[0].id if (after is not None or start is not None) else None
    return page


def after_in_order(sent_at: datetime, message_id: int, *, inclusive: bool = False) -> ColumnElement[bool]:
    """The messages after (``inclusive``: from) the one at (sent_at, message_id) in transcript order.

    The plain bound on sent_at, implied by the rest, lets the database begin its walk of the (contact,
    sent_at, id) index at the anchor rather than at the contact's first message."""
    later = col(Message.id) >= message_id if inclusive else col(Message.id) > message_id
    return and_(
        col(Message.sent_at) >= sent_at,
        or_(col(Message.sent_at) > sent_at, and_(col(Message.sent_at) == sent_at, later)),
    )


def before_in_order(sent_at: datetime, message_id: int) -> ColumnElement[bool]:
    """The messages before the one at (sent_at, message_id) in transcript order (bounded as above)."""
    return and_(
        col(Message.sent_at) <= sent_at,
        or_(
            col(Message.sent_at) < sent_at,
            and_(col(Message.sent_at) == sent_at, col(Message.id) < message_id),
        ),
    )


def flagged_counts(session: Session, contacts: Sequence[Contact]) -> dict[int, int]:
    """For each contact, how many of its messages carry a flag now (see :func:`marked_condition`), so that a
    list of contacts shows those with flagged messages too, not only those with a flag of their own."""
    counts: dict[int, int] = {}
    for contact in contacts:
        query = select(func.count()).select_from(Message).where(
            Message.contact_id == contact.id, marked_condition(session, contact, annotated=False)
        )
        counts[contact.id] = session.exec(query).one()  # type: ignore[index]
    return counts


def marked_condition(session: Session, contact: Contact, *, annotated: bool = True) -> ColumnElement[bool]:
    """Whether a message of the contact is annotated (unless ``annotated`` is False) or has a flag now, as
    one condition of the page's query (evaluated as the (contact, sent_at, id) index is walked; the
    subqueries run once each).

    A message's flags now (current_flags) are those it was recorded with, the assessed ones replaced by
    the latest assessment's for the messages that assessment considered, and those an import's
    reconciliation found. So a message is flagged now when a reconciliation flagged it, when the latest
    assessment gives it a flag, or when it was recorded with a flag the assessment does not decide (or
    with any flag, when no assessment considered it).
    """
    reconciled = (
        select(ExportReconciliation.message_id)
        .join(MessageImport, col(MessageImport.id) == col(ExportReconciliation.import_id))
        .where(
            MessageImport.contact_id == contact.id,
            col(ExportReconciliation.outcome).in_((DIFFERS, MISSING)),
        )
    )
    recorded = cast(Message.flags, String)
    conditions: list[ColumnElement[bool]] = [col(Message.id).in_(reconciled)]
    if annotated:
        conditions.append(
            col(Message.id).in_(select(Annotation.message_id).where(Annotation.contact_id == contact.id))
        )
    found = latest(session, contact.id)  # type: ignore[arg-type]
    if found is None or found.basis_message_id is None:
        conditions.append(recorded != "[]")
    else:
        assessed = sorted(int(key) for key, flags in found.message_flags.items() if flags)
        if assessed:
            # Literal integers: however many, they never meet a driver's limit on parameters.
            conditions.append(
                col(Message.id).in_(bindparam("assessed_ids", assessed, expanding=True, literal_execute=True))
            )
        undecided = [recorded.contains(f'"{flag}"') for flag in FLAGS if flag not in ASSESSED_FLAGS]
        conditions.append(
            and_(recorded != "[]", or_(col(Message.id) > found.basis_message_id, *undecided))
        )
    return or_(*conditions)


def current_flags(session: Session, messages: Sequence[Message]) -> dict[int, list[str]]:
    """Each message's flags now: as recorded, the assessed ones as the contact's latest assessment gives
    them, and those imports' reconciliations found later; by message id."""
    later = later_flags(session, [m.id for m in messages if m.id is not None])
    assessed = assessed_message_flags(session, messages)
    return {
        m.id: flags_now(m.flags, assessed.get(m.id), later.get(m.id, ()))
        for m in messages
        if m.id is not None
    }


def later_flags(session: Session, message_ids: Sequence[int]) -> dict[int, list[str]]:
    """The flags imports' reconciliations found on the given (hand-typed) messages."""
    found: dict[int, list[str]] = {}
    if not message_ids:
        return found
    rows = session.exec(
        select(ExportReconciliation.message_id, ExportReconciliation.outcome)
        .where(
            col(ExportReconciliation.message_id).in_(message_ids),
            col(ExportReconciliation.outcome).in_((DIFFERS, MISSING)),
        )
        .order_by(col(ExportReconciliation.id))
    ).all()
    for message_id, outcome in rows:
        found.setdefault(message_id, []).append(outcome)
    return found


def _corrections_of(session: Session, message_ids: Sequence[int]) -> dict[int, list[int]]:
    """Which later messages correct the given ones."""
    found: dict[int, list[int]] = {}
    if not message_ids:
        return found
    rows = session.exec(
        select(Message.id, Message.corrects_id)
        .where(col(Message.corrects_id).in_(message_ids))
        .order_by(col(Message.id))
    ).all()
    for message_id, corrects_id in rows:
        if corrects_id is not None and message_id is not None:
            found.setdefault(corrects_id, []).append(message_id)
    return found


def contacts_of(
    session: Session, profile: Profile, *, after: int | None = None, limit: int = 50
) -> list[Contact]:
    """The profile's contacts by id (keyset on the (profile, id) index), ``limit + 1`` to detect more."""
    query = select(Contact).where(Contact.profile_id == profile.id)
    if after is not None:
        query = query.where(col(Contact.id) > after)
    return list(session.exec(query.order_by(col(Contact.id)).limit(limit + 1)).all())
