"""The signed-in person as Flask-Login sees them, server-side sessions checked on every request, role
checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Request, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ..db import get_engine, get_session
from ..errors import Forbidden, NotAuthenticated
from ..extensions import login_manager
from ..models import User
from ..models.accounts import LoginSession
from . import services, sessions, tokens

F = TypeVar("F", bound=Callable[..., Any])


class Principal:
    """An authenticated user and their roles."""

    is_authenticated = True
    is_anonymous = False
    #: The server-side session (None for a token) and its key, which the cookie holds.
    login_session: LoginSession | None = None
    session_key = ""

    def __init__(self, user: User, roles: set[str]) -> None:
        self.user = user
        self.id = user.id
        self.username = user.username
        self.verbalisant_code = user.verbalisant_code
        self.roles = frozenset(roles)

    @property
    def is_active(self) -> bool:
        """Whether the account may be used."""
        return self.user.is_active

    def get_id(self) -> str:
        """What Flask-Login keeps in the cookie: the session's random key, never the account's id, so that a
        cookie names a session the server can end (Flask-Login's "alternative tokens")."""
        return self.session_key

    def has_role(self, *roles: str) -> bool:
        """Whether the principal holds any of ``roles``."""
        return bool(self.roles.intersection(roles))


def principal_for(user: User, login_session: LoginSession | None = None, key: str = "") -> Principal:
    """Wrap a user with their roles (and the session they are signed in by)."""
    principal = Principal(user, services.user_roles(get_session(), user))
    principal.login_session = login_session
    principal.session_key = key
    return principal


class TokenPrincipal(Principal):
    """A principal authenticated by a token: the account row is read only if a view needs it."""

    def __init__(self, holder: tokens.TokenHolder) -> None:  # pylint: disable=super-init-not-called
        self._user: User | None = None
        self.id = holder.user_id
        self.username = holder.username
        self.verbalisant_code = holder.verbalisant_code
        self.roles = holder.roles

    @property  # type: ignore[override]
    def user(self) -> User:
        """The account, read on first use."""
        if self._user is None:
            found = get_session().get(User, self.id)
            if found is None:
                raise NotAuthenticated(_("the account no longer exists"))
            self._user = found
        return self._user

    @property
    def is_active(self) -> bool:
        """A token is accepted only for an active account."""
        return True


def principal_for_token(token: str, purpose: str = "api") -> Principal | None:
    """The principal a valid bearer or calendar token stands for, read in one query (None if invalid)."""
    session = get_session()
    if session.in_transaction() or session.get_bind().dialect.name != "sqlite":
        found = tokens.token_holder(session.connection(), token, purpose)
    else:
        # On SQLite every other transaction takes the write lock up front; the token is read in a
        # deferred (read-only) transaction of its own, so that checking a token never queues behind writers.
        with get_engine().connect().execution_options(decoy_snapshot=True) as connection:
            found = tokens.token_holder(connection, token, purpose)
    return None if found is None else TokenPrincipal(found)


@login_manager.request_loader
def _load_bearer(request: Request) -> Principal | None:
    """The principal of an API request's bearer token (None for any other request, or a bad token).

    Only when no session user was loaded: an API request with a non-empty Authorization header has no
    cookie session (decoy.CookieSessions), so the token authenticates that request alone and nothing is
    written to a cookie. The API answers a header that loads no one with 401 (decoy.api).
    """
    header = request.headers.get("Authorization", "")
    if not header or not request.path.startswith("/api/"):
        return None
    scheme, _, token = header.partition(" ")
    return principal_for_token(token.strip()) if scheme.lower() == "bearer" else None


@login_manager.user_loader
def _load_user(key: str) -> Principal | None:
    """The person of the session a cookie names, if that session is live and their account active."""
    found = sessions.live_session(get_session(), key)
    if found is None:
        return None
    row, user = found
    return principal_for(user, row, key)


def sign_in_session(user: User, started: sessions.NewSession) -> None:
    """Regenerate the cookie for a freshly authenticated user: it names their new server-side session."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    session.permanent = True
    login_user(principal_for(user, started.row, started.key))


def end_cookie() -> None:
    """Forget the signed-in person in this cookie (the language stays)."""
    logout_user()
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def enforce_session_timeouts(app: Flask) -> None:
    """On every request whose cookie names a session, check it on the server (ended, idle or too old)
    before any view runs."""

    @app.before_request
    def _session() -> Response | None:
        if "_user_id" not in session:
            return None
        if not current_user.is_authenticated:
            # Ended (signed out, deactivated, reset, password changed elsewhere), idle or too old: the
            # cookie is forgotten and the request goes on as anonymous.
            end_cookie()
            if not request.path.startswith("/api/") and request.endpoint not in {"main.healthz", "static"}:
                return redirect(url_for("auth.login", next=request.path, expired=1))
            return None
        row = current_user.login_session
        if row is not None:
            db = get_session()
            # Committed here, before the view has changed anything: the last-seen time keeps the idle
            # limit, written at most once a minute.
            if sessions.touch(db, row):
                db.commit()
        return None


def require_roles(*roles: str) -> Callable[[F], F]:
    """Allow a view only to signed-in users holding one of ``roles`` (any role when empty)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                if request.path.startswith("/api/"):
                    raise NotAuthenticated(_("authentication required"))
                return login_manager.unauthorized()
            if roles and not current_user.has_role(*roles):
                raise Forbidden(_("your role does not allow this"))
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate
