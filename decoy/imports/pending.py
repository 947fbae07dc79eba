"""Export files kept on the server between a web import's preview and its confirmation.

The upload is copied to ``DATA_DIR/imports-pending/<token>`` (mode 0600, in a folder of mode 0700), with
``<token>.json`` beside it: the uploader's account id, the contact, the form's choices, the original file
name and the time (the application's clock). The token is 32 random bytes, URL-safe; it is the only name
of the file. Only the uploader may confirm it, for the same contact, within PENDING_HOURS; the confirmation
renames the file to ``<token>.importing`` first (so that a second click finds nothing), imports it and
deletes both files. ``cleanup()`` deletes every kept file older than PENDING_HOURS and runs on each
upload, so a preview that is never confirmed or cancelled does not stay on the disk for long.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from flask_babel import gettext as _

from .. import clock
from .exports import ImportRefused

#: How long a preview may be confirmed; older kept files are deleted by cleanup().
PENDING_HOURS = 24
FOLDER = "imports-pending"
#: What secrets.token_urlsafe(32) produces: nothing else names a kept file (no path, no dot).
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}\Z")
META = ".json"
CLAIMED = ".importing"
#: The form's choices kept with the file.
CHOICES = ("format", "decoy_name", "timezone", "chat", "capture_session")
BLOCK = 1 << 20


@dataclass(frozen=True)
class Pending:
    """A kept upload awaiting confirmation."""

    token: str
    user_id: int
    contact_id: int
    choices: dict[str, Any]
    filename: str
    created_at: datetime

    @property
    def path(self) -> Path:
        """The kept file."""
        return folder() / self.token


def folder() -> Path:
    """The folder of kept uploads (created, mode 0700, on first use)."""
    path = Path(current_app.config["DATA_DIR"]) / FOLDER
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _private_file(path: Path) -> BinaryIO:
    """A new file only its owner may read (refused if the name exists, never through a link)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(path, flags, 0o600), "wb")


def keep(
    stream: BinaryIO,
    *,
    user_id: int,
    contact_id: int,
    choices: dict[str, Any],
    filename: str,
    max_bytes: int,
) -> Pending:
    """Copy the uploaded ``stream`` into the folder with its description; ImportRefused (``file``) when it
    is larger than ``max_bytes``, with nothing kept."""
    token = secrets.token_urlsafe(32)
    pending = Pending(
        token=token,
        user_id=user_id,
        contact_id=contact_id,
        choices={name: choices.get(name) for name in CHOICES},
        filename=filename,
        created_at=clock.now(),
    )
    path = pending.path
    size = 0
    try:
        with _private_file(path) as target:
            for block in iter(lambda: stream.read(BLOCK), b""):
                size += len(block)
                if size > max_bytes:
                    message = _(
                        "the file is larger than the import limit of %(bytes)s bytes", bytes=max_bytes
                    )
                    raise ImportRefused("file", message)
                target.write(block)
        description = {
            "user_id": user_id,
            "contact_id": contact_id,
            "choices": pending.choices,
            "filename": filename,
            "created_at": pending.created_at.isoformat(),
        }
        with _private_file(path.with_name(token + META)) as target:
            target.write(json.dumps(description, ensure_ascii=False).encode("utf-8"))
    except BaseException:
        discard(token)
        raise
    return pending


def _read(token: str) -> Pending | None:
    try:
        with (folder() / (token + META)).open("rb") as source:
            kept = json.loads(source.read(1 << 16))
        return Pending(
            token=token,
            user_id=int(kept["user_id"]),
            contact_id=int(kept["contact_id"]),
            choices={name: kept["choices"].get(name) for name in CHOICES},
            filename=str(kept["filename"]),
            created_at=datetime.fromisoformat(kept["created_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _expired(created_at: datetime) -> bool:
    return clock.now() - created_at > timedelta(hours=PENDING_HOURS)


def find(token: str, *, user_id: int, contact_id: int) -> Pending | None:
    """The upload kept under ``token`` by ``user_id`` for ``contact_id`` within PENDING_HOURS, else None
    (an expired one is deleted; someone else's is left alone and answered as unknown)."""
    if not TOKEN.match(token):
        return None
    pending = _read(token)
    if pending is None or pending.user_id != user_id or pending.contact_id != contact_id:
        return None
    if _expired(pending.created_at):
        discard(token)
        return None
    return pending


def claim(pending: Pending) -> Path | None:
    """Take the kept file for importing (renamed, so that only one confirmation gets it); None when
    another confirmation took it or it was deleted."""
    taken = pending.path.with_name(pending.token + CLAIMED)
    try:
        pending.path.rename(taken)
    except FileNotFoundError:
        return None
    return taken


def discard(token: str) -> None:
    """Delete the kept file of ``token`` and its description, whatever state they are in."""
    if not TOKEN.match(token):
        return
    base = folder()
    for suffix in ("", META, CLAIMED):
        (base / (token + suffix)).unlink(missing_ok=True)


def cleanup() -> int:
    """Delete every kept upload older than PENDING_HOURS; how many were deleted.

    A description's own time decides (the application's clock); a file without a readable description
    (a copy interrupted half-way) goes by its modification time. Names that are not a token's are left.
    """
    base = folder()
    oldest = time.time() - PENDING_HOURS * 3600
    removed = 0
    tokens = {entry.name.split(".", 1)[0] for entry in base.iterdir()}
    for token in sorted(tokens):
        if not TOKEN.match(token):
            continue
        kept = _read(token)
        if kept is not None:
            stale = _expired(kept.created_at)
        else:
            times = [path.stat().st_mtime for path in base.glob(token + "*") if path.is_file()]
            stale = bool(times) and max(times) < oldest
        if stale:
            discard(token)
            removed += 1
    return removed
