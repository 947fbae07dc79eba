"""Core statements run on the database driver's own cursor.

On a hot path (an append, a token check, the read before recording a message) SQLAlchemy's execution
machinery costs more than the database's own work. A DriverStatement is compiled once per dialect and
run on the driver's cursor; its parameters are converted by the bound columns' types and its rows by
the selected columns' types, as SQLAlchemy converts them, and a driver error is raised as SQLAlchemy's
wrapper of it (DBAPIError and its subclasses), so that callers handle both alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import ReturnsRows

__all__ = ["DriverStatement"]

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Bind:
    """One bound parameter: its name in the SQL, the key it is given by, a fixed value, a conversion."""

    name: str
    key: str
    value: Any
    fixed: bool
    convert: _Processor


@dataclass(frozen=True)
class _Compiled:
    sql: str
    binds: tuple[_Bind, ...]
    #: The order of the parameters for a positional driver (SQLite), None for named ones (psycopg).
    order: tuple[str, ...] | None
    converters: tuple[_Processor, ...]


#: One cursor per driver connection, kept while the connection lives: a new psycopg cursor looks up
#: the dumpers of every parameter type again, which costs more than the cursor itself. (sqlite3's
#: connections take no weak references: they get a cursor per statement.)
_cursors: WeakKeyDictionary[Any, Any] = WeakKeyDictionary()


def _kept_cursor(dbapi_connection: Any) -> Any | None:
    try:
        cursor = _cursors.get(dbapi_connection)
        if cursor is None or cursor.closed:
            cursor = _cursors[dbapi_connection] = dbapi_connection.cursor()
    except TypeError:
        return None
    return cursor


class DriverStatement:
    """A SELECT or INSERT .. RETURNING, run on the driver's cursor of a connection."""

    def __init__(self, statement: ReturnsRows) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        if getattr(compiled, "escaped_bind_names", None):
            raise ValueError("bound parameter names that need escaping are not supported")
        binds = []
        for bind, name in compiled.bind_names.items():  # type: ignore[attr-defined]
            if bind.expanding or bind.callable is not None:
                raise ValueError(f"parameter {bind.key!r}: expanding and callable values are not supported")
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            binds.append(_Bind(name, bind.key, bind.value, not bind.required, convert))
        order = tuple(compiled.positiontup) if compiled.positional else None  # type: ignore[attr-defined]
        converters = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in self.statement.exported_columns
        )
        return _Compiled(compiled.string, tuple(binds), order, converters)

    def _parameters(self, compiled: _Compiled, given: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values: dict[str, Any] = {}
        for bind in compiled.binds:
            if bind.key in given:
                value = given[bind.key]
            elif bind.fixed:
                value = bind.value
            else:
                raise KeyError(f"a value is required for the parameter {bind.key!r}")
            values[bind.name] = value if bind.convert is None else bind.convert(value)
        if compiled.order is None:
            return values
        return [values[name] for name in compiled.order]

    def run(
        self, dbapi_connection: Any, dialect: Dialect, parameters: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """All rows, on ``dbapi_connection`` in whatever transaction it is in.

        A driver error is raised as SQLAlchemy's DBAPIError (connection_invalidated if the driver
        reports the connection lost; the caller then discards the connection).
        """
        compiled = self._for(dialect)
        arguments = self._parameters(compiled, parameters or {})
        kept = _kept_cursor(dbapi_connection)
        cursor = dbapi_connection.cursor() if kept is None else kept
        try:
            cursor.execute(compiled.sql, arguments)
            rows = cursor.fetchall()
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, dbapi_connection, cursor)
            raise DBAPIError.instance(
                compiled.sql,
                arguments,
                error,
                dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=dialect,
            ) from error
        finally:
            if kept is None:
                cursor.close()
        converters = compiled.converters
        if not any(converters):
            return [tuple(row) for row in rows]
        return [
            tuple(
                value if convert is None else convert(value)
                for convert, value in zip(converters, row, strict=True)
            )
            for row in rows
        ]

    def rows(
        self, connection: Connection, parameters: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """All rows, in the transaction of ``connection`` (a lost connection is invalidated)."""
        try:
            return self.run(connection.connection.dbapi_connection, connection.dialect, parameters)
        except DBAPIError as error:
            if error.connection_invalidated:
                connection.invalidate(error.orig)  # type: ignore[arg-type]
            raise
