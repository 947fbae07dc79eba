"""Starting, ending and reading capture sessions; each start and end is an audit entry with its row hash.

A capture session is a period in which one officer (``operated_by``, the officer at the keyboard, who
may differ from whoever records the messages) operates one profile, on a police device or virtual
machine (``device``) with a tool (``tool``: ``manual``, an import format, or an API client's name). It
starts on an active profile only, by a detective or supervisor assigned to the operation, who is its
operator. It ends once, by its operator or a supervisor of the operation, with the officer's
completeness statement (every message of the session is recorded, or which gaps they know of). Both
rows are append-only; messages recorded in a session name it (decoy.evidence.recording).

Reading a session is not an audit entry: like a profile or an authorization it is an operational record
around the evidence, not the evidence itself (rule 5 records reads of contacts, messages, files, searches).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import exists
from sqlmodel import Session, col, select

from .. import access, audit_bridge, clock
from ..access import Actor
from ..disclosure import codes
from ..errors import Forbidden, NotFound, RuleViolation
from ..evidence.fingerprint import (
    capture_session_end_fingerprint,
    capture_session_fingerprint,
    columns,
)
from ..evidence.validation import checked_text, records, require_logger
from ..models import MAX_ID, CaptureSession, CaptureSessionEnd, Profile, ProfileStatus, Role, User
from ..operations import labels
from ..operations.guards import clean

MAX_DEVICE = 200
MAX_TOOL = 100
#: Longest completeness statement or list of known gaps.
MAX_STATEMENT = 20_000

__all__ = [
    "MAX_DEVICE",
    "MAX_STATEMENT",
    "MAX_TOOL",
    "Listing",
    "SessionRecord",
    "end_session",
    "may_end",
    "read_recent_sessions",
    "read_session",
    "read_sessions",
    "require_ender",
    "require_operator",
    "sessions_of_profile",
    "start_session",
    "usernames_of",
]


@dataclass(frozen=True)
class SessionRecord:
    """A capture session with its end (None while it is open)."""

    session: CaptureSession
    end: CaptureSessionEnd | None

    @property
    def open(self) -> bool:
        """Whether the session has not ended."""
        return self.end is None


@dataclass(frozen=True)
class Listing:
    """A page of a profile's capture sessions by id, the usernames they name, and whether more follow."""

    profile: Profile
    records: list[SessionRecord]
    more: bool
    usernames: dict[int, str]


def _not_found() -> NotFound:
    return NotFound(_("no such capture session"))


def _visible_profile(session: Session, actor: Actor, profile_id: int) -> Profile:
    profile = session.get(Profile, profile_id) if 0 < profile_id <= MAX_ID else None
    return access.require_visible(session, actor, profile, "profile")  # type: ignore[no-any-return]


def _visible_session(
    session: Session, actor: Actor, capture_session_id: int, *, lock: bool = False
) -> CaptureSession:
    """The capture session, or NotFound when it does not exist or its operation is hidden from ``actor``.

    ``lock``: hold the row until the transaction ends (PostgreSQL ``FOR UPDATE``), so that two ends of
    one session, or an end and a message recorded in it, follow each other.
    """
    found = None
    if 0 < capture_session_id <= MAX_ID:
        query = select(CaptureSession).where(CaptureSession.id == capture_session_id)
        found = session.exec(query.with_for_update() if lock else query).first()
    visible = access.can_see(session, actor, found.operation_id if found is not None else access.NO_OPERATION)
    if found is None or not visible:
        raise _not_found()
    return found


def _end_of(session: Session, capture_session_id: int) -> CaptureSessionEnd | None:
    return session.get(CaptureSessionEnd, capture_session_id)


