"""Helpers shared by the tests: database URLs, fixed moments, the user factory and the login steps."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from decoy.clock import FrozenClock

PG_URL = os.environ.get("DECOY_TEST_DATABASE_URL", "")


START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


PASSWORD = "correct horse battery staple"


FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024}


def admin_url(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def pg_execute(url: str, *statements: str) -> None:
    engine = create_engine(admin_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def database_url(data_dir: Path, name: str | None) -> str:
    if not PG_URL:
        return f"sqlite:///{data_dir / 'decoy.db'}"
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of a rendered form."""
    match = CSRF_PATTERN.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def code_for(username: str) -> str:
    """The verbalisant code the factory gives an officer: fixed per username, and never containing it."""
    return "TEST-" + hashlib.sha256(username.encode()).hexdigest()[:6].upper()


class Factory:
    """Creates accounts (and later operations and profiles) through the real services."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.secrets: dict[str, str] = {}

    def user(self, username: str, *roles: str, password: str = PASSWORD, email: str | None = None,
             code: str | None = "") -> Any:
        """Create an account and remember its TOTP secret; an officer gets ``code_for(username)`` as
        verbalisant code unless ``code`` names another (None: no code)."""
        from decoy.auth import services
        from decoy.db import session_scope

        roles = tuple(roles) or ("detective",)
        if code == "":
            code = None if roles == ("admin",) else code_for(username)
        with self.app.app_context(), session_scope(self.app) as session:
            account = services.create_user(session=session, actor="test", username=username,
                                           password=password, roles=list(roles), email=email, code=code)
        self.secrets[username] = account.secret
        return account.user

    def token(self, username: str, days: int = 30) -> str:
        """A bearer token for ``username``."""
        from decoy.auth import services, tokens
        from decoy.db import session_scope

        with self.app.app_context(), session_scope(self.app) as session:
            user = services.find_user(session, username)
            _token, clear = tokens.create_token(session=session, user=user, name="test", days=days)
        return clear


class AuthActions:
    """Logs in through the real forms with a real TOTP code, choosing the person's own password at the
    first sign-in (the password the factory set is one someone else knows)."""

    def __init__(self, client: Any, factory: Factory, clock: FrozenClock) -> None:
        self.client = client
        self.factory = factory
        self.clock = clock

    @property
    def passwords(self) -> dict[str, str]:
        """The password each account signs in with now, shared by every client of the same factory."""
        return vars(self.factory).setdefault("passwords_in_use", {})  # type: ignore[no-any-return]

    def password_of(self, username: str) -> str:
        """The password ``username`` signs in with now (PASSWORD until they chose their own)."""
        return self.passwords.get(username, PASSWORD)

    @staticmethod
    def own_password(initial: str) -> str:
        """The password a person chooses at the first sign-in instead of ``initial``."""
        return f"{initial} (own)"

    def code(self, username: str) -> str:
        """The current TOTP code of ``username``."""
        import pyotp

        return pyotp.TOTP(self.factory.secrets[username]).at(self.clock.now())

    def password_step(self, username: str, password: str | None = None) -> Any:
        """Submit the first factor (by default, the password the account has now)."""
        page = self.client.get("/login")
        password = self.password_of(username) if password is None else password
        return self.client.post("/login", data={"username": username, "password": password,
                                                "csrf_token": csrf_from(page.get_data(as_text=True))})

    def choose_password_step(self, new_password: str, reset_code: str = "", repeat: str | None = None) -> Any:
        """Submit enrolment's first step: the person's own password (and the reset code after a reset)."""
        page = self.client.get("/login/enrol")
        return self.client.post("/login/enrol", data={
            "new_password": new_password, "repeat": new_password if repeat is None else repeat,
            "reset_code": reset_code, "csrf_token": csrf_from(page.get_data(as_text=True))})

    def code_step(self, code: str, path: str | None = None, **fields: str) -> Any:
        """Submit a second-factor code (and any further ``fields``) on the enrolment or code page."""
        page = self.client.get(path or "/login/code", follow_redirects=True)
        target = page.request.path
        token = csrf_from(page.get_data(as_text=True))
        return self.client.post(target, data={"code": code, "csrf_token": token, **fields})

    def login(self, username: str, password: str | None = None, *, reset_code: str = "") -> Any:
        """Log in with both factors, at the first sign-in choosing an own password and enrolling; moves the
        clock one TOTP step."""
        self.clock.advance(timedelta(seconds=30))
        password = self.password_of(username) if password is None else password
        response = self.password_step(username, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        location = response.headers["Location"]
        own = self.own_password(password)
        fields = {}
        if location.endswith("/login/enrol"):
            if 'name="new_password"' in self.client.get(location).get_data(as_text=True):
                chosen = self.choose_password_step(own, reset_code)
                assert chosen.status_code == 302, chosen.get_data(as_text=True)
                self.passwords[username] = own
        elif 'name="new_password"' in self.client.get(location).get_data(as_text=True):
            fields = {"new_password": own, "repeat": own}
        response = self.code_step(self.code(username), location, **fields)
        assert response.status_code in (200, 302), response.get_data(as_text=True)
        if fields:
            self.passwords[username] = own
        return response

    def csrf(self, path: str = "/account/tokens") -> str:
        """A CSRF token from a page of the logged-in session."""
        return csrf_from(self.client.get(path).get_data(as_text=True))

    def logout(self) -> Any:
        """Sign out."""
        return self.client.post("/logout", data={"csrf_token": self.csrf()})


@dataclass
class ApiClient:
    """Calls the JSON API at /api/v1 as a named user, with that user's bearer token.

    The one API caller of the tests: the feature folders' teams and worlds extend it.
    """

    client: Any
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, username: str) -> dict[str, str]:
        """Bearer headers of ``username``."""
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def call(self, method: str, path: str, username: str, **kwargs: Any) -> Any:
        """``method`` on /api/v1``path`` as ``username``."""
        return self.client.open(f"/api/v1{path}", method=method, headers=self.headers(username), **kwargs)


def without_triggers(connection: Any, table: str) -> None:
    """Let UPDATE and DELETE through on ``table``, as someone with the database owner's rights could:
    SQLite's triggers on the table are dropped, PostgreSQL's disabled (the test's database is its own)."""
    if connection.dialect.name == "sqlite":
        query = text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table")
        names = connection.execute(query, {"table": table}).scalars().all()
        for name in names:
            connection.execute(text(f'DROP TRIGGER "{name}"'))
    else:
        connection.execute(text(f'ALTER TABLE "{table}" DISABLE TRIGGER USER'))
