"""Helpers of the account tests: the audit entries, session rows and tokens as stored, and admin actions."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import select

from audit.entry import decode_entry
from decoy import audit_bridge
from decoy.db import get_engine, session_scope
from decoy.models import ApiToken, User

COOKIE = "decoy_session"
RESET_CODE = re.compile(r'id="reset-code"[^>]*>([0-9a-f-]+)<')


def entries(app: Any) -> list[dict[str, Any]]:
    """Every audit entry, decoded, in order."""
    with app.app_context(), get_engine(app).connect() as connection:
        rows = audit_bridge.get_store(app).entries(connection, 0, 100_000)
    return [decode_entry(entry) for _index, entry, _leaf in rows]


def actions(app: Any, action: str) -> list[dict[str, Any]]:
    """The audit entries of one action."""
    return [entry for entry in entries(app) if entry["action"] == action]


def sessions_of(app: Any, username: str) -> list[Any]:
    """The session rows of an account, oldest first."""
    from decoy.models.accounts import LoginSession

    with app.app_context(), session_scope(app) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        return list(session.exec(
            select(LoginSession).where(LoginSession.user_id == user.id).order_by(LoginSession.id)).all())


def tokens_of(app: Any, username: str) -> list[ApiToken]:
    """The token rows of an account, oldest first."""
    with app.app_context(), session_scope(app) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        return list(session.exec(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all())


def account(app: Any, username: str) -> User:
    """The account row as stored now."""
    with app.app_context(), session_scope(app) as session:
        return session.exec(select(User).where(User.username == username)).one()


def admin_post(client: Any, admin: Any, path: str) -> Any:
    """POST an account action from the Accounts screen as the signed-in administrator."""
    return client.post(path, data={"csrf_token": admin.csrf("/admin/users")})


def reset_code_in(response: Any) -> str:
    """The one-time reset code the Accounts screen shows after a reset."""
    match = RESET_CODE.search(response.get_data(as_text=True))
    assert match, "no reset code on the page"
    return match.group(1)
