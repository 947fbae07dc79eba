"""Search of counterparts and message text across the operations a user may see; bounded and escaped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlmodel import Session, col, select

from .. import access
from ..access import Actor
from ..errors import InvalidInput
from ..models import Contact, Message, Operation, Profile

MIN_QUERY = 2
MAX_QUERY = 200
MAX_RESULTS = 50
SNIPPET = 160
_ESCAPE = "!"


@dataclass(frozen=True)
class Place:
    """Where a result belongs: its contact, the decoy profile the contact wrote to, and the operation."""

    contact: Contact
    profile: Profile
    operation: Operation


@dataclass
class Results:
    """Matching contacts and messages, newest first, each list cut at ``limit``; ``places`` holds the
    contact, profile and operation of every result by contact id."""

    query: str
    contacts: list[Contact]
    messages: list[tuple[Message, str]]
    truncated: bool
    places: dict[int, Place] = field(default_factory=dict)
    #: The most contacts, and the most messages, shown.
    limit: int = MAX_RESULTS

    @property
    def count(self) -> int:
        """How many results are shown."""
        return len(self.contacts) + len(self.messages)


def like_pattern(query: str) -> str:
    """A LIKE pattern that matches ``query`` literally anywhere (its wildcards escaped)."""
    escaped = query.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    return f"%{escaped}%"


def checked_query(query: object) -> str:
    """The search text, or InvalidInput naming ``q`` (its message is shown at the search box)."""
    if not isinstance(query, str) or not MIN_QUERY <= len(query.strip()) <= MAX_QUERY:
        raise InvalidInput(
            _("Enter %(least)d to %(most)d characters to search for.", least=MIN_QUERY, most=MAX_QUERY),
            field="q",
        )
    if "\x00" in query:
        raise InvalidInput(_("The search text must not contain the character U+0000."), field="q")
    return query.strip()


def snippet(body: str, query: str) -> str:
    """Up to ``SNIPPET`` characters of ``body`` around the first match."""
    where = body.casefold().find(query.casefold())
    start = max(0, where - SNIPPET // 3) if where >= 0 else 0
    text = body[start : start + SNIPPET]
    return ("…" if start else "") + text + ("…" if start + SNIPPET < len(body) else "")


def matching(session: Session, actor: Actor, query: str, *, limit: int = MAX_RESULTS) -> Results:
    """Contacts whose counterpart, and messages whose text, contain ``query`` (case-insensitive).

    Only the finding: the search is a read of evidence, recorded by reading.search_evidence.
    """
    query = checked_query(query)
    pattern = like_pattern(query)
    contacts = list(
        session.exec(
            select(Contact)
            .where(
                access.operation_clause(actor, Contact.operation_id),
                col(Contact.counterpart).ilike(pattern, escape=_ESCAPE),
            )
            .order_by(col(Contact.id).desc())
            .limit(limit + 1)
        ).all()
    )
    messages = list(
        session.exec(
            select(Message)
            .where(
                access.operation_clause(actor, Message.operation_id),
                col(Message.body).ilike(pattern, escape=_ESCAPE),
            )
            .order_by(col(Message.id).desc())
            .limit(limit + 1)
        ).all()
    )
    truncated = len(contacts) > limit or len(messages) > limit
    contacts, messages = contacts[:limit], messages[:limit]
    return Results(
        query=query,
        contacts=contacts,
        messages=[(m, snippet(m.body, query)) for m in messages],
        truncated=truncated,
        places=places(session, contacts, (m.contact_id for m in messages)),
        limit=limit,
    )


def places(session: Session, contacts: list[Contact], more: Iterable[int]) -> dict[int, Place]:
    """The place of each of ``contacts`` and of the contacts ``more`` names, in three queries."""
    known = {contact.id or 0: contact for contact in contacts}
    missing = set(more) - set(known)
    if missing:
        found = session.exec(select(Contact).where(col(Contact.id).in_(missing)))
        known.update((contact.id or 0, contact) for contact in found)
    if not known:
        return {}
    profile_ids = {contact.profile_id for contact in known.values()}
    operation_ids = {contact.operation_id for contact in known.values()}
    profiles = {p.id: p for p in session.exec(select(Profile).where(col(Profile.id).in_(profile_ids)))}
    operations = {
        o.id: o for o in session.exec(select(Operation).where(col(Operation.id).in_(operation_ids)))
    }
    return {
        contact_id: Place(contact, profiles[contact.profile_id], operations[contact.operation_id])
        for contact_id, contact in known.items()
    }
