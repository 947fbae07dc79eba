"""The end report for the public prosecutor, made when an operation is closed: a PDF, in English, of the
operation and its period, the closing, its authorizations (with withdrawals), profiles and their history,
contacts with their flags, reviews and leads.

Officers appear by verbalisant code only (rule 9); everything stored is shown through the PDF primitives
of decoy.export.pdf, which neutralise hostile text. The report is deterministic: the same database and
arguments give the same bytes (reportlab's invariant mode, rows in id order, the generation time an
argument that defaults to the closing time), so that building it again checks the SHA-256 recorded with
the closing.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer
from sqlmodel import Session, col, select

from ..export.pdf import LazyStory, para, pieces, styles, text
from ..export.proces_verbaal import officer_names
from ..imports.records import later_flags_of_contact
from ..initiative.assessment import contact_flags_now
from ..initiative.records import current_flags_of_contact
from ..models import (
    FLAGS,
    Authorization,
    AuthorizationWithdrawal,
    Contact,
    Lead,
    Message,
    Operation,
    Profile,
    ProfileTransition,
    Review,
    ReviewDecision,
    User,
)
from . import end_report_sections as sections
from .end_report_sections import ContactSummary, Names, at

__all__ = ["build_end_report"]

#: What an officer without any verbalisant code is shown as: never their username (rule 9).
NO_CODE = "officer without a code"


def build_end_report(
    session: Session,
    operation_id: int,
    *,
    closed_at: datetime,
    closed_by: str,
    reason: str,
    generated_at: datetime | None = None,
) -> bytes:
    """The end report of the operation closed at ``closed_at`` by the officer with the verbalisant code
    ``closed_by`` for ``reason``, as PDF bytes.

    :param generated_at: the moment the footer names as the report's making; the closing time when not
        given, so that a report built again from the same database has the same bytes.
    """
    if closed_at.tzinfo is None or (generated_at is not None and generated_at.tzinfo is None):
        raise ValueError("closed_at and generated_at must be aware datetimes")
    operation = session.get(Operation, operation_id)
    if operation is None:
        raise LookupError(f"no operation {operation_id}")
    zone = ZoneInfo(operation.timezone)
    names = officer_names(session, NO_CODE)
    authorizations = list(session.exec(
        select(Authorization)
        .where(Authorization.operation_id == operation_id)
        .order_by(col(Authorization.id))
    ).all())
    withdrawals = {
        w.authorization_id: w for w in session.exec(
            select(AuthorizationWithdrawal)
            .where(AuthorizationWithdrawal.operation_id == operation_id)
            .order_by(col(AuthorizationWithdrawal.id))
        ).all()
    }
    profiles = list(session.exec(
        select(Profile).where(Profile.operation_id == operation_id).order_by(col(Profile.id))
    ).all())
    history: dict[int, list[ProfileTransition]] = {}
    for change in session.exec(
        select(ProfileTransition)
        .where(col(ProfileTransition.profile_id).in_([p.id for p in profiles]))
        .order_by(col(ProfileTransition.id))
    ).all():
        history.setdefault(change.profile_id, []).append(change)
    reviews = list(session.exec(
        select(Review).where(Review.operation_id == operation_id).order_by(col(Review.due_at), col(Review.id))
    ).all())
    decisions = {
        d.review_id: d for d in session.exec(
            select(ReviewDecision).where(col(ReviewDecision.review_id).in_([r.id for r in reviews]))
        ).all()
    }
    leads = session.exec(select(Lead).where(Lead.operation_id == operation_id).order_by(col(Lead.id))).all()
    start = min((a.valid_from for a in authorizations), default=operation.created_at)
    generated = generated_at or closed_at
    references = {a.id or 0: a.reference for a in authorizations}
    superseded = {a.supersedes_id for a in authorizations if a.supersedes_id is not None}
    contacts = _contacts(session, operation_id)
    actor = _actors(session, names)
    styles()

    def story() -> Iterable[Any]:
        return chain(
            [
                para("End report", "h1"),
                para(
                    "Report to the public prosecutor on the closing of a decoy-profile operation. "
                    "Officers are named by their verbalisant code. "
                    f"All times in {text(operation.timezone)}.", "small"),
                Spacer(0, 3 * mm),
                sections.facts([
                    ("Operation", [f"{text(operation.name)} (id {operation.id})"]),
                    ("Team", [text(operation.team or "—")]),
                    ("Time zone", [text(operation.timezone)]),
                    ("Period", [f"{at(start, zone)} until {at(closed_at, zone)}"]),
                    ("Closed at", [at(closed_at, zone)]),
                    ("Closed by", [text(actor(closed_by, closed_at))]),
                    ("Reason", pieces(reason)),
                ]),
            ],
            sections.authorizations_section(authorizations, withdrawals, names, zone),
            sections.profiles_section(profiles, references, history, actor, zone),
            sections.contacts_section(contacts, {p.id or 0: p for p in profiles}, zone),
            sections.reviews_section(reviews, decisions, references, superseded, closed_at, names, zone),
            sections.leads_section(leads, names, zone),
        )

    return _document(story, f"Decoy end report, operation {operation.id}", at(generated, zone))


def _actors(session: Session, names: Names) -> Callable[[str, datetime], str]:
    """A recorded actor as the report shows it: a code or ``system`` as recorded; should it be a username (a
    transition recorded before codes existed), the code that officer had then instead (rule 9)."""
    accounts = {username: user_id for user_id, username in session.exec(select(User.id, User.username)).all()}

    def actor(recorded: str, moment: datetime) -> str:
        user_id = accounts.get(recorded)
        return recorded if user_id is None else names(user_id, moment)

    return actor


def _contacts(session: Session, operation_id: int) -> list[ContactSummary]:
    """Each contact of the operation with its messages counted and its flags now (those recorded, found
    later by an import, or given by the latest assessment), as the evidence bundle reads them."""
    contacts = list(session.exec(
        select(Contact).where(Contact.operation_id == operation_id).order_by(col(Contact.id))
    ).all())
    contact_flags = contact_flags_now(session, contacts)
    summaries = []
    for contact in contacts:
        later = later_flags_of_contact(session, contact.id or 0)
        flags_now = current_flags_of_contact(session, contact.id or 0)
        directions = {"in": 0, "out": 0, "system": 0}
        found: set[str] = set()
        flagged = 0
        # Only the columns the counts and flags need (a row has the ``id`` and ``flags`` flags_now reads).
        messages: Sequence[Any] = session.exec(
            select(Message.id, Message.direction, Message.flags)
            .where(Message.contact_id == contact.id)
            .order_by(col(Message.id))
        ).all()
        for message in messages:
            if message.direction in directions:
                directions[message.direction] += 1
            flags = flags_now(message, later.get(message.id or 0, ()))
            flagged += bool(flags)
            found.update(flags)
        summaries.append(ContactSummary(
            id=contact.id or 0, profile_id=contact.profile_id, counterpart=contact.counterpart,
            first_seen_at=contact.first_seen_at, incoming=directions["in"], outgoing=directions["out"],
            notices=directions["system"], flags=contact_flags.get(contact.id or 0, []),
            message_flags=sorted(found, key=_flag_order),
            flagged_messages=flagged,
        ))
    return summaries


def _flag_order(flag: str) -> tuple[int, str]:
    """Flags in the order the specification lists them, any other after them by name."""
    return (FLAGS.index(flag) if flag in FLAGS else len(FLAGS), flag)


def _document(story: Callable[[], Iterable[Any]], title: str, generated: str) -> bytes:
    """The PDF of ``story`` with the page layout of decoy.export.pdf.document and a footer that also says
    of how many pages and when the report was generated; the first of two passes counts the pages."""
    pages = 0
    buffer = io.BytesIO()
    for _pass in range(2):
        buffer = io.BytesIO()
        document = SimpleDocTemplate(
            buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
            bottomMargin=15 * mm, title=title, author="Decoy", invariant=True,
        )

        def footer(canvas: Any, doc: Any, total: int = pages) -> None:
            canvas.saveState()
            canvas.setFont("DecoySans", 7.5)
            canvas.drawString(15 * mm, 8 * mm, f"{title} — page {doc.page} of {total}")
            canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, f"generated {generated}")
            canvas.restoreState()

        document.build(LazyStory(story()), onFirstPage=footer, onLaterPages=footer)
        pages = document.page
    return buffer.getvalue()

