"""Verbalisant codes: the name an officer acts under outside Decoy (rule 9).

Every officer (detective, supervisor, legal officer) has a code, set by an admin. Audit entries of an
operation carry the code as ``actor``, and exports, reports and notifications show codes only; the mapping
from account to code stays inside Decoy, in ``verbalisant_assignment`` (who had which code from when), so
that a court can be told under seal. A code belongs to one account for ever, and an officer without one
cannot act on an operation.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from flask_babel import gettext as _
from sqlmodel import Session, col, func, select

from audit.entry import canonical_json, format_time

from .. import audit_bridge, clock
from ..errors import InvalidInput, NotFound, RuleViolation
from ..evidence.fingerprint import columns
from ..models import User, UserRole, VerbalisantAssignment

#: An officer's code: letters and digits in up to three groups joined by hyphens, e.g. ``AVIM-0412``.
CODE_PATTERN = re.compile(r"^[A-Z0-9]{2,12}(?:-[A-Z0-9]{1,12}){0,2}$")
#: The roles whose holders act on operations and so need a code.
OFFICER_ROLES = ("detective", "supervisor", "legal")


class Acting(Protocol):
    """What naming an actor needs of a principal."""

    id: Any
    username: str
    verbalisant_code: str | None

    def has_role(self, *roles: str) -> bool:
        """Whether the principal holds any of ``roles``."""
        ...


class CodeRequired(RuleViolation):
    """An officer without a verbalisant code tried to act on an operation."""

    code = "verbalisant_code_required"


def normalise(code: str) -> str:
    """The code in its stored form (upper case, no surrounding space); InvalidInput naming ``code``."""
    value = (code or "").strip().upper()
    if not CODE_PATTERN.match(value):
        raise InvalidInput(
            _("code: letters and digits in up to three groups joined by '-', e.g. AVIM-0412"),
            field="code",
        )
    return value


def officer_name(actor: Acting) -> str:
    """The name an officer's act on an operation is recorded under: their code (CodeRequired without one).

    The system's own acts keep their name (``system``); an account holding none of the officer roles
    (an admin) keeps its username, since it never acts on evidence.
    """
    code = getattr(actor, "verbalisant_code", None)
    if code:
        return str(code)
    if actor.has_role(*OFFICER_ROLES):
        raise CodeRequired(
            _("your account has no verbalisant code yet: an administrator sets it before you act on "
              "an operation"),
            field="verbalisant_code",
        )
    return actor.username


def name_of(actor: Acting) -> str:
    """The name an act outside any operation (reading the log, verifying it) is recorded under: the
    code when the account has one, else the username."""
    return getattr(actor, "verbalisant_code", None) or actor.username


def account_name(user: User) -> str:
    """The name an account-level entry (sign-in, password, tokens) is recorded under: the code when the
    account has one, else the username."""
    return user.verbalisant_code or user.username


def assign(session: Session, *, actor: str, assigned_by: int | None, user: User, code: str) -> bool:
    """Give ``user`` the code (recorded, with an audit entry); False when it is already theirs.

    A code that belongs or belonged to another account, or that is someone's username, is refused.
    """
    value = normalise(code)
    if user.verbalisant_code == value:
        return False
    owner = session.exec(
        select(VerbalisantAssignment.user_id).where(VerbalisantAssignment.code == value).limit(1)
    ).first()
    if owner is not None and owner != user.id:
        raise RuleViolation(_("code: %(code)s belongs to another officer", code=value), field="code")
    taken = session.exec(select(User.id).where(func.upper(User.username) == value).limit(1)).first()
    if taken is not None:
        raise InvalidInput(_("code: a verbalisant code may not be a username"), field="code")
    previous = user.verbalisant_code
    user.verbalisant_code = value
    session.add(user)
    row = VerbalisantAssignment(
        user_id=user.id or 0, code=value, assigned_by=assigned_by, assigned_at=clock.now()
    )
    session.add(row)
    session.flush()
    audit_bridge.record(
        session, actor=actor, action="account.verbalisant_code", object_type="verbalisant_assignment",
        object_id=row.id, evidence={"row_sha256": assignment_fingerprint(columns(row))},
        details={"user": user.id, "code": value, "previous": previous},
    )
    return True


def assignment_fingerprint(row: Mapping[str, Any]) -> str:
    """The fingerprint of a code assignment row: whose code, which, set by whom and when."""
    return hashlib.sha256(
        canonical_json(
            {
                "id": row["id"],
                "user_id": row["user_id"],
                "code": row["code"],
                "assigned_by": row["assigned_by"],
                "assigned_at": format_time(row["assigned_at"]),
            }
        )
    ).hexdigest()


def check_code_assignment(session: Session, entry: dict[str, Any]) -> str | None:
    """The code assignment is the row its entry recorded, for the account the entry names (`decoy audit
    verify`): a code swapped between officers behind the triggers' back is named here."""
    details = entry.get("details") or {}
    assignment_id = (entry.get("object") or {}).get("id")
    table = VerbalisantAssignment.__table__  # type: ignore[attr-defined]
    row = None
    if type(assignment_id) is int:
        found = session.connection().execute(select(table).where(table.c.id == assignment_id))
        row = found.mappings().first()
    where = f"verbalisant code assignment {assignment_id}"
    if row is None:
        return f"{where} is missing"
    if (row["user_id"], row["code"]) != (details.get("user"), details.get("code")):
        return f"{where}: gives {row['code']!r} to account {row['user_id']}, its entry recorded otherwise"
    if assignment_fingerprint(row) != (entry.get("evidence") or {}).get("row_sha256"):
        return f"{where}: the stored row differs from the recorded one"
    return None


