"""API endpoints of operations, authorizations and profiles."""

from .. import api  # noqa: F401  (the blueprint these routes attach to)
