"""A team for the operations tests: two supervisors, detectives, a legal officer, an admin and outsiders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from decoy.audit_bridge import get_store
from decoy.db import get_engine
from tests.factories import make_authorization, make_operation
from tests.support import ApiClient

PEOPLE = {
    "sam": ("supervisor",),
    "sol": ("supervisor",),
    "dana": ("detective",),
    "lena": ("legal",),
    "adam": ("admin",),
    "otto": ("supervisor",),
    "nina": ("detective",),
}


@dataclass
class Team(ApiClient):
    """The operation "Operation Lantern": sam (proposes), sol (approves) and dana are members."""

    app: Any = None
    operation_id: int = 0
    authorization_id: int = 0


    def api(self, method: str, path: str, username: str = "sam", **kwargs: Any) -> Any:
        """Call the API as ``username``."""
        return self.call(method, path, username, **kwargs)

    def audit_size(self) -> int:
        """How many audit entries the log holds."""
        with get_engine(self.app).connect() as connection:
            return int(get_store(self.app).size(connection))


@pytest.fixture
def team(app: Any, client: Any, factory: Any) -> Team:
    """Everyone in PEOPLE, an operation of sam with sol and dana, and one authorization on "chatapp"."""
    for name, roles in PEOPLE.items():
        factory.user(name, *roles)
    built = Team(app=app, client=client)
    built.tokens = {name: factory.token(name) for name in PEOPLE}
    built.operation_id = make_operation(app, "sam", members=("sol", "dana"))
    built.authorization_id = make_authorization(app, "lena", built.operation_id, officers=["dana"])
    return built
