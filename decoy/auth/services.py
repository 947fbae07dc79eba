"""Account services: creation, two-factor login, lockout and recovery codes (tokens: auth.tokens)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlmodel import Session, col, delete, func, select

from .. import audit_bridge, clock
from ..errors import Forbidden, InvalidInput, NotFound
from ..integrity import keys
from ..models import LoginAttempt, RecoveryCode, Role, User, UserRole
from . import totp

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
RECOVERY_CODE_COUNT = 10
MIN_PASSWORD_LENGTH = 12


def password_hasher() -> PasswordHasher:
    """The argon2id hasher with the configured cost."""
    config = current_app.config
    return PasswordHasher(time_cost=config["ARGON2_TIME_COST"], memory_cost=config["ARGON2_MEMORY_COST"])


def _dummy_hash() -> str:
    cached = current_app.extensions.get("decoy.dummy_hash")
    if cached is None:
        cached = password_hasher().hash(secrets.token_hex(16))
        current_app.extensions["decoy.dummy_hash"] = cached
    return cached  # type: ignore[no-any-return]


def validate_roles(roles: list[str]) -> list[str]:
    """Check the role names and the rule that admin excludes the others."""
    if not roles:
        raise InvalidInput(_("at least one role is required"), field="roles")
    unknown = sorted(set(roles) - {role.value for role in Role})
    if unknown:
        raise InvalidInput(_("unknown role: %(roles)s", roles=', '.join(unknown)), field="roles")
    if Role.admin.value in roles and len(set(roles)) > 1:
        raise InvalidInput(_("the admin role excludes every other role"), field="roles")
    return sorted(set(roles))


def user_roles(session: Session, user: User) -> set[str]:
    """The roles of ``user``."""
    return set(session.exec(select(UserRole.role).where(UserRole.user_id == user.id)).all())


def find_user(session: Session, username: str) -> User | None:
    """The user with this username, or None."""
    return session.exec(select(User).where(User.username == username.strip().lower())).first()


@dataclass(frozen=True)
class NewAccount:
    """A created account and its second-factor secret (shown to the person once)."""

    user: User
    otpauth_uri: str
    secret: str


def create_user(
    *,
    session: Session,
    actor: str,
    username: str,
    password: str,
    roles: list[str],
    email: str | None = None,
    display_name: str = "",
) -> NewAccount:
    """Create an account with a fresh, unconfirmed TOTP secret."""
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput(
            _("username: 2-64 characters, lower-case letters, digits, '.', '_' or '-'"), field="username"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            _("password: at least %(count)s characters", count=MIN_PASSWORD_LENGTH), field="password"
        )
    if email is not None and email != "" and not re.fullmatch(r"[^@\s]+@[^@\s]+", email):
        raise InvalidInput(_("email address is malformed"), field="email")
    roles = validate_roles(roles)
    if find_user(session, username) is not None:
        raise InvalidInput(_("this username is taken"), field="username")
    secret = totp.new_secret()
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        email=email or None,
        password_hash=password_hasher().hash(password),
        totp_secret=totp.encrypt_secret(secret, keys.secrets_key(), username),
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    for role in roles:
        session.add(UserRole(user_id=user.id, role=role))
    audit_bridge.record(
        session, actor=actor, action="account.create", object_type="user", object_id=user.id,
        details={"username": username, "roles": roles},
    )
    return NewAccount(user=user, otpauth_uri=totp.provisioning_uri(secret, username), secret=secret)


def totp_secret(user: User) -> str:
    """Decrypt the user's TOTP secret."""
    return totp.decrypt_secret(user.totp_secret, keys.secrets_key(), user.username)


def is_locked(user: User) -> bool:
    """Whether the account is locked after repeated failures."""
    return user.locked_until is not None and user.locked_until > clock.now()


def rate_limited(session: Session, address: str) -> bool:
    """Record a login attempt from ``address`` and say whether it exceeds the per-address limit."""
    config = current_app.config
    now = clock.now()
    window_start = now - timedelta(minutes=config["LOGIN_RATE_WINDOW_MINUTES"])
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.at) < now - timedelta(days=1)))
    recent = session.exec(
        select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.address == address, col(LoginAttempt.at) >= window_start
        )
    ).one()
    session.add(LoginAttempt(address=address, at=now))
    return int(recent) >= config["LOGIN_RATE_LIMIT"]


