"""The evidence tests' world: an operation with a profile, and helpers to read the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from decoy.audit_bridge import get_store
from decoy.db import session_scope
from tests.factories import make_authorization, make_profile
from tests.support import START, ApiClient

PLATFORM = "chatsite"


@dataclass
class World(ApiClient):
    """Who is who, and the ids of the operation, authorization and profile."""

    app: Any = None
    operation_id: int = 0
    authorization_id: int = 0
    profile_id: int = 0


    def post(self, path: str, username: str = "dana", **kwargs: Any) -> Any:
        """POST to the API as ``username``."""
        return self.call("POST", path, username, **kwargs)

    def get(self, path: str, username: str = "dana", **kwargs: Any) -> Any:
        """GET from the API as ``username``."""
        if path.startswith("/api/"):  # a list's own "next" path
            return self.client.get(path, headers=self.headers(username), **kwargs)
        return self.call("GET", path, username, **kwargs)

    def contact(
        self,
        profile_id: int | None = None,
        counterpart: str = "sunny_day_22",
        username: str = "dana",
        **extra: Any,
    ) -> int:
        """Record a contact and return its id."""
        response = self.post(
            f"/profiles/{profile_id or self.profile_id}/contacts",
            username,
            json={"counterpart": counterpart, **extra},
        )
        assert response.status_code == 201, response.get_json()
        return int(response.get_json()["id"])

    def message(
        self,
        contact_id: int,
        body: str = "hello, how are you",
        direction: str = "in",
        sent_at: str = "2026-03-02T10:00:00+01:00",
        username: str = "dana",
        expect: int = 201,
        **extra: Any,
    ) -> dict[str, Any]:
        """Record a message as JSON and return the answer."""
        response = self.post(
            f"/contacts/{contact_id}/messages",
            username,
            json={"direction": direction, "sent_at": sent_at, "body": body, **extra},
        )
        assert response.status_code == expect, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def profile(
        self,
        *,
        approved: bool = True,
        platform: str = PLATFORM,
        authorization_id: int | None = None,
        handle: str = "decoy_two",
    ) -> int:
        """Another profile of the operation."""
        return make_profile(
            self.app,
            self.operation_id,
            authorization_id or self.authorization_id,
            "sam",
            approver="sol" if approved else None,
            platform=platform,
            handle=handle,
        )

    def authorization(self, **overrides: Any) -> int:
        """Another authorization of the operation."""
        return make_authorization(self.app, "lena", self.operation_id, **overrides)


def authorization_terms(**overrides: Any) -> dict[str, Any]:
    """Valid from a day before the test clock for 30 days, on one platform, naming dana only."""
    terms: dict[str, Any] = {
        "valid_from": START - timedelta(days=1),
        "valid_until": START + timedelta(days=30),
        "platforms": [PLATFORM],
        "may_initiate_contact": False,
        "officers": ["dana", "sam"],
    }
    terms.update(overrides)
    return terms


def audit_entries(app: Any) -> list[dict[str, Any]]:
    """Every audit entry, decoded, with its index."""
    from audit.entry import decode_entry

    with app.app_context(), session_scope(app) as session:
        store = get_store(app)
        rows = store.entries(session.connection(), 0, 1_000_000)
    return [decode_entry(data) for _index, data, _leaf in rows]


def entries_for(app: Any, action: str) -> list[dict[str, Any]]:
    """The audit entries of one action."""
    return [entry for entry in audit_entries(app) if entry["action"] == action]
