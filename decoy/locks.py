"""Locks that one process at a time may hold: the active scheduler, a move of attachments."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from flask import Flask
from sqlalchemy import Connection


class ExclusiveLock:
    """A lock that only one process holds at a time.

    On PostgreSQL a session-level advisory lock on a connection of its own (so it spans every machine
    that shares the database); on SQLite an exclusive lock on a file in the data directory. Released
    explicitly, or by the end of the process or connection that holds it.
    """

    def __init__(self, app: Flask, key: int, filename: str) -> None:
        self.app = app
        self.key = key
        self.filename = filename
        self.engine = app.extensions["decoy.engine"]
        self.connection: Connection | None = None
        self.handle: int | None = None
        self.held = False

    @property
    def postgres(self) -> bool:
        """Whether the lock is an advisory lock."""
        return bool(self.engine.dialect.name == "postgresql")

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never blocks."""
        if self.postgres:
            if self.connection is None:
                self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = self.connection.exec_driver_sql("SELECT pg_try_advisory_lock(%s)", (self.key,)).scalar()
            self.held = bool(got)
            return self.held
        path = Path(self.app.config["DATA_DIR"]) / self.filename
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            return False
        self.handle = handle
        return True

    def wait(self, seconds: float, poll: float = 0.5) -> bool:
        """Take the lock, waiting up to ``seconds`` for its holder to let go."""
        deadline = time.monotonic() + seconds
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)
        return True

    def alive(self) -> bool:
        """Whether the lock is still held (the connection that holds it still answers)."""
        if not self.postgres:
            return self.handle is not None
        try:
            return self.connection is not None and self.connection.exec_driver_sql("SELECT 1").scalar() == 1
        except Exception:  # a dropped connection lost the lock with it
            return False

    def release(self) -> None:
        """Let go of the lock."""
        if self.connection is not None:
            try:
                if self.held:
                    self.connection.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (self.key,))
            finally:
                self.held = False
                # Never hand a connection that may still hold the lock back to the pool.
                self.connection.invalidate()
                self.connection.close()
                self.connection = None
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            os.close(self.handle)
            self.handle = None
