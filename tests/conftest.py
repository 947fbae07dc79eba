"""Shared fixtures: a real database (SQLite, or PostgreSQL when DECOY_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from decoy import create_app
from decoy.clock import FrozenClock
from tests.decoy.evidence.support import World, authorization_terms
from tests.factories import make_operation

from .support import (
    FAST_ARGON2,
    PG_URL,
    START,
    ApiClient,
    AuthActions,
    Factory,
    database_url,
    pg_execute,
)

#: Folders whose tests are slow by nature: the browser journeys and the load, fault and fuzz tests.
SLOW_FOLDERS = {"e2e", "reliability"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser, reliability and property-based tests slow (`scripts/test --fast` skips them)."""
    root = Path(__file__).parent
    for item in items:
        folder = item.path.relative_to(root).parts[0] if item.path.is_relative_to(root) else ""
        property_based = hasattr(getattr(item, "obj", None), "hypothesis")
        if folder in SLOW_FOLDERS or property_based:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str | None]]:
    """A migrated data directory (and PostgreSQL template database) copied for every test."""
    from decoy.cli import initialise

    data_dir = tmp_path_factory.mktemp("template") / "instance"
    template_db = None
    if PG_URL:
        template_db = f"decoy_tmpl_{uuid.uuid4().hex[:8]}"
        pg_execute(PG_URL, f'CREATE DATABASE "{template_db}"')
    app = create_app({"ENV": "testing", "DATA_DIR": str(data_dir), "SECRET_KEY": "test",
                      "DATABASE_URL": database_url(data_dir, template_db), **FAST_ARGON2})
    with app.app_context():
        initialise(app)
    app.extensions["decoy.engine"].dispose()
    yield data_dir, template_db
    if template_db:
        pg_execute(PG_URL, f'DROP DATABASE IF EXISTS "{template_db}" WITH (FORCE)')


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
        pg_execute(PG_URL, f'CREATE DATABASE "{database}" TEMPLATE "{template_db}"')
    made = []

    def build(**overrides: Any) -> Any:
        config = {"ENV": "testing", "DATA_DIR": str(data_dir), "SECRET_KEY": "test-secret",
                  "DATABASE_URL": database_url(data_dir, database), "CLOCK": clock, **FAST_ARGON2}
        config.update(overrides)
        app = create_app(config)
        made.append(app)
        return app

    yield build
    for app in made:
        app.extensions["decoy.engine"].dispose()
    if database:
        pg_execute(PG_URL, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


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


@pytest.fixture
def factory(app: Any) -> Factory:
    """Object factories bound to the app."""
    return Factory(app)


@pytest.fixture
def auth(client: Any, factory: Factory, clock: FrozenClock) -> AuthActions:
    """Login helper."""
    return AuthActions(client, factory, clock)


@pytest.fixture
def api_client(client: Any) -> ApiClient:
    """The API caller; ``api_client.tokens[username] = factory.token(username)`` signs a user in."""
    return ApiClient(client)


@pytest.fixture
def world(app: Any, client: Any, factory: Any) -> World:
    """Operation Lantern with an active profile, built through the real services.

    sam and sol supervise, dana (named by the order) and dirk (not named) detect; nina is outside;
    lena is legal; adam is the admin.
    """
    for name, roles in {
        "sam": ("supervisor",),
        "sol": ("supervisor",),
        "dana": ("detective",),
        "dirk": ("detective",),
        "nina": ("detective",),
        "lena": ("legal",),
        "adam": ("admin",),
    }.items():
        factory.user(name, *roles)
    built = World(app=app, client=client)
    built.tokens = {
        name: factory.token(name) for name in ("sam", "sol", "dana", "dirk", "nina", "lena", "adam")
    }
    built.operation_id = make_operation(app, "sam", name="Operation Lantern", members=("sol", "dana", "dirk"))
    built.authorization_id = built.authorization(**authorization_terms())
    built.profile_id = built.profile(handle="decoy_one")
    return built
