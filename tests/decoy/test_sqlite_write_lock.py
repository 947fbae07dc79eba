"""SQLite writers wait for the write lock in short steps, not in SQLite's own long sleeps."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from decoy import db


def _engine(tmp_path: Path) -> Engine:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
    return engine


def test_a_writer_takes_the_lock_soon_after_it_is_released(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    held = threading.Event()
    released_at: list[float] = []

    def holder() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO item (body) VALUES ('hello, how are you')"))
            held.set()
            time.sleep(0.35)
            released_at.append(time.monotonic())

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(5)
    with engine.begin() as connection:
        acquired = time.monotonic()
        connection.execute(text("INSERT INTO item (body) VALUES ('fine, thanks')"))
    thread.join()
    # SQLite's busy handler would be sleeping 100 ms at a time by now; this waits at most 2 ms (and the
    # commit of the holder, a few ms, lies in between).
    assert 0 <= acquired - released_at[0] < 0.05
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM item")).scalar_one() == 2
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 30_000
    engine.dispose()


def test_a_writer_gives_up_after_the_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _engine(tmp_path)
    monkeypatch.setattr(db, "WRITE_LOCK_TIMEOUT", 0.2)
    blocker = sqlite3.connect(tmp_path / "lock.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"), engine.begin() as connection:
            connection.execute(text("INSERT INTO item (body) VALUES ('hello')"))
        assert 0.2 <= time.monotonic() - started < 2
    finally:
        blocker.rollback()
        blocker.close()
    with engine.begin() as connection:  # the lock is free again, and nothing was written
        assert connection.execute(text("SELECT count(*) FROM item")).scalar_one() == 0
    engine.dispose()