def register_failure(session: Session, user: User, *, stage: str, address: str) -> None:
    """Count a wrong password or code; lock the account at the threshold."""
    config = current_app.config
    user.failed_attempts += 1
    audit_bridge.record(
        session, actor=user.username, action="login.failure", object_type="user", object_id=user.id,
        details={"stage": stage, "address": address, "consecutive": user.failed_attempts},
    )
    if user.failed_attempts >= config["LOCKOUT_THRESHOLD"]:
        user.locked_until = clock.now() + timedelta(minutes=config["LOCKOUT_MINUTES"])
        user.failed_attempts = 0
        audit_bridge.record(
            session, actor="system", action="account.lockout", object_type="user", object_id=user.id,
            details={"until": user.locked_until.isoformat(), "address": address},
        )
    session.add(user)


def check_password(session: Session, username: str, password: str, *, address: str) -> User | None:
    """Verify the first factor; the same work and answer for an unknown user as for a wrong password."""
    user = find_user(session, username)
    hasher = password_hasher()
    if user is None:
        try:
            hasher.verify(_dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            pass
        audit_bridge.record(
            session, actor="anonymous", action="login.failure", object_type="user", object_id=None,
            details={"stage": "password", "address": address, "username": username[:64]},
        )
        return None
    try:
        hasher.verify(user.password_hash, password)
        ok = True
    except (VerificationError, InvalidHashError):
        ok = False
    if not user.is_active or is_locked(user):
        audit_bridge.record(
            session, actor=user.username, action="login.refused", object_type="user", object_id=user.id,
            details={"reason": "inactive" if not user.is_active else "locked", "address": address},
        )
        return None
    if not ok:
        register_failure(session, user, stage="password", address=address)
        return None
    return user


def check_second_factor(session: Session, user: User, code: str, *, address: str) -> bool:
    """Verify a TOTP code (each time step once) or an unused recovery code."""
    if not user.is_active or is_locked(user):
        return False
    code = code.strip()
    step = totp.matching_step(totp_secret(user), code, clock.now(), user.totp_last_step)
    method = "totp"
    if step is not None:
        user.totp_last_step = step
    elif user.totp_confirmed and _use_recovery_code(session, user, code):
        method = "recovery_code"
    else:
        register_failure(session, user, stage="second_factor", address=address)
        return False
    user.failed_attempts = 0
    session.add(user)
    audit_bridge.record(
        session, actor=user.username, action="login.success", object_type="user", object_id=user.id,
        details={"method": method, "address": address},
    )
    return True


def _normalise_recovery_code(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")


def _use_recovery_code(session: Session, user: User, code: str) -> bool:
    normalised = _normalise_recovery_code(code)
    if len(normalised) != 10:
        return False
    hasher = password_hasher()
    unused = session.exec(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, col(RecoveryCode.used_at).is_(None))
    ).all()
    for stored in unused:
        try:
            hasher.verify(stored.code_hash, normalised)
        except (VerificationError, InvalidHashError):
            continue
        stored.used_at = clock.now()
        session.add(stored)
        return True
    return False


def confirm_enrolment(session: Session, user: User) -> list[str]:
    """Mark the second factor confirmed and issue fresh recovery codes (returned once, in clear)."""
    user.totp_confirmed = True
    session.add(user)
    session.exec(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    hasher = password_hasher()
    codes = []
    for _index in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=hasher.hash(raw)))
    audit_bridge.record(
        session, actor=user.username, action="second_factor.confirm", object_type="user", object_id=user.id
    )
    return codes


def reset_second_factor(*, session: Session, actor: str, user_id: int) -> NewAccount:
    """Replace the account's TOTP secret; the person enrols again at the next login."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("no such account"))
    secret = totp.new_secret()
    user.totp_secret = totp.encrypt_secret(secret, keys.secrets_key(), user.username)
    user.totp_confirmed = False
    user.totp_last_step = 0
    user.session_epoch += 1
    session.add(user)
    session.exec(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit_bridge.record(
        session, actor=actor, action="second_factor.reset", object_type="user", object_id=user.id
    )
    return NewAccount(user=user, otpauth_uri=totp.provisioning_uri(secret, user.username), secret=secret)


def set_active(*, session: Session, actor: str, user_id: int, active: bool) -> User:
    """Deactivate or reactivate an account; deactivation ends its sessions and tokens."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("no such account"))
    if user.username == actor and not active:
        raise Forbidden(_("you cannot deactivate your own account"))
    user.is_active = active
    user.session_epoch += 1
    session.add(user)
    audit_bridge.record(
        session, actor=actor, action="account.activate" if active else "account.deactivate",
        object_type="user", object_id=user.id,
    )
    return user


def all_users(session: Session) -> list[tuple[User, set[str]]]:
    """Every account with its roles, by username."""
    users = session.exec(select(User).order_by(User.username)).all()
    roles: dict[int, set[str]] = {}
    for user_id, role in session.exec(select(UserRole.user_id, UserRole.role)).all():
        roles.setdefault(user_id, set()).add(role)
    return [(user, roles.get(user.id or 0, set())) for user in users]
