"""The review tests' team, its API calls and a real SMTP server on loopback."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller
from sqlmodel import col, select

from decoy.db import session_scope
from decoy.models import Profile
from decoy.reviews.passes import outbox_pass, review_pass
from tests.factories import make_authorization, make_operation, make_profile
from tests.support import ApiClient

PEOPLE = {
    "sam": ("supervisor",),
    "sol": ("supervisor",),
    "dana": ("detective",),
    "lena": ("legal",),
    "lars": ("legal",),
    "adam": ("admin",),
    "nina": ("detective",),
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Collector:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[Any]:
        """The messages delivered to ``address``."""
        return [m for m in self.messages if address in m["X-Envelope-To"].split(",")]


@dataclass
class MailServer:
    """A real SMTP server on 127.0.0.1 that can be started late (to test retries)."""

    port: int
    handler: Collector = field(default_factory=Collector)
    controller: Controller | None = None

    @property
    def url(self) -> str:
        """The DECOY_SMTP_URL of this server."""
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Begin listening."""
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        """Stop listening."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@dataclass
class Team(ApiClient):
    """Operation Lantern: sam and sol supervise, dana detects; lena (legal) is a member, lars is not."""

    app: Any = None
    operation_id: int = 0
    authorization_id: int = 0
    profile_ids: list[int] = field(default_factory=list)


    def api(self, method: str, path: str, username: str = "lena", **kwargs: Any) -> Any:
        """Call the API as ``username``."""
        return self.call(method, path, username, **kwargs)

    def statuses(self) -> dict[int, str]:
        """The status of every profile of the operation, by id."""
        with self.app.app_context(), session_scope(self.app) as session:
            rows = session.exec(
                select(Profile.id, Profile.status)
                .where(Profile.operation_id == self.operation_id)
                .order_by(col(Profile.id))
            ).all()
            return {int(profile_id): status for profile_id, status in rows}

    def run(self, times: int = 1) -> list[str]:
        """Run the review pass and the outbox ``times`` times."""
        return [f"{review_pass(self.app)}; {outbox_pass(self.app)}" for _ in range(times)]


def build_team(app: Any, client: Any, factory: Any, **authorization: Any) -> Team:
    """Everyone in PEOPLE (with e-mail), the operation, one authorization and two active profiles."""
    for name, roles in PEOPLE.items():
        factory.user(name, *roles, email=f"{name}@example.test")
    team = Team(app=app, client=client)
    team.tokens = {name: factory.token(name, days=366) for name in PEOPLE}
    team.operation_id = make_operation(app, "sam", members=("sol", "dana", "lena"))
    team.authorization_id = make_authorization(
        app, "lena", team.operation_id, officers=["dana"], **authorization
    )
    team.profile_ids = [
        make_profile(app, team.operation_id, team.authorization_id, "sam", approver="sol", handle=handle)
        for handle in ("sunny_day", "quiet_reader")
    ]
    return team
