"""Managing accounts (the admin's work): resetting a second factor, deactivating and reactivating, the list.

An admin never reads evidence and never learns a password in use: a reset hands over a one-time code with
which the person, using their own password, enrols again and chooses a new one. An admin's own second
factor is reset by another admin while there is one (four eyes): resetting one's own would hand whoever
holds the admin's open session a reset code for the account. Only the sole active admin resets their own,
warned that their session ends.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlmodel import Session, col, delete, func, select

from .. import audit_bridge
from ..auth import sessions, totp
from ..auth import tokens as token_service
from ..auth.services import password_hasher
from ..errors import Forbidden, NotFound
from ..integrity import keys
from ..models import RecoveryCode, Role, User, UserRole


@dataclass(frozen=True)
class SecondFactorReset:
    """A reset account and its one-time reset code (shown once, to be handed to the person)."""

    user: User
    reset_code: str


def get_user(session: Session, user_id: int) -> User:
    """The account with this id (NotFound otherwise)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("no such account"))
    return user


def other_active_admins(session: Session, user_id: int) -> int:
    """How many active administrators there are besides the account ``user_id``."""
    return int(session.exec(
        select(func.count()).select_from(User).join(UserRole, col(UserRole.user_id) == col(User.id)).where(
            UserRole.role == Role.admin.value, col(User.is_active), col(User.id) != user_id
        )
    ).one())


def own_reset_refused(session: Session, actor: str, user: User) -> bool:
    """Whether ``actor`` may not reset ``user``'s second factor: it is their own, and another active
    administrator can reset it."""
    return user.username == actor and other_active_admins(session, user.id or 0) > 0


def reset_second_factor(*, session: Session, actor: str, user_id: int) -> SecondFactorReset:
    """Replace the account's TOTP secret and end its sessions; the person enrols again at the next sign-in
    with their own password and the one-time reset code returned here (shown once, never stored in clear),
    and chooses a new password. An admin's own is refused while another active admin can reset it."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("no such account"))
    if own_reset_refused(session, actor, user):
        raise Forbidden(_("Another administrator resets your own second factor: ask them. Nobody resets "
                          "their own while another administrator can."))
    raw = secrets.token_hex(8)
    reset_code = "-".join(raw[index:index + 4] for index in range(0, 16, 4))
    user.totp_secret = totp.encrypt_secret(totp.new_secret(), keys.secrets_key(), user.username)
    user.totp_confirmed = False
    user.totp_last_step = 0
    user.must_set_password = True
    user.reset_code_hash = password_hasher().hash(raw)
    session.add(user)
    session.exec(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit_bridge.record(
        session, actor=actor, action="second_factor.reset", object_type="user", object_id=user.id
    )
    sessions.end_all(session=session, actor=actor, user_id=user.id or 0, reason="second_factor_reset")
    return SecondFactorReset(user=user, reset_code=reset_code)


def set_active(*, session: Session, actor: str, user_id: int, active: bool) -> User:
    """Deactivate or reactivate an account; deactivation ends its sessions and revokes its tokens for good
    (reactivation brings neither back)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("no such account"))
    if user.username == actor and not active:
        raise Forbidden(_("you cannot deactivate your own account"))
    user.is_active = active
    session.add(user)
    audit_bridge.record(
        session, actor=actor, action="account.activate" if active else "account.deactivate",
        object_type="user", object_id=user.id,
    )
    if not active:
        sessions.end_all(session=session, actor=actor, user_id=user.id or 0, reason="deactivated")
        token_service.revoke_all(session=session, actor=actor, user_id=user.id or 0, reason="deactivated")
    return user


def roles_of(session: Session, user: User) -> set[str]:
    """The roles of one account."""
    return set(session.exec(select(UserRole.role).where(UserRole.user_id == user.id)).all())


def all_users(session: Session) -> list[tuple[User, set[str]]]:
    """Every account with its roles, by username."""
    users = session.exec(select(User).order_by(User.username)).all()
    roles: dict[int, set[str]] = {}
    for user_id, role in session.exec(select(UserRole.user_id, UserRole.role)).all():
        roles.setdefault(user_id, set()).add(role)
    return [(user, roles.get(user.id or 0, set())) for user in users]
