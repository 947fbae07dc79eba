"""API endpoints of contacts, messages and attachments."""

from .. import api  # noqa: F401  (the blueprint these routes attach to)
