"""DriverStatement: Core statements on the driver's cursor, converted and wrapped as SQLAlchemy does."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.types import TypeDecorator

from audit.driver import DriverStatement

PG_URL = os.environ.get("DECOY_TEST_DATABASE_URL", "")


class Marked(TypeDecorator[str]):
    """A type whose conversions show: stored with a prefix, read back without it."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else f"stored:{value}"

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else value.removeprefix("stored:").upper()


class Utc(TypeDecorator[datetime]):
    """An aware UTC timestamp on both databases (SQLite keeps it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()
thing = Table(
    "driver_thing",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("label", Marked, nullable=False),
    Column("seen_at", Utc, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("blob", LargeBinary, nullable=False),
)
MOMENT = datetime(2026, 11, 29, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
ROW = {"label": "alpha", "seen_at": MOMENT, "tags": ["in", "out"], "active": True, "blob": b"\x00\xff"}
INSERT = DriverStatement(
    insert(thing).values({name: bindparam(name) for name in ROW}).returning(thing.c.id, thing.c.label)
)
BY_ID = select(thing).where(thing.c.id == bindparam("id"))


@pytest.fixture
def tables(engine: Engine) -> Engine:
    metadata.create_all(engine)
    return engine


def test_rows_equal_sqlalchemy_own_results_both_ways(tables: Engine):
    with tables.begin() as connection:
        ((new_id, label),) = INSERT.rows(connection, ROW)
        assert label == "ALPHA"  # the result conversion ran on RETURNING
        # What the driver wrote reads back through SQLAlchemy as what SQLAlchemy would have written.
        through_core = connection.execute(BY_ID, {"id": new_id}).one()
        assert tuple(through_core) == (new_id, "ALPHA", MOMENT, ["in", "out"], True, b"\x00\xff")
        assert through_core.seen_at.tzinfo is UTC
        stored = connection.execute(text("SELECT label FROM driver_thing")).scalar_one()
        assert stored == "stored:alpha"
        assert DriverStatement(BY_ID).rows(connection, {"id": new_id}) == [tuple(through_core)]


def test_fixed_values_in_the_statement_are_sent_and_can_be_given(tables: Engine):
    statement = DriverStatement(select(literal(7, Integer) + bindparam("step", 1, type_=Integer)))
    with tables.connect() as connection:
        assert statement.rows(connection) == [(8,)]
        assert statement.rows(connection, {"step": 5}) == [(12,)]


def test_a_missing_parameter_is_named():
    statement = DriverStatement(select(thing.c.id).where(thing.c.id == bindparam("wanted")))
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.connect() as connection, pytest.raises(KeyError, match="wanted"):
        statement.rows(connection, {"other": 1})


def test_expanding_parameters_are_refused_when_compiled(tables: Engine):
    statement = DriverStatement(select(thing.c.id).where(thing.c.id.in_(bindparam("ids", expanding=True))))
    with tables.connect() as connection, pytest.raises(ValueError, match="ids"):
        statement.rows(connection, {"ids": [1, 2]})


def test_driver_errors_are_raised_as_sqlalchemy_wraps_them(tables: Engine):
    duplicate = DriverStatement(
        insert(thing).values({"id": bindparam("id"), **{n: bindparam(n) for n in ROW}}).returning(thing.c.id)
    )
    with tables.begin() as connection:
        duplicate.rows(connection, {"id": 1, **ROW})
    with tables.begin() as connection:
        with pytest.raises(IntegrityError) as raised:
            duplicate.rows(connection, {"id": 1, **ROW})
        assert "driver_thing" in str(raised.value.statement)
        assert not raised.value.connection_invalidated
    with tables.connect() as connection:
        assert connection.execute(select(func.count()).select_from(thing)).scalar_one() == 1


@pytest.mark.skipif(
    not PG_URL, reason="a lost connection is simulated with PostgreSQL's pg_terminate_backend"
)
def test_a_lost_connection_is_invalidated(tables: Engine):
    with tables.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        connection.commit()
        with tables.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        with pytest.raises(DBAPIError) as raised:
            DriverStatement(BY_ID).rows(connection, {"id": 1})
        assert raised.value.connection_invalidated
        assert connection.invalidated
