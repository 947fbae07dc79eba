"""One engine per application, one Session per request, and the UTC column type."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine, create_engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that always comes back as an aware UTC datetime.

    SQLite keeps no zone, so naive values are read back as UTC; PostgreSQL keeps
    ``timestamptz``. Naive values are refused on the way in, so that no local time
    is ever stored by mistake.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Convert to UTC before storing; refuse naive datetimes."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Return an aware UTC datetime."""
        return as_utc(value)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite gives naive UTC back, PostgreSQL aware)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


#: How long a writer waits for SQLite's write lock (also SQLite's own busy timeout, in ms, below).
WRITE_LOCK_TIMEOUT = 30.0
_FIRST_WAIT, _LONGEST_WAIT = 0.0002, 0.002


def begin_writing(dbapi_connection: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE on SQLite, waiting for the write lock in short steps.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 and up to 100 ms between tries, so under
    steady contention a writer often sleeps on long after the lock was released, and the database idles.
    Here the lock is tried every 0.2 ms at first, then less often, up to every 2 ms, for at most
    WRITE_LOCK_TIMEOUT seconds, with SQLite's busy handler off meanwhile (on again for every other
    statement).
    """
    deadline = time.monotonic() + WRITE_LOCK_TIMEOUT
    wait = _FIRST_WAIT
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                # Any busy code (SQLITE_BUSY and its extended forms, such as BUSY_RECOVERY) waits.
                busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() >= deadline:
                    # As SQLAlchemy wraps the errors of the statements it runs (a 503 in the app).
                    raise OperationalError("BEGIN IMMEDIATE", (), error) from error
            time.sleep(wait)
            wait = min(wait * 1.5, _LONGEST_WAIT)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(WRITE_LOCK_TIMEOUT * 1000)}")


def make_engine(url: str) -> Engine:
    """Create the engine with the settings evidence needs (durable commits, serialised writers)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"isolation_level": None, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Removed content (a disposal's emptied texts) is overwritten in the file, not left in free space.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(WRITE_LOCK_TIMEOUT * 1000)}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            # Every transaction takes the write lock up front, so that the audit log's
            # head row cannot be read stale and appends are serialised. A read-only
            # snapshot (exports, token checks) begins deferred so that it never blocks writers;
            # an AUTOCOMMIT connection (a verification worker's reads) begins none.
            options = connection.get_execution_options()
            if options.get("isolation_level") == "AUTOCOMMIT":
                return
            if options.get("decoy_snapshot"):
                connection.exec_driver_sql("BEGIN")
            else:
                begin_writing(connection.connection.dbapi_connection)

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def init_app(app: Flask) -> None:
    """Bind the engine to the application and close each request's session on teardown."""
    app.extensions["decoy.engine"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> Engine:
    """Return the application's engine."""
    return (app or current_app).extensions["decoy.engine"]  # type: ignore[no-any-return]


def get_session() -> Session:
    """Return the Session of the current request or application context."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session  # type: ignore[no-any-return]


def before_reading_body(session: Session) -> None:
    """End the session's transaction on SQLite before a request body is read.

    On SQLite every writing transaction holds the single write lock from its first statement; a slow
    client sending a large body must not hold it (every other writer would wait). Reads done so far (the
    access check) are repeated by the service in the transaction that writes.
    """
    if session.get_bind().dialect.name == "sqlite" and not session.new and not session.dirty:
        session.rollback()


@contextmanager
def session_scope(app: Flask | None = None) -> Iterator[Session]:
    """A Session for command-line and scheduler work: commits on success, rolls back on error."""
    with Session(get_engine(app), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def snapshot_session(app: Flask | None = None) -> Iterator[Session]:
    """A read-only Session on one consistent snapshot that does not block writers (exports)."""
    engine = get_engine(app)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection = connection.execution_options(decoy_snapshot=True)
        else:
            connection = connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        with Session(bind=connection, expire_on_commit=False) as session:
            try:
                yield session
            finally:
                session.rollback()


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.close()
        except DBAPIError as error:
            # A connection lost during the request: the pool has discarded it; the answer stands.
            current_app.logger.warning("database connection closed with an error: %s", error)
