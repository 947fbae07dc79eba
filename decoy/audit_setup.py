"""The signing key, checkpoints and verification of the audit log, as the application uses them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, current_app

from audit.checkpoint import KeyFileError, Signer, Verifier, load_signer, publish, write_private_key
from audit.store import StoredCheckpoint

from . import audit_bridge, clock, keys
from .config import ConfigurationError
from .db import session_scope

if TYPE_CHECKING:
    from audit.verify import VerifyReport

CHECKPOINT_FILE = "checkpoints.txt"


def signing_key_path(app: Flask | None = None) -> Path:
    """Where the Ed25519 checkpoint key lives."""
    return keys.keys_dir(app) / keys.CHECKPOINT_KEY


def checkpoint_file(app: Flask | None = None) -> Path:
    """The append-only file every signed checkpoint is published to."""
    return Path((app or current_app).config["DATA_DIR"]) / CHECKPOINT_FILE


def ensure_signing_key(app: Flask) -> bool:
    """Create the checkpoint signing key if missing; return whether one was created."""
    path = signing_key_path(app)
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private_key(path, Signer.generate(app.config["ORIGIN"]))
    return True


def get_signer(app: Flask | None = None) -> Signer:
    """The loaded signing key; a missing or unreadable key refuses with a clear message."""
    app = app or current_app
    cached = app.extensions.get("audit.signer")
    if cached is None:
        try:
            cached = load_signer(signing_key_path(app))
        except KeyFileError as error:
            raise ConfigurationError(f"checkpoint signing key unusable: {error}") from error
        app.extensions["audit.signer"] = cached
    return cached  # type: ignore[no-any-return]


def check_signing_key(app: Flask) -> None:
    """Refuse to start when the signing key is missing or unreadable."""
    get_signer(app)


def get_verifier(app: Flask | None = None) -> Verifier:
    """The public half of the signing key."""
    return Verifier.from_key_text(get_signer(app).verifier_key_text())


def make_checkpoint(app: Flask | None = None) -> StoredCheckpoint:
    """Sign a checkpoint of the log now (if it grew) and publish it outside the database."""
    app = app or current_app
    signer = get_signer(app)
    with session_scope(app) as session:
        latest = audit_bridge.get_store(app).latest_checkpoint(session.connection())
        stored = audit_bridge.get_store(app).checkpoint(
            session.connection(), signer, app.config["ORIGIN"], clock.now()
        )
    if latest is None or stored.id != latest.id:
        publish(stored.note, checkpoint_file(app))
    return stored


def verify_log(app: Flask | None = None) -> VerifyReport:
    """Recompute the whole log from the stored rows and check every checkpoint."""
    from audit.verify import verify_store

    from .evidence_check import evidence_checker

    app = app or current_app

    with session_scope(app) as session:
        return verify_store(
            session.connection(), get_verifier(app), audit_bridge.get_store(app),
            evidence_check=evidence_checker(session),
        )
