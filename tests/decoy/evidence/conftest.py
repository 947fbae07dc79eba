"""An operation with an active profile, its team and outsiders, built through the real services."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_operation

from .support import (
    World,
    authorization_terms,
)


@pytest.fixture
def world(app: Any, client: Any, factory: Any) -> World:
    """sam and sol supervise, dana (named) and dirk (not named) detect; nina is outside; lena is legal."""
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
