"""Account services: creation, two-factor login, lockout, recovery codes and tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Dialect, bindparam
from sqlmodel import Session, col, delete, func, select

from .. import audit_bridge, clock, keys
from ..errors import Forbidden, InvalidInput, NotFound
from ..models import ApiToken, LoginAttempt, RecoveryCode, Role, User, UserRole
from . import totp

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
RECOVERY_CODE_COUNT = 10
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "dcy_"  # noqa: S105 - a public marker, not a secret


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


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    *, session: Session, user: User, name: str, days: int | None = None, purpose: str = "api"
) -> tuple[ApiToken, str]:
    """Issue a bearer token; only its hash is stored, the clear token is returned once."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput(_("token name: 1-100 characters"), field="name")
    days = current_app.config["TOKEN_DEFAULT_DAYS"] if days is None else days
    if not 1 <= days <= 366:
        raise InvalidInput(_("expiry: between 1 and 366 days"), field="expires")
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(
        user_id=user.id, name=name, purpose=purpose, token_hash=_token_hash(clear), prefix=clear[:10],
        created_at=now, expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit_bridge.record(
        session, actor=user.username, action="token.create", object_type="token", object_id=token.id,
        details={"name": name, "purpose": purpose, "expires_at": token.expires_at.isoformat()},
    )
    return token, clear


def revoke_token(*, session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_("no such token"))
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        session.add(token)
        audit_bridge.record(
            session, actor=user.username, action="token.revoke", object_type="token", object_id=token.id
        )
    return token


_token = ApiToken.__table__  # type: ignore[attr-defined]
_user = User.__table__  # type: ignore[attr-defined]
_role = UserRole.__table__  # type: ignore[attr-defined]
#: The token, its holder and the holder's roles in one round trip (one row per role).
_TOKEN_HOLDER = (
    select(  # type: ignore[call-overload]
        _user.c.id, _user.c.username, _user.c.is_active,
        _token.c.purpose, _token.c.revoked_at, _token.c.expires_at, _role.c.role,
    )
    .join_from(_token, _user, _user.c.id == _token.c.user_id)
    .outerjoin(_role, _role.c.user_id == _user.c.id)
    .where(_token.c.token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True)
class TokenHolder:
    """Who a valid token stands for: the account's id and name, and its roles."""

    user_id: int
    username: str
    roles: frozenset[str]


#: _TOKEN_HOLDER as each database's driver takes it (SQL text, positional parameters?), compiled once.
_token_sql: dict[str, tuple[str, bool]] = {}


def _token_query(dialect: Dialect) -> tuple[str, bool]:
    found = _token_sql.get(dialect.name)
    if found is None:
        compiled = _TOKEN_HOLDER.compile(dialect=dialect)
        found = _token_sql[dialect.name] = (compiled.string, bool(compiled.positional))
    return found


def _utc(value: datetime | str | None) -> datetime | None:
    """A timestamp as the driver returns it (SQLite: naive UTC text), as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is None or value.tzinfo is None:
        return value if value is None else value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def token_holder(
    dbapi_connection: Any, dialect: Dialect, clear: str, purpose: str = "api"
) -> TokenHolder | None:
    """The active account a valid, unexpired, unrevoked token belongs to, with its roles (one query).

    Read with the raw driver on ``dbapi_connection`` (in its transaction if it has one): every API
    request starts here, and the driver alone costs a fraction of a statement through SQLAlchemy.
    """
    if not clear.startswith(TOKEN_PREFIX) or len(clear) > 200:
        return None
    sql, positional = _token_query(dialect)
    digest = _token_hash(clear)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql, (digest,) if positional else {"token_hash": digest})
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        return None
    user_id, username, is_active, token_purpose, revoked_at, expires_at, _first_role = rows[0]
    expires = _utc(expires_at)
    if token_purpose != purpose or revoked_at is not None or not is_active or expires is None:
        return None
    if expires <= clock.now():
        return None
    return TokenHolder(user_id, username, frozenset(row[6] for row in rows if row[6] is not None))


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first."""
    return list(
        session.exec(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(col(ApiToken.id).desc())
        ).all()
    )


def all_users(session: Session) -> list[tuple[User, set[str]]]:
    """Every account with its roles, by username."""
    users = session.exec(select(User).order_by(User.username)).all()
    roles: dict[int, set[str]] = {}
    for user_id, role in session.exec(select(UserRole.user_id, UserRole.role)).all():
        roles.setdefault(user_id, set()).add(role)
    return [(user, roles.get(user.id or 0, set())) for user in users]
