"""A team for the review tests, a real SMTP server on 127.0.0.1 and helpers to run scheduler passes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .support import (
    MailServer,
    Team,
    build_team,
    free_port,
)


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A stopped SMTP server on a free port; tests start it when they want it up."""
    server = MailServer(port=free_port())
    yield server
    server.stop()


@pytest.fixture
def team(app: Any, client: Any, factory: Any) -> Team:
    """The team with a 90-day authorization (reviews every 30 days) valid since yesterday."""
    return build_team(app, client, factory)
