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


#: Where the pool keeps a connection's cursor (its record's info, cleared when the driver connection is
#: replaced): a new psycopg cursor looks up the dumpers of every parameter type again, which costs more
#: than the cursor itself.
_CURSOR = "audit.driver.cursor"


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

    def rows(
        self, connection: Connection, parameters: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """All rows, on the driver connection of ``connection``, in whatever transaction it is in.

        A driver error is raised as SQLAlchemy's DBAPIError, without the parameters (they may hold
        evidence or a token's hash); a connection the driver reports lost is invalidated.
        """
        dialect = connection.dialect
        compiled = self._for(dialect)
        arguments = self._parameters(compiled, parameters or {})
        pooled = connection.connection
        cursor = pooled.info.get(_CURSOR)
        if cursor is None or getattr(cursor, "closed", False):
            cursor = pooled.info[_CURSOR] = pooled.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, arguments)
            rows = cursor.fetchall()
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, pooled.dbapi_connection, cursor)
            wrapped = DBAPIError.instance(
                compiled.sql,
                arguments,
                error,
                dialect.loaded_dbapi.Error,
                hide_parameters=True,
                connection_invalidated=lost,
                dialect=dialect,
            )
            if lost:
                connection.invalidate(error)
            raise wrapped from error
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
