"""API endpoints of the audit log: checkpoint, entries and proofs."""

from .. import api  # noqa: F401  (the blueprint these routes attach to)
