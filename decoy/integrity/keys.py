"""The key files of the data directory: created once by `decoy init`, mode 0600."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from flask import Flask, current_app

from ..config import ConfigurationError

SESSION_KEY = "session.key"
SECRETS_KEY = "secrets.key"
CHECKPOINT_KEY = "checkpoint.key"


def keys_dir(app: Flask | None = None) -> Path:
    """The folder holding the key files."""
    return Path((app or current_app).config["DATA_DIR"]) / "keys"


def write_secret_file(path: Path, text: str) -> bool:
    """Create ``path`` with mode 0600 holding ``text``; return False if it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return True


def new_symmetric_key() -> str:
    """A fresh 256-bit key as URL-safe base64 text."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def ensure_symmetric_keys(app: Flask) -> list[str]:
    """Create the session and secrets keys if missing; return the names created."""
    created = []
    for name in (SESSION_KEY, SECRETS_KEY):
        if write_secret_file(keys_dir(app) / name, new_symmetric_key()):
            created.append(name)
    return created


def secrets_key(app: Flask | None = None) -> bytes:
    """The 32-byte key that encrypts second-factor secrets at rest."""
    app = app or current_app
    cached = app.extensions.get("decoy.secrets_key")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    path = keys_dir(app) / SECRETS_KEY
    try:
        key = base64.urlsafe_b64decode(path.read_text().strip())
    except OSError as error:
        raise ConfigurationError(f"cannot read the secrets key {path}: {error}; run `decoy init`") from error
    if len(key) != 32:
        raise ConfigurationError(f"the secrets key {path} is malformed")
    app.extensions["decoy.secrets_key"] = key
    return key
