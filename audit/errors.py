"""The audit package's error types, in one module the verifier can import without a database."""

from __future__ import annotations

__all__ = ["AuditError", "CheckpointError", "InconsistentLogError", "KeyFileError"]


class AuditError(Exception):
    """Base class of the audit package's errors."""


class CheckpointError(AuditError, ValueError):
    """A signed note or checkpoint is malformed, unsigned by the expected key, or its signature fails."""


class KeyFileError(AuditError):
    """The signing key file is missing, unreadable or malformed."""


class InconsistentLogError(AuditError):
    """The stored log does not match its head or an earlier checkpoint; nothing is signed."""
