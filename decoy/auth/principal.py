"""The signed-in person as Flask-Login sees them, session timeouts and role checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Request, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from .. import clock
from ..db import get_engine, get_session
from ..errors import Forbidden, NotAuthenticated
from ..extensions import login_manager
from ..models import User
from . import services, tokens

F = TypeVar("F", bound=Callable[..., Any])


class Principal:
    """An authenticated user and their roles."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, user: User, roles: set[str]) -> None:
        self.user = user
        self.id = user.id
        self.username = user.username
        self.roles = frozenset(roles)

    @property
    def is_active(self) -> bool:
        """Whether the account may be used."""
        return self.user.is_active

    def get_id(self) -> str:
        """The identifier Flask-Login keeps in the session."""
        return str(self.id)

    def has_role(self, *roles: str) -> bool:
        """Whether the principal holds any of ``roles``."""
        return bool(self.roles.intersection(roles))


def principal_for(user: User) -> Principal:
    """Wrap a user with their roles."""
    return Principal(user, services.user_roles(get_session(), user))


class TokenPrincipal(Principal):
    """A principal authenticated by a token: the account row is read only if a view needs it."""

    def __init__(self, holder: tokens.TokenHolder) -> None:  # pylint: disable=super-init-not-called
        self._user: User | None = None
        self.id = holder.user_id
        self.username = holder.username
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
def _load_user(user_id: str) -> Principal | None:
    user = get_session().get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.is_active or session.get("epoch") != user.session_epoch:
        return None
    return principal_for(user)


def start_session(user: User) -> None:
    """Regenerate the session for a freshly authenticated user."""
    language = session.get("lang")
    session.clear()
    now = clock.now().timestamp()
    session["epoch"] = user.session_epoch
    session["login_at"] = now
    session["seen_at"] = now
    if language:
        session["lang"] = language
    session.permanent = True


def enforce_session_timeouts(app: Flask) -> None:
    """End sessions idle for too long or older than the absolute limit."""

    @app.before_request
    def _timeouts() -> Response | None:
        if "_user_id" not in session:
            return None
        now = clock.now().timestamp()
        config = current_app.config
        idle = now - float(session.get("seen_at", 0))
        age = now - float(session.get("login_at", 0))
        if idle > config["SESSION_IDLE_MINUTES"] * 60 or age > config["SESSION_ABSOLUTE_HOURS"] * 3600:
            logout_user()
            language = session.get("lang")
            session.clear()
            if language:
                session["lang"] = language
            g.session_expired = True
            if not request.path.startswith("/api/") and request.endpoint not in {"main.healthz", "static"}:
                return redirect(url_for("auth.login", next=request.path, expired=1))
            return None
        # Rewrite the cookie at most once a minute: idle accuracy without a cookie per request.
        if now - float(session.get("seen_at", 0)) > 60:
            session["seen_at"] = now
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
