"""The flags a contact or message carries: evidence is never refused, only marked (spec "Flags", rule 3)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Row
from sqlmodel import Session, col, func, select

from ..models import FLAGS, AuthorizationKind, Message, Operation, OperationStatus, ProfileStatus
from ..operations.rules import (
    authorization_valid_at,
    chain_facts,
    named_officer_ids,
    platform_permitted,
    written_order_overdue,
)


class ProfileFacts(Protocol):
    """What the flags need of a profile (a Profile, or the facts read with a contact)."""

    operation_id: int
    authorization_id: int
    status: str
    platform: str


def ordered(flags: set[str]) -> list[str]:
    """The flags in the order the specification lists them."""
    return [flag for flag in FLAGS if flag in flags]


def _situation(
    session: Session,
    profile: ProfileFacts,
    moment: datetime,
    operation_rows: Sequence[Row[Any]] | None = None,
) -> tuple[set[str], Row[Any]]:
    """Flags that depend on the profile and the moment only, and the authorization the rest are judged by.

    ``operation_rows``: the operation's authorizations (as chain_facts takes them), if already read.
    """
    links = chain_facts(session, profile.authorization_id, operation_rows)
    if not links:
        raise LookupError(f"no authorization {profile.authorization_id}")
    flags, authorization = _judged(
        links, profile, moment, lambda governing: written_order_overdue(session, governing, moment)
    )
    if closed_now(session, profile):
        flags.add("operation_closed")
    return flags, authorization


def closed_now(session: Session, profile: ProfileFacts) -> bool:
    """Whether the profile's operation is closed: what is recorded now is recorded after its closing.

    Closing retires every profile, so only a retired profile's operation is read.
    """
    if profile.status != ProfileStatus.retired.value:
        return False
    status = session.exec(select(Operation.status).where(Operation.id == profile.operation_id)).first()
    return status == OperationStatus.closed.value


def _judged(
    links: Sequence[Any], profile: ProfileFacts, moment: datetime, overdue: Callable[[Any], bool]
) -> tuple[set[str], Any]:
    """The flags that depend on the chain of authorizations, the profile and the moment, and the
    authorization the rest are judged by; ``overdue(governing)``: whether an urgent oral order's written
    order was overdue at ``moment``."""
    flags: set[str] = set()
    governing = next((link for link in reversed(links) if authorization_valid_at(link, moment)), None)
    # An urgent oral order whose written order is overdue no longer covers what happens after the due day.
    if governing is None or overdue(governing):
        flags.add("outside_authorization")
    authorization = governing or links[-1]
    if profile.status != ProfileStatus.active.value:
        flags.add("profile_not_active")
    if not platform_permitted(authorization, profile.platform):
        flags.add("platform_not_permitted")
    return flags, authorization


def contact_flags(session: Session, profile: ProfileFacts, first_seen_at: datetime) -> list[str]:
    """The flags of a new contact, as of its first sighting and the profile's status now."""
    flags, _authorization = _situation(session, profile, first_seen_at)
    return ordered(flags)


def message_flags(
    session: Session,
    *,
    profile: ProfileFacts,
    contact_id: int,
    direction: str,
    sent_at: datetime,
    recorder_id: int,
    operation_rows: Sequence[Row[Any]] | None = None,
) -> list[str]:
    """The flags of a message about to be stored.

    ``decoy_initiated``: an outgoing message that no incoming message of the contact precedes (by the
    platform's time), where the authorization does not allow the decoy to start a contact.
    ``officer_not_named``: an outgoing message recorded by an officer the authorization does not name
    (``recorder_id``: in a capture session, the officer who operated the profile).
    """
    flags, authorization = _situation(session, profile, sent_at, operation_rows)
    if direction == "out":
        if not authorization.may_initiate_contact and not _incoming_before(session, contact_id, sent_at):
            flags.add("decoy_initiated")
        if recorder_id not in named_officer_ids(session, authorization.id):
            flags.add("officer_not_named")
    return ordered(flags)


def _incoming_before(session: Session, contact_id: int, moment: datetime) -> bool:
    found = session.exec(
        select(Message.id)
        .where(Message.contact_id == contact_id, Message.direction == "in", col(Message.sent_at) < moment)
        .limit(1)
    ).first()
    return found is not None


class StreamFlags:
    """The flags of many messages recorded into one contact in the order of their platform time (an
    import), judged as message_flags judges each, from facts read once.

    ``officer_id`` is the officer the outgoing messages are attributed to (the capture session's
    operator, or whoever records). The facts that message_flags reads for every message (the chain of
    authorizations, the officers each names, whether an urgent oral order's written order was attached,
    the contact's earliest incoming message) are read once here; an incoming message of the stream
    counts for the outgoing ones after it.
    """

    def __init__(
        self,
        session: Session,
        *,
        profile: ProfileFacts,
        contact_id: int,
        officer_id: int,
        operation_rows: Sequence[Row[Any]] | None = None,
    ) -> None:
        self.session = session
        self.profile = profile
        self.officer_id = officer_id
        self.links = chain_facts(session, profile.authorization_id, operation_rows)
        if not self.links:
            raise LookupError(f"no authorization {profile.authorization_id}")
        self._named: dict[int, bool] = {}
        self._overdue: dict[int, bool] = {}
        self.closed = closed_now(session, profile)
        self.earliest_incoming = session.exec(
            select(func.min(Message.sent_at)).where(
                Message.contact_id == contact_id, Message.direction == "in"
            )
        ).one()

    def flags(self, direction: str, sent_at: datetime) -> list[str]:
        """The flags of the next message; an incoming one is remembered for the outgoing ones after it."""
        # The authorizations' times are UTC: compared with the same instant in UTC, each comparison is a
        # plain one instead of asking the message's zone for its offset (an export's local time).
        moment = sent_at.astimezone(UTC)
        flags, authorization = _judged(
            self.links, self.profile, moment, lambda governing: self._overdue_at(governing, moment)
        )
        if direction == "in" and (self.earliest_incoming is None or sent_at < self.earliest_incoming):
            self.earliest_incoming = sent_at
        elif direction == "out":
            incoming_before = self.earliest_incoming is not None and self.earliest_incoming < sent_at
            if not authorization.may_initiate_contact and not incoming_before:
                flags.add("decoy_initiated")
            if not self._names_officer(authorization.id):
                flags.add("officer_not_named")
        if self.closed:
            flags.add("operation_closed")
        return ordered(flags)

    def _overdue_at(self, authorization: Any, moment: datetime) -> bool:
        due = authorization.written_order_due
        if authorization.kind != AuthorizationKind.urgent_oral_order.value or due is None or moment < due:
            return False
        if authorization.id not in self._overdue:
            self._overdue[authorization.id] = written_order_overdue(self.session, authorization, moment)
        return self._overdue[authorization.id]

    def _names_officer(self, authorization_id: int) -> bool:
        if authorization_id not in self._named:
            self._named[authorization_id] = self.officer_id in named_officer_ids(
                self.session, authorization_id
            )
        return self._named[authorization_id]
