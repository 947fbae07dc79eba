"""Account services: creation, two-factor sign-in, own passwords, lockout, recovery and reset codes
(sessions: auth.sessions, tokens: auth.tokens)."""

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
from ..disclosure import codes
from ..errors import Forbidden, InvalidInput
from ..evidence.fingerprint import account_fingerprint, columns
from ..integrity import keys
from ..models import LoginAttempt, RecoveryCode, Role, User, UserRole
from . import sessions, totp

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
    code: str | None = None,
    created_by: int | None = None,
) -> NewAccount:
    """Create an account with a fresh, unconfirmed TOTP secret (and its verbalisant code, if given)."""
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
    if code:
        code = codes.normalise(code)
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
        evidence={"row_sha256": account_fingerprint(columns(user))},
        details={"username": username, "roles": roles},
    )
    if code:
        codes.assign(session, actor=actor, assigned_by=created_by, user=user, code=code)
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


def _second_factor(session: Session, user: User, code: str, *, address: str) -> str | None:
    """Verify a TOTP code (each time step once) or an unused recovery code: the method, or None after
    registering the failure."""
    if not user.is_active or is_locked(user):
        return None
    code = code.strip()
    step = totp.matching_step(totp_secret(user), code, clock.now(), user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        session.add(user)
        return "totp"
    if user.totp_confirmed and _use_recovery_code(session, user, code):
        return "recovery_code"
    register_failure(session, user, stage="second_factor", address=address)
    return None


def _start_session(session: Session, user: User, *, method: str, address: str) -> sessions.NewSession:
    """Begin a session after both factors; the sign-in's audit entry names it."""
    user.failed_attempts = 0
    session.add(user)
    started = sessions.start(session=session, user=user, address=address)
    audit_bridge.record(
        session, actor=user.username, action="login.success", object_type="user", object_id=user.id,
        details={"method": method, "address": address, "session": started.row.id},
    )
    return started


def _acceptable(new_password: str | None, repeat: str | None) -> str:
    """The new password if it is long enough and typed twice alike."""
    new_password = new_password or ""
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            _("password: at least %(count)s characters", count=MIN_PASSWORD_LENGTH), field="new_password"
        )
    if new_password != (repeat or ""):
        raise InvalidInput(_("the two passwords differ"), field="repeat")
    return new_password


def _refuse_current(new_password: str, *, same: bool) -> None:
    if same:
        # Keeping the password someone else set would keep it known to them.
        raise InvalidInput(_("choose a password other than the current one"), field="new_password")


def _checked_new_password(user: User, new_password: str | None, repeat: str | None) -> str:
    """An acceptable new password other than the one in use (for a person who has just proven it)."""
    chosen = _acceptable(new_password, repeat)
    _refuse_current(chosen, same=_matches(user.password_hash, chosen))
    return chosen


def _matches(stored_hash: str, clear: str) -> bool:
    try:
        return bool(password_hasher().verify(stored_hash, clear))
    except (VerificationError, InvalidHashError):
        return False


def _set_password(session: Session, user: User, new_password: str, *, reason: str) -> None:
    user.password_hash = password_hasher().hash(new_password)
    user.must_set_password = False
    user.reset_code_hash = None
    session.add(user)
    audit_bridge.record(
        session, actor=user.username, action="account.password_set", object_type="user", object_id=user.id,
        details={"reason": reason},
    )


def sign_in(
    *, session: Session, user: User, code: str, address: str, new_password: str | None = None,
    repeat: str | None = None,
) -> sessions.NewSession | None:
    """The second step of signing in with an enrolled second factor: a code (TOTP or recovery code), and
    the person's own password if they have not chosen one yet. None after a registered failure."""
    if not user.totp_confirmed:
        raise Forbidden(_("set up your second factor first"))
    chosen = _checked_new_password(user, new_password, repeat) if user.must_set_password else None
    method = _second_factor(session, user, code, address=address)
    if method is None:
        return None
    if chosen is not None:
        _set_password(session, user, chosen, reason="first sign-in")
    return _start_session(session, user, method=method, address=address)


def choose_password(
    *, session: Session, user: User, new_password: str, repeat: str, address: str, reset_code: str = "",
) -> bool:
    """The first step of enrolment: the person replaces the password someone else set with their own;
    after a second-factor reset this also takes the reset code. False after a registered failure."""
    if user.totp_confirmed or not user.must_set_password:
        raise Forbidden(_("your password is already your own"))
    if not user.is_active or is_locked(user):
        return False
    chosen = _checked_new_password(user, new_password, repeat)
    after_reset = user.reset_code_hash is not None
    if after_reset and not _matches(user.reset_code_hash or "", _normalise_code(reset_code)):
        register_failure(session, user, stage="reset_code", address=address)
        return False
    _set_password(session, user, chosen, reason="second factor reset" if after_reset else "first sign-in")
    return True


def enrol(
    *, session: Session, user: User, code: str, address: str
) -> tuple[sessions.NewSession, list[str]] | None:
    """The second step of enrolment: a first code of the new authenticator confirms it; the session
    begins and fresh recovery codes are returned once, in clear. None after a registered failure."""
    if user.totp_confirmed or user.must_set_password:
        raise Forbidden(_("choose your own password first"))
    method = _second_factor(session, user, code, address=address)
    if method is None:
        return None
    started = _start_session(session, user, method=method, address=address)
    return started, _confirm_enrolment(session, user)


def change_password(
    *, session: Session, user: User, current_password: str, code: str, new_password: str, repeat: str,
    keep_session: int | None, address: str,
) -> bool:
    """Replace the password, proven by the current one and a current second-factor code; every other
    session of the account ends. False after a registered failure; InvalidInput (roll back) for a new
    password that is not acceptable."""
    chosen = _acceptable(new_password, repeat)
    if not user.is_active or is_locked(user):
        return False
    if not _matches(user.password_hash, current_password):
        register_failure(session, user, stage="password", address=address)
        return False
    if _second_factor(session, user, code, address=address) is None:
        return False
    # Compared with the current password only once that is proven: the form tells nothing about it before.
    _refuse_current(chosen, same=chosen == current_password)
    user.failed_attempts = 0
    user.password_hash = password_hasher().hash(chosen)
    session.add(user)
    audit_bridge.record(
        session, actor=user.username, action="account.password_change", object_type="user",
        object_id=user.id, details={"address": address},
    )
    sessions.end_all(session=session, actor=user.username, user_id=user.id or 0, reason="password_change",
                     keep=keep_session)
    return True


def _normalise_code(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")


def _use_recovery_code(session: Session, user: User, code: str) -> bool:
    normalised = _normalise_code(code)
    if len(normalised) != 10:
        return False
    unused = session.exec(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, col(RecoveryCode.used_at).is_(None))
    ).all()
    for stored in unused:
        if _matches(stored.code_hash, normalised):
            stored.used_at = clock.now()
            session.add(stored)
            return True
    return False


def _confirm_enrolment(session: Session, user: User) -> list[str]:
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
