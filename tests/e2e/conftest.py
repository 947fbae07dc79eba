"""Browser tests: Decoy served by a real server on 127.0.0.1, driven by Debian's Chromium through Playwright.

One browser per test session, one server (and one fresh database) per test module. Every browser
context refuses requests to anything but that server, and fails the test on a Content Security
Policy violation, a script error or a JavaScript dialog, so that the journeys also check that
nothing leaves the building and that no inline script or style is needed.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from decoy import create_app
from decoy.clock import SystemClock
from tests.support import FAST_ARGON2, PG_URL, Factory, database_url, pg_execute

from .support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Browsing,
    LiveServer,
    Site,
    _unavailable,
)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session (the system's, never a downloaded one)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package playwright is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def site(browser: Any, template_dir: tuple[Path, str | None],
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A fresh copy of the migrated database, an app on the real clock, served on 127.0.0.1."""
    source, template_db = template_dir
    data_dir = tmp_path_factory.mktemp("e2e") / "instance"
    shutil.copytree(source, data_dir)
    database = None
    if PG_URL:
        database = f"decoy_e2e_{uuid.uuid4().hex[:12]}"
        pg_execute(PG_URL, f'CREATE DATABASE "{database}" TEMPLATE "{template_db}"')
    # The real clock, so that codes computed here match the server's time; every browser signs in
    # from 127.0.0.1, so the per-address login limit is raised above what a module needs.
    app = create_app({"ENV": "testing", "DATA_DIR": str(data_dir), "SECRET_KEY": "e2e-secret",
                      "DATABASE_URL": database_url(data_dir, database), "CLOCK": SystemClock(),
                      "LOGIN_RATE_LIMIT": 10_000, **FAST_ARGON2})
    server = LiveServer(app).start()
    try:
        yield Site(app=app, url=server.url, port=server.port, factory=Factory(app))
    finally:
        server.stop()
        app.extensions["decoy.engine"].dispose()
        if database:
            pg_execute(PG_URL, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture
def browsing(browser: Any, site: Site) -> Iterator[Browsing]:
    """Guarded pages for one test; fails the test if a page reached outside or broke the CSP."""
    helper = Browsing(browser, site)
    yield helper
    problems = helper.close()
    assert not problems, "\n".join(problems)