def set_code(session: Session, *, actor: Acting, username: str, code: str) -> User:
    """An admin gives the account ``username`` its code (NotFound when there is no such account; an
    account that holds no officer role needs none and gets none)."""
    user = session.exec(select(User).where(User.username == (username or "").strip().lower())).first()
    if user is None:
        raise NotFound(_("no account named %(username)s", username=username))
    if not is_officer(session, user.id or 0):
        raise RuleViolation(
            _("%(username)s holds no officer role and acts on no operation: it needs no verbalisant code",
              username=user.username),
            field="code",
        )
    assign(session, actor=name_of(actor), assigned_by=actor.id, user=user, code=code)
    return user


def is_officer(session: Session, user_id: int) -> bool:
    """Whether the account holds an officer role."""
    return session.exec(
        select(UserRole.user_id).where(UserRole.user_id == user_id, col(UserRole.role).in_(OFFICER_ROLES))
    ).first() is not None


@dataclass(frozen=True)
class Assignment:
    """One row of the mapping, as legal officers and admins see it."""

    username: str
    display_name: str
    code: str
    assigned_at: datetime
    assigned_by: str | None


def mapping(session: Session) -> list[Assignment]:
    """Who had which code from when, newest first (inside Decoy only)."""
    users = {u.id: u for u in session.exec(select(User)).all()}
    rows = session.exec(select(VerbalisantAssignment).order_by(col(VerbalisantAssignment.id).desc())).all()
    return [
        Assignment(
            username=users[r.user_id].username,
            display_name=users[r.user_id].display_name,
            code=r.code,
            assigned_at=r.assigned_at,
            assigned_by=None if r.assigned_by is None else users[r.assigned_by].username,
        )
        for r in rows
    ]


class Officers:
    """Resolves an account id to the name an export shows: the code the officer had at a moment.

    Read once per export. An account that had no code at that moment (a record made before codes were
    introduced) is shown as its audit entry names it, the username, so that the bundle still verifies;
    docs/export.md says so.
    """

    def __init__(self, session: Session) -> None:
        self._usernames = {user.id: user.username for user in session.exec(select(User)).all()}
        self._codes: dict[int, tuple[list[datetime], list[str]]] = {}
        for row in session.exec(
            select(VerbalisantAssignment).order_by(
                col(VerbalisantAssignment.assigned_at), col(VerbalisantAssignment.id)
            )
        ).all():
            times, codes = self._codes.setdefault(row.user_id, ([], []))
            times.append(row.assigned_at)
            codes.append(row.code)

    def __call__(self, user_id: int | None, at: datetime | None = None) -> str | None:
        if user_id is None:
            return None
        found = self._codes.get(user_id)
        if found is not None:
            times, codes = found
            if at is None:
                return codes[-1]
            index = bisect.bisect_right(times, at)
            if index > 0:
                return codes[index - 1]
        return self._usernames.get(user_id, f"#{user_id}")

    def all_codes(self) -> Iterable[str]:
        """Every code any officer ever had."""
        return (code for _times, codes in self._codes.values() for code in codes)

    def usernames(self) -> Iterable[str]:
        """Every account's username (what a disclosure must never show)."""
        return self._usernames.values()