def _usernames(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = session.exec(select(User.id, User.username).where(col(User.id).in_(user_ids))).all()
    return {int(user_id): name for user_id, name in rows if user_id is not None}


def usernames_of(session: Session, found: Sequence[SessionRecord]) -> dict[int, str]:
    """The usernames of the operators and of who ended the sessions, by account id."""
    ids = {r.session.operated_by for r in found} | {r.end.ended_by for r in found if r.end is not None}
    return _usernames(session, ids)


def require_operator(*, session: Session, actor: Actor, profile_id: int) -> Profile:
    """The profile, if ``actor`` may start a capture session on it: NotFound for a profile they may not
    see, Forbidden for one they may only read (only detectives and supervisors assigned record)."""
    profile = _visible_profile(session, actor, profile_id)
    require_logger(session, actor, profile.operation_id)
    return profile


def start_session(
    *, session: Session, actor: Actor, profile_id: int, device: str, tool: str
) -> CaptureSession:
    """Start a capture session on an active profile, operated by ``actor``; records
    ``capture_session.start`` with the row's hash. The caller commits."""
    profile = require_operator(session=session, actor=actor, profile_id=profile_id)
    device = checked_text(
        clean(device, "device", max_length=MAX_DEVICE, required=True, single_line=True),
        "device",
        max_chars=MAX_DEVICE,
    )
    tool = checked_text(
        clean(tool, "tool", max_length=MAX_TOOL, required=True, single_line=True), "tool", max_chars=MAX_TOOL
    )
    if profile.status != ProfileStatus.active.value:
        raise RuleViolation(
            _(
                "a capture session starts only on an active profile; this profile is %(status)s",
                status=labels.profile_status(profile.status),
            )
        )
    row = CaptureSession(
        operation_id=profile.operation_id,
        profile_id=profile.id,  # type: ignore[arg-type]
        operated_by=actor.id,
        device=device,
        tool=tool,
        started_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="capture_session.start",
        object_type="capture_session",
        object_id=row.id,
        operation_id=row.operation_id,
        evidence={"row_sha256": capture_session_fingerprint(columns(row))},
        details={"profile": row.profile_id, "device": device, "tool": tool},
    )
    return row


def may_end(session: Session, actor: Actor, row: CaptureSession) -> bool:
    """Whether ``actor`` may end the session: its operator, or a supervisor, assigned to the operation."""
    if not (records(actor) and access.is_member(session, actor, row.operation_id)):
        return False
    return bool(actor.id == row.operated_by or actor.has_role(Role.supervisor.value))


def require_ender(
    *, session: Session, actor: Actor, capture_session_id: int, lock: bool = False
) -> CaptureSession:
    """The session, if ``actor`` may end it: NotFound when they may not see it, else Forbidden unless
    they operate it or supervise its operation."""
    row = _visible_session(session, actor, capture_session_id, lock=lock)
    if not may_end(session, actor, row):
        raise Forbidden(
            _("only the officer who operates a capture session, or a supervisor of the operation, ends it")
        )
    return row


def end_session(
    *,
    session: Session,
    actor: Actor,
    capture_session_id: int,
    completeness_statement: str,
    known_gaps: str | None = None,
) -> SessionRecord:
    """End a capture session once, with the completeness statement and the gaps known (RuleViolation when
    it has ended already); records ``capture_session.end`` with the end's row hash. The caller commits."""
    row = require_ender(session=session, actor=actor, capture_session_id=capture_session_id, lock=True)
    statement = checked_text(
        clean(completeness_statement, "completeness_statement", max_length=MAX_STATEMENT, required=True),
        "completeness_statement",
        max_chars=MAX_STATEMENT,
    )
    gaps = checked_text(
        clean(known_gaps or "", "known_gaps", max_length=MAX_STATEMENT), "known_gaps", max_chars=MAX_STATEMENT
    )
    if _end_of(session, capture_session_id) is not None:
        raise RuleViolation(_("capture session %(id)s has ended already", id=capture_session_id))
    end = CaptureSessionEnd(
        capture_session_id=capture_session_id,
        ended_by=actor.id,
        ended_at=clock.now(),
        completeness_statement=statement,
        known_gaps=gaps,
    )
    session.add(end)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="capture_session.end",
        object_type="capture_session",
        object_id=row.id,
        operation_id=row.operation_id,
        evidence={"row_sha256": capture_session_end_fingerprint(columns(end))},
        details={"profile": row.profile_id, "known_gaps": bool(gaps)},
    )
    return SessionRecord(row, end)


def sessions_of_profile(
    session: Session, profile: Profile, *, after: int | None = None, limit: int = 50
) -> tuple[list[SessionRecord], bool]:
    """The profile's sessions by id after ``after`` (keyset on the (profile, id) index), with their ends,
    and whether more follow; no access check (the callers have made it)."""
    query = select(CaptureSession).where(CaptureSession.profile_id == profile.id)
    if after is not None:
        query = query.where(col(CaptureSession.id) > after)
    rows = list(session.exec(query.order_by(col(CaptureSession.id)).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    ends: dict[int, CaptureSessionEnd] = {}
    if rows:
        ids = [row.id for row in rows]
        found = session.exec(
            select(CaptureSessionEnd).where(col(CaptureSessionEnd.capture_session_id).in_(ids))
        )
        ends = {end.capture_session_id: end for end in found.all()}
    return [SessionRecord(row, ends.get(row.id or 0)) for row in rows], more


def read_sessions(
    *, session: Session, actor: Actor, profile_id: int, after: int | None = None, limit: int = 50
) -> Listing:
    """A page of the profile's capture sessions (NotFound for a profile ``actor`` may not see)."""
    if not access.sees_evidence(actor):
        raise NotFound(_("not found"))
    profile = _visible_profile(session, actor, profile_id)
    found, more = sessions_of_profile(session, profile, after=after, limit=limit)
    return Listing(profile, found, more, usernames_of(session, found))


def read_recent_sessions(*, session: Session, actor: Actor, profile_id: int, limit: int = 50) -> Listing:
    """For the pages: the profile's open sessions and its ``limit`` newest, newest first; ``more`` when
    older ended sessions are left out."""
    if not access.sees_evidence(actor):
        raise NotFound(_("not found"))
    profile = _visible_profile(session, actor, profile_id)
    newest = select(CaptureSession).where(CaptureSession.profile_id == profile.id)
    rows = list(session.exec(newest.order_by(col(CaptureSession.id).desc()).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    still_open = ~exists().where(col(CaptureSessionEnd.capture_session_id) == CaptureSession.id)
    older_open = newest.where(still_open)
    if rows:
        older_open = older_open.where(col(CaptureSession.id) < rows[-1].id)
    rows += list(session.exec(older_open.order_by(col(CaptureSession.id).desc())).all())
    ends: dict[int, CaptureSessionEnd] = {}
    if rows:
        query = select(CaptureSessionEnd).where(
            col(CaptureSessionEnd.capture_session_id).in_([r.id for r in rows])
        )
        ends = {end.capture_session_id: end for end in session.exec(query).all()}
    found = [SessionRecord(row, ends.get(row.id or 0)) for row in rows]
    return Listing(profile, found, more, usernames_of(session, found))


def read_session(
    *, session: Session, actor: Actor, capture_session_id: int
) -> tuple[SessionRecord, dict[int, str]]:
    """One capture session with its end and the usernames it names (NotFound when hidden)."""
    if not access.sees_evidence(actor):
        raise NotFound(_("not found"))
    row = _visible_session(session, actor, capture_session_id)
    found = SessionRecord(row, _end_of(session, capture_session_id))
    return found, usernames_of(session, [found])
