"""The factory, configuration, headers, health check, tokens and the role matrix."""

from __future__ import annotations

import pytest

from decoy import create_app
from decoy.config import ConfigurationError


def test_refuses_default_secret_outside_development(tmp_path, monkeypatch):
    monkeypatch.delenv("DECOY_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError):
        create_app({"ENV": "production", "DATA_DIR": str(tmp_path / "empty")})
    assert create_app({"ENV": "development", "DATA_DIR": str(tmp_path / "empty")}).config["SECRET_KEY"]


def test_environment_overrides_test_config(tmp_path, monkeypatch):
    monkeypatch.setenv("DECOY_TIMEZONE", "UTC")
    app = create_app({"ENV": "testing", "DATA_DIR": str(tmp_path), "TIMEZONE": "Europe/Paris"})
    assert app.config["TIMEZONE"] == "UTC"


def test_healthz_answers_without_authentication(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_security_headers_on_every_response(client):
    for path in ("/login", "/healthz", "/nonexistent", "/api/v1/me"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_session_cookie_flags(client, factory, auth):
    factory.user("dora", "detective")
    auth.password_step("dora")
    cookie = client.get_cookie("decoy_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_secure_cookie_behind_https(app_factory):
    app = app_factory(SESSION_COOKIE_SECURE=True)
    response = app.test_client().get("/login", base_url="https://decoy.example")
    assert "Secure" in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in response.headers


def test_pages_need_no_outside_asset(client):
    page = client.get("/login").get_data(as_text=True)
    assert "http://" not in page and "https://" not in page


def test_language_follows_browser_and_switch(client):
    assert "Aanmelden" in client.get("/login", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert "Sign in" in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_api_refusals_share_one_shape(client, factory):
    factory.user("dora", "detective")
    expired = factory.token("dora", days=1)
    answers = [
        client.get("/api/v1/me"),
        client.get("/api/v1/me", headers={"Authorization": "Bearer dcy_unknown"}),
        client.get("/api/v1/me", headers={"Authorization": "Basic abc"}),
    ]
    for response in answers:
        assert response.status_code == 401
        assert set(response.get_json()["error"]) >= {"code", "message"}
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"}).status_code == 200


def test_a_bearer_token_request_neither_reads_nor_sets_the_session_cookie(client, factory, auth):
    factory.user("dora", "detective")
    token = factory.token("dora", days=1)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.get_json()["username"] == "dora"
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
    # A session of another user in the same browser does not mix in: the token alone counts.
    factory.user("erik", "legal")
    auth.login("erik")
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.get_json()["username"] == "dora" and "Set-Cookie" not in response.headers
    assert client.get("/api/v1/me").get_json()["username"] == "erik"  # the session still works alone


def test_expired_token_is_refused(client, factory, clock):
    factory.user("dora", "detective")
    token = factory.token("dora", days=1)
    clock.advance(days=1, seconds=1)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_token_page_creates_shows_once_and_revokes(client, factory, auth):
    factory.user("dora", "detective")
    auth.login("dora")
    response = client.post("/account/tokens", data={"name": "capture laptop", "days": 30,
                                                     "csrf_token": auth.csrf()})
    assert response.status_code == 201
    import re

    token = re.search(r'id="new-token"[^>]*>(dcy_[^<]+)<', response.get_data(as_text=True)).group(1)
    assert token not in client.get("/account/tokens").get_data(as_text=True)
    other = client.application.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert other.get("/api/v1/me", headers=bearer).get_json()["username"] == "dora"
    listing = client.get("/account/tokens").get_data(as_text=True)
    token_id = re.search(r"/account/tokens/(\d+)/revoke", listing)
    client.post(f"/account/tokens/{token_id.group(1)}/revoke", data={"csrf_token": auth.csrf()})
    assert other.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert "/me" in document["paths"]


# Pages and who may open them: (path, roles allowed). Unlisted roles get 403; anonymous is sent to login.
PAGES = [
    ("/", {"detective", "supervisor", "legal", "admin"}),
    ("/account/tokens", {"detective", "supervisor", "legal", "admin"}),
    ("/admin/users", {"admin"}),
]


@pytest.mark.parametrize("path,allowed", PAGES)
@pytest.mark.parametrize("role", ["detective", "supervisor", "legal", "admin"])
def test_every_role_reaches_only_its_pages(client, factory, auth, path, allowed, role):
    factory.user("person", role)
    assert client.get(path).status_code == 302  # anonymous → login
    auth.login("person")
    status = client.get(path, follow_redirects=True).status_code
    assert status == (200 if role in allowed else 403)


def test_a_full_disk_while_receiving_is_a_clear_503(app_factory):
    import errno

    app = app_factory()

    @app.route("/spool-test")
    def spool_test():
        raise OSError(errno.ENOSPC, "No space left on device")

    client = app.test_client()
    answer = client.get("/spool-test", headers={"Accept": "application/json"})
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "unavailable"
    assert "No space left on device" in answer.get_json()["error"]["message"]
    page = client.get("/spool-test")
    assert page.status_code == 503 and "No space left on device" in page.get_data(as_text=True)
