"""Bearer and calendar tokens: issued once in clear, stored as hashes, checked on every API request."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Connection, bindparam
from sqlmodel import Session, col, select

from .. import audit_bridge, clock
from ..errors import InvalidInput, NotFound
from ..models import ApiToken, User, UserRole

TOKEN_PREFIX = "dcy_"  # noqa: S105 - a public marker, not a secret


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


def revoke_all(*, session: Session, actor: str, user_id: int, reason: str) -> list[int]:
    """Revoke every unrevoked token of an account (API and calendar), each with its audit entry; the ids."""
    now = clock.now()
    found = session.exec(
        select(ApiToken).where(ApiToken.user_id == user_id, col(ApiToken.revoked_at).is_(None))
        .order_by(col(ApiToken.id))
    ).all()
    for token in found:
        token.revoked_at = now
        session.add(token)
        audit_bridge.record(
            session, actor=actor, action="token.revoke", object_type="token", object_id=token.id,
            details={"reason": reason},
        )
    return [token.id or 0 for token in found]


_token = ApiToken.__table__  # type: ignore[attr-defined]
_user = User.__table__  # type: ignore[attr-defined]
_role = UserRole.__table__  # type: ignore[attr-defined]
#: The token, its holder and the holder's roles in one round trip (one row per role).
_TOKEN_HOLDER = (
    select(  # type: ignore[call-overload]
        _user.c.id, _user.c.username, _user.c.is_active, _user.c.verbalisant_code,
        _token.c.purpose, _token.c.revoked_at, _token.c.expires_at, _role.c.role,
    )
    .join_from(_token, _user, _user.c.id == _token.c.user_id)
    .outerjoin(_role, _role.c.user_id == _user.c.id)
    .where(_token.c.token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True)
class TokenHolder:
    """Who a valid token stands for: the account's id, name and verbalisant code, and its roles."""

    user_id: int
    username: str
    roles: frozenset[str]
    verbalisant_code: str | None = None


def token_holder(connection: Connection, clear: str, purpose: str = "api") -> TokenHolder | None:
    """The active account a valid, unexpired, unrevoked token belongs to, with its roles (one query on
    ``connection``, in its transaction)."""
    if not clear.startswith(TOKEN_PREFIX) or len(clear) > 200:
        return None
    rows = connection.execute(_TOKEN_HOLDER, {"token_hash": _token_hash(clear)}).all()
    if not rows:
        return None
    user_id, username, is_active, code, token_purpose, revoked_at, expires_at, _first_role = rows[0]
    if token_purpose != purpose or revoked_at is not None or not is_active or expires_at is None:
        return None
    if expires_at <= clock.now():
        return None
    return TokenHolder(user_id, username, frozenset(row[7] for row in rows if row[7] is not None), code)


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first."""
    return list(
        session.exec(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(col(ApiToken.id).desc())
        ).all()
    )
