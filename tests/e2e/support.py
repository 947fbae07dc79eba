"""The browser tests' helpers: the live server, the guarded browser context, screenshots and axe-core."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from werkzeug.serving import make_server

from tests.support import PASSWORD, Factory

CHROMIUM = Path(os.environ.get("DECOY_CHROMIUM", "/usr/bin/chromium"))


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


ROOT = Path(__file__).resolve().parents[2]


#: Where journeys save their screenshots: a temporary folder, unless DECOY_SCREENSHOTS names one
#: (`DECOY_SCREENSHOTS=docs/screenshots scripts/test tests/e2e` refreshes the user guide's pictures).
SCREENSHOTS = Path(os.environ.get("DECOY_SCREENSHOTS") or Path(tempfile.gettempdir()) / "decoy-screenshots")


AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


VIEWPORT = {"width": 1280, "height": 860}


LOCALES = {"en": "en-GB", "nl": "nl-NL"}


TOTP_STEP = 30


#: The password a person chooses at their first sign-in instead of the one the factory set.
OWN_PASSWORD = f"{PASSWORD} (own)"


BLOCKING_IMPACTS = ("serious", "critical")


def _unavailable(reason: str) -> None:
    """Fail in CI, where the browser must be present; skip with instructions elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: the browser tests must run in CI (.ci/run installs Debian's chromium)",
                    pytrace=False)
    pytest.skip(f"{reason}: browser tests skipped; install Debian's chromium "
                "(apt-get install chromium) and the test extra (pip install -e '.[test]') to run them")


