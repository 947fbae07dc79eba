"""Fixtures for the audit library's tests: a fresh database per test (SQLite, or PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, create_engine, event, text

from audit.checkpoint import Signer
from audit.store import AuditStore, AuditTables, define_tables, install_triggers

PG_URL = os.environ.get("DECOY_TEST_DATABASE_URL", "")
SEED = bytes(range(32))


def sqlite_engine(path: Path, **options: Any) -> Engine:
    """Return an engine with the SQLite recipe the store needs: WAL, BEGIN IMMEDIATE, busy timeout."""
    engine = create_engine(
        f"sqlite:///{path}", connect_args={"isolation_level": None, "timeout": 30}, **options
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # An AUTOCOMMIT connection (a verification worker's reader) has no transaction to begin.
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def postgresql_engine(url: str, schema: str, **options: Any) -> Engine:
    """Return an engine whose connections work in ``schema`` only."""
    return create_engine(url, connect_args={"options": f"-csearch_path={schema}"}, **options)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A database of its own for each test."""
    if not PG_URL:
        engine = sqlite_engine(tmp_path / "audit.db", pool_size=40, max_overflow=0)
        yield engine
        engine.dispose()
        return
    schema = f"audit_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = postgresql_engine(PG_URL, schema, pool_size=40, max_overflow=0)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def tables(engine: Engine) -> AuditTables:
    """The audit tables, created with their triggers and head row."""
    metadata = MetaData()
    audit_tables = define_tables(metadata)
    metadata.create_all(engine)
    with engine.begin() as connection:
        install_triggers(connection)
    return audit_tables


@pytest.fixture
def store(tables: AuditTables) -> AuditStore:
    """An AuditStore on the test database."""
    return AuditStore(tables)


@pytest.fixture
def signer() -> Signer:
    """A signer with a fixed key."""
    return Signer("decoy.example/audit", SEED)
