"""Shared fixtures: a real database (SQLite, or PostgreSQL when DECOY_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from decoy import create_app
from decoy.clock import FrozenClock

PG_URL = os.environ.get("DECOY_TEST_DATABASE_URL", "")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024}


def _admin_url(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def _pg_execute(url: str, *statements: str) -> None:
    engine = create_engine(_admin_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def _database_url(data_dir: Path, name: str | None) -> str:
    if not PG_URL:
        return f"sqlite:///{data_dir / 'decoy.db'}"
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str | None]]:
    """A migrated data directory (and PostgreSQL template database) copied for every test."""
    from decoy.cli import initialise

    data_dir = tmp_path_factory.mktemp("template") / "instance"
    template_db = None
    if PG_URL:
        template_db = f"decoy_tmpl_{uuid.uuid4().hex[:8]}"
        _pg_execute(PG_URL, f'CREATE DATABASE "{template_db}"')
    app = create_app({"ENV": "testing", "DATA_DIR": str(data_dir), "SECRET_KEY": "test",
                      "DATABASE_URL": _database_url(data_dir, template_db), **FAST_ARGON2})
    with app.app_context():
        initialise(app)
    app.extensions["decoy.engine"].dispose()
    yield data_dir, template_db
    if template_db:
        _pg_execute(PG_URL, f'DROP DATABASE IF EXISTS "{template_db}" WITH (FORCE)')


@pytest.fixture
def clock() -> FrozenClock:
    """The injectable clock, frozen at a fixed Monday morning."""
    return FrozenClock(START)


@pytest.fixture
def app_factory(template_dir: tuple[Path, str | None], tmp_path: Path, clock: FrozenClock) -> Iterator[Any]:
    """Build applications on a fresh copy of the migrated database."""
    source, template_db = template_dir
    data_dir = tmp_path / "instance"
    shutil.copytree(source, data_dir)
    database = None
    if PG_URL:
        database = f"decoy_t_{uuid.uuid4().hex[:12]}"
        _pg_execute(PG_URL, f'CREATE DATABASE "{database}" TEMPLATE "{template_db}"')
    made = []

    def build(**overrides: Any) -> Any:
        config = {"ENV": "testing", "DATA_DIR": str(data_dir), "SECRET_KEY": "test-secret",
                  "DATABASE_URL": _database_url(data_dir, database), "CLOCK": clock, **FAST_ARGON2}
        config.update(overrides)
        app = create_app(config)
        made.append(app)
        return app

    yield build
    for app in made:
        app.extensions["decoy.engine"].dispose()
    if database:
        _pg_execute(PG_URL, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture
def app(app_factory: Any) -> Any:
    """The application under test."""
    return app_factory()


@pytest.fixture
def client(app: Any) -> Any:
    """A test client with cookies."""
    return app.test_client()


@pytest.fixture
def runner(app: Any) -> Any:
    """A CLI runner bound to the application."""
    return app.test_cli_runner()


CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of a rendered form."""
    match = CSRF_PATTERN.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class Factory:
    """Creates accounts (and later operations and profiles) through the real services."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.secrets: dict[str, str] = {}

    def user(self, username: str, *roles: str, password: str = PASSWORD, email: str | None = None) -> Any:
        """Create an account and remember its TOTP secret."""
        from decoy.auth import services
        from decoy.db import session_scope

        with self.app.app_context(), session_scope(self.app) as session:
            account = services.create_user(session=session, actor="test", username=username,
                                           password=password, roles=list(roles) or ["detective"],
                                           email=email)
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


@pytest.fixture
def factory(app: Any) -> Factory:
    """Object factories bound to the app."""
    return Factory(app)


class AuthActions:
    """Logs in through the real forms with a real TOTP code."""

    def __init__(self, client: Any, factory: Factory, clock: FrozenClock) -> None:
        self.client = client
        self.factory = factory
        self.clock = clock

    def code(self, username: str) -> str:
        """The current TOTP code of ``username``."""
        import pyotp

        return pyotp.TOTP(self.factory.secrets[username]).at(self.clock.now())

    def password_step(self, username: str, password: str = PASSWORD) -> Any:
        """Submit the first factor."""
        page = self.client.get("/login")
        return self.client.post("/login", data={"username": username, "password": password,
                                                "csrf_token": csrf_from(page.get_data(as_text=True))})

    def code_step(self, code: str, path: str | None = None) -> Any:
        """Submit a second-factor code on the enrolment or code page."""
        page = self.client.get(path or "/login/code", follow_redirects=True)
        target = page.request.path
        token = csrf_from(page.get_data(as_text=True))
        return self.client.post(target, data={"code": code, "csrf_token": token})

    def login(self, username: str, password: str = PASSWORD) -> Any:
        """Log in with both factors (enrolling on first login); moves the clock one TOTP step."""
        self.clock.advance(timedelta(seconds=30))
        response = self.password_step(username, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        response = self.code_step(self.code(username), response.headers["Location"])
        assert response.status_code in (200, 302), response.get_data(as_text=True)
        return response

    def csrf(self, path: str = "/account/tokens") -> str:
        """A CSRF token from a page of the logged-in session."""
        return csrf_from(self.client.get(path).get_data(as_text=True))

    def logout(self) -> Any:
        """Sign out."""
        return self.client.post("/logout", data={"csrf_token": self.csrf()})


@pytest.fixture
def auth(client: Any, factory: Factory, clock: FrozenClock) -> AuthActions:
    """Login helper."""
    return AuthActions(client, factory, clock)
