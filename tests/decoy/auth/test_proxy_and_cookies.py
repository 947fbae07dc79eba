"""Secure defaults: the session cookie is Secure outside development, and behind the documented TLS proxy
(DECOY_PROXY_HOPS) the login throttle and the audit log see each real client, not the proxy."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from decoy.config import ConfigurationError
from decoy.db import get_engine
from tests.support import csrf_from


def _post_login(client, username, password, forwarded_for=None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = client.get("/login", headers=headers)
    return client.post(
        "/login",
        headers=headers,
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )


@pytest.mark.parametrize(
    ("env", "secure"), [("production", True), ("development", False), ("testing", False)]
)
def test_the_session_cookie_is_secure_unless_developing(app_factory, env, secure):
    app = app_factory(ENV=env)
    assert app.config["SESSION_COOKIE_SECURE"] is secure
    response = app.test_client().get("/login", base_url="https://decoy.example")
    assert ("Secure" in response.headers["Set-Cookie"]) is secure


def test_an_explicit_setting_wins(app_factory, monkeypatch):
    monkeypatch.setenv("DECOY_SESSION_COOKIE_SECURE", "0")
    assert app_factory(ENV="production").config["SESSION_COOKIE_SECURE"] is False


def test_proxy_hops_must_be_a_small_whole_number(app_factory, monkeypatch):
    monkeypatch.setenv("DECOY_PROXY_HOPS", "one")
    with pytest.raises(ConfigurationError, match="DECOY_PROXY_HOPS"):
        app_factory()
    monkeypatch.setenv("DECOY_PROXY_HOPS", "9")
    with pytest.raises(ConfigurationError, match="DECOY_PROXY_HOPS"):
        app_factory()


def _login_addresses(app):
    with get_engine(app).connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT address FROM login_attempt ORDER BY id"))]


def test_behind_one_proxy_each_client_has_its_own_throttle(app_factory, factory):
    app = app_factory(PROXY_HOPS=1, LOGIN_RATE_LIMIT=3)
    client = app.test_client()
    for _ in range(3):
        assert _post_login(client, "nobody", "wrong password!", "203.0.113.7").status_code == 401
    assert _post_login(client, "nobody", "wrong password!", "203.0.113.7").status_code == 429
    # Another officer behind the same proxy is not locked out by the first client.
    assert _post_login(client, "nobody", "wrong password!", "198.51.100.20").status_code == 401
    assert set(_login_addresses(app)) == {"203.0.113.7", "198.51.100.20"}


def test_a_client_cannot_forge_its_address_past_the_trusted_proxy(app_factory):
    app = app_factory(PROXY_HOPS=1, LOGIN_RATE_LIMIT=3)
    client = app.test_client()
    # The proxy appends the real address last; what the client wrote before it is not trusted.
    for number in range(3):
        forged = f"192.0.2.{number}, 203.0.113.7"
        assert _post_login(client, "nobody", "wrong password!", forged).status_code == 401
    assert _post_login(client, "nobody", "wrong password!", "192.0.2.99, 203.0.113.7").status_code == 429


def test_without_proxy_hops_forwarded_headers_are_ignored(app_factory):
    app = app_factory(LOGIN_RATE_LIMIT=3)
    client = app.test_client()
    for number in range(3):
        assert _post_login(client, "nobody", "wrong password!", f"192.0.2.{number}").status_code == 401
    assert _post_login(client, "nobody", "wrong password!", "192.0.2.50").status_code == 429
    assert set(_login_addresses(app)) == {"127.0.0.1"}