class LiveServer:
    """A threaded Werkzeug server on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self, app: Any) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="decoy-e2e-server", daemon=True)

    def start(self) -> LiveServer:
        """Serve until :meth:`stop`."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class Guard:
    """What a browser context did that a page of Decoy must never make it do."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.outside_requests: list[str] = []
        self.csp_violations: list[str] = []
        self.script_errors: list[str] = []
        self.dialogs: list[str] = []

    def route(self, route: Any) -> None:
        """Let requests to our server through; refuse and remember every other."""
        parts = urlsplit(route.request.url)
        if parts.scheme in ("http", "https") and parts.hostname == "127.0.0.1" and parts.port == self.port:
            route.continue_()
        elif parts.scheme in ("data", "blob", "about"):
            route.continue_()
        else:
            self.outside_requests.append(route.request.url)
            route.abort()

    def console(self, message: Any) -> None:
        """Remember CSP violations reported on the console."""
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def dialog(self, dialog: Any) -> None:
        """A page opened an alert or a confirmation: remember and dismiss it."""
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def problems(self) -> list[str]:
        """Everything that went wrong, as readable lines."""
        return ([f"request outside the building: {url}" for url in self.outside_requests]
                + [f"CSP violation: {text}" for text in self.csp_violations]
                + [f"script error: {text}" for text in self.script_errors]
                + [f"dialog opened: {text}" for text in self.dialogs])


@dataclass
class Site:
    """The server of one test module, its application and the accounts made for it."""

    app: Any
    url: str
    port: int
    factory: Factory
    last_step: dict[str, int] = field(default_factory=dict)
    #: The password each account signs in with once it chose its own at the first sign-in.
    passwords: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def user(self, username: str, *roles: str, **kwargs: Any) -> Any:
        """Create an account through the real services (its TOTP secret is remembered)."""
        return self.factory.user(username, *roles, **kwargs)

    def code(self, username: str, secret: str | None = None) -> str:
        """A TOTP code of ``username`` that the server has not accepted yet.

        Decoy accepts each time step once and tolerates one step of drift, so a second login within
        the same 30 seconds uses the next step's code, and a third waits for the clock.
        """
        secret = secret or self.factory.secrets[username]
        with self.lock:
            while True:
                current = int(time.time()) // TOTP_STEP
                step = max(current, self.last_step.get(username, -1) + 1)
                if step <= current + 1:
                    break
                time.sleep(TOTP_STEP - time.time() % TOTP_STEP + 0.05)
            self.last_step[username] = step
        return pyotp.TOTP(secret).at(step * TOTP_STEP)


class Browsing:
    """Opens guarded browser contexts on the module's server and signs people in through the forms."""

    def __init__(self, browser: Any, site: Site) -> None:
        self.browser = browser
        self.site = site
        self.opened: list[tuple[Any, Guard]] = []

    def page(self, language: str = "en", *, axe: bool = False, storage_state: Any = None) -> Any:
        """A new page in a fresh context (its own cookies) whose browser prefers ``language``.

        With ``axe``, the context bypasses the CSP and loads axe-core into every page, for the
        accessibility checks only; the journeys run under the real CSP.
        """
        context = self.browser.new_context(
            base_url=self.site.url, locale=LOCALES[language], viewport=VIEWPORT,
            bypass_csp=axe, accept_downloads=True, timezone_id="Europe/Amsterdam",
            storage_state=storage_state,
        )
        context.set_default_timeout(15_000)
        if axe:
            context.add_init_script(path=str(AXE))
        guard = Guard(self.site.port)
        context.route("**/*", guard.route)
        page = context.new_page()
        page.on("console", guard.console)
        page.on("pageerror", lambda error: guard.script_errors.append(str(error)))
        page.on("dialog", guard.dialog)
        self.opened.append((context, guard))
        return page

    def password_step(self, page: Any, username: str, password: str = PASSWORD) -> None:
        """Submit the first factor on the sign-in page."""
        page.goto("/login")
        page.locator("#username").fill(username)
        page.locator("#password").fill(password)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()

    def login(self, page: Any, username: str, password: str | None = None) -> None:
        """Sign in with both factors; at the first sign-in choose an own password (OWN_PASSWORD) and enrol
        from the secret shown on the page."""
        self.password_step(page, username, password or self.site.passwords.get(username, PASSWORD))
        if urlsplit(page.url).path == "/login/enrol":
            if page.locator("#new_password").count():
                page.locator("#new_password").fill(OWN_PASSWORD)
                page.locator("#repeat").fill(OWN_PASSWORD)
                page.locator("main form button[type=submit]").click()
                page.locator("#totp-secret").wait_for()
                self.site.passwords[username] = OWN_PASSWORD
            secret = page.locator("#totp-secret").inner_text().strip()
            page.locator("#code").fill(self.site.code(username, secret))
            page.locator("main form button[type=submit]").click()
            page.locator("#recovery-codes").wait_for()
            page.locator("main a.button").click()
        else:
            assert urlsplit(page.url).path == "/login/code", page.url
            page.locator("#code").fill(self.site.code(username))
            page.locator("main form button[type=submit]").click()
        # The click only starts the navigation: wait until the browser has left the sign-in pages (or the
        # deadline passes and the assertion below says where it stayed).
        from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

        try:
            page.wait_for_url(lambda url: not urlsplit(url).path.startswith("/login"), timeout=10_000)
        except PlaywrightTimeoutError:
            pass
        page.wait_for_load_state()
        assert not urlsplit(page.url).path.startswith("/login"), f"{username} was not signed in: {page.url}"

    def signed_in(self, username: str, language: str = "en", *, axe: bool = False,
                  fresh: bool = False) -> Any:
        """A new page of ``username``, signed in.

        The first time, through the forms; later in the module, with the cookies of that sign-in, since
        Decoy accepts each TOTP step once and a third sign-in within 30 seconds would have to wait.
        """
        saved = None if fresh else self.site.sessions.get(username)
        page = self.page(language, axe=axe, storage_state=saved)
        if saved is not None:
            page.goto("/")
            if not path_of(page).startswith("/login"):
                return page
        self.login(page, username)
        self.site.sessions[username] = page.context.storage_state()
        return page

    def close(self) -> list[str]:
        """Close every context and return what their guards caught."""
        problems = []
        for context, guard in self.opened:
            context.close()
            problems.extend(guard.problems())
        self.opened.clear()
        return problems


def save_screenshot(page: Any, journey: str) -> Path:
    """Save the page as <journey>.png in SCREENSHOTS (docs/screenshots when refreshing the user guide)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{journey}.png"
    page.screenshot(path=str(target), full_page=True, animations="disabled")
    return target


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core on a page opened with ``axe=True``; return the serious and critical findings."""
    page.wait_for_load_state()  # a form just submitted may still be loading its answer
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => {
          const result = await axe.run(document, {resultTypes: ["violations"]});
          return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + (n.failureSummary || "")),
          }));
        }"""
    )
    return [violation for violation in found if violation["impact"] in BLOCKING_IMPACTS]


def path_of(page: Any) -> str:
    """The path of the page's current address."""
    return urlsplit(page.url).path
