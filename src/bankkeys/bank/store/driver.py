"""Units of work that run SQLAlchemy Core statements straight on the database driver.

The bank's busiest transitions (accepting a renewal, registering the paper documents, approving
and issuing) are a few fixed Core statements each. Through a :class:`~sqlalchemy.orm.Session`
every one of them pays for the session's transaction bookkeeping, the compiled-cache lookup (a
cache key walked over the whole statement), parameter construction and a result object: about
0.25 ms of CPU per transaction and 0.08 ms per statement on PostgreSQL, where the driver itself
needs 0.06 and 0.04. Here each statement is compiled once per dialect by SQLAlchemy itself (the
same SQL text, the same bind and result processors) into a :class:`_Plan`, and a unit of work
then costs what the driver costs.

Only statements whose shape does not depend on the values qualify: an ``IN`` over a list given
at execution (an "expanding" parameter) changes the SQL text with the list's length, and is
refused with :class:`UnsupportedStatement` when the plan is made. Driver errors come out as
SQLAlchemy's own exception classes (``IntegrityError`` with the driver's error as ``orig``), so
callers handle them as they would from a session.
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final, TypeAlias, cast

import psycopg
from sqlalchemy import Engine, TextClause, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]


class UnsupportedStatement(TypeError):
    """A statement whose SQL text depends on the values it is executed with."""


class _Plan:
    """One statement compiled for one dialect and one set of parameter names."""

    __slots__ = (
        "bind",
        "fixed",
        "names",
        "positional",
        "result",
        "row",
        "sql",
        "steps",
        "textual",
    )

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=list(keys)))
        given = {
            bind.key: None for bind in compiled.binds.values() if bind.required or bind.key in keys
        }
        for bind in compiled.binds.values():
            if bind.expanding and bind.key in given:
                raise UnsupportedStatement(
                    f"parameter {bind.key!r} expands to a list given at execution: "
                    "the SQL text would change with its length"
                )
        # The literal lists of ``IN`` are expanded here, once: their values are the statement's.
        expanded = compiled.construct_expanded_state(given)
        self.sql: str = expanded.statement
        # The statement's own values (literals, expanded lists); every other name is the caller's.
        self.fixed: dict[str, Any] = {
            name: value for name, value in expanded.parameters.items() if name not in given
        }
        self.positional = expanded.positiontup is not None
        self.names: tuple[str, ...] = tuple(
            expanded.positiontup if expanded.positiontup is not None else expanded.parameters
        )
        self.bind: dict[str, Processor] = {}
        for name in set(self.names):
            owner = compiled.binds.get(name)
            processor = expanded.processors.get(name)
            if processor is None and owner is not None:
                processor = owner.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.bind[name] = processor
        # Each parameter in the driver's order with its bind processor: one pass per execution.
        self.steps: tuple[tuple[str, Processor | None], ...] = tuple(
            (name, self.bind.get(name)) for name in self.names
        )
        self.textual = isinstance(statement, TextClause)
        columns = list(getattr(statement, "exported_columns", ()))
        self.row: Any = (
            namedtuple("Row", [c.key for c in columns], rename=True) if columns else None
        )
        self.result: tuple[Processor | None, ...] = tuple(
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        )

    def parameters(self, given: Mapping[str, Any]) -> Any:
        # A name neither given nor the statement's own raises KeyError: reported as SQLAlchemy
        # reports it ("A value is required for bind parameter").
        source = {**self.fixed, **given} if self.fixed else given
        values = [
            value if processor is None else processor(value)
            for name, processor in self.steps
            for value in (source[name],)
        ]
        if self.positional:
            return tuple(values)
        return dict(zip(self.names, values, strict=True))

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        if self.row is None:  # textual SQL: no declared columns, the driver's tuples
            return [tuple(r) for r in raw]
        processors = self.result
        if not any(processors):
            return [self.row._make(r) for r in raw]
        return [
            self.row._make(
                [p(v) if p is not None else v for p, v in zip(processors, r, strict=True)]
            )
            for r in raw
        ]


@functools.lru_cache(maxsize=512)
def _plan(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> _Plan:
    return _Plan(statement, dialect, keys)


@functools.cache
def _compiling_dialect(dialect: Dialect) -> Dialect:
    """PostgreSQL: the same dialect with ``$1`` placeholders, which psycopg's raw cursor sends
    as they are (its default cursor rewrites ``%(name)s`` into them at every execution)."""
    if dialect.driver == "psycopg":
        variant: Any = cast(Any, type(dialect))(paramstyle="numeric_dollar")
        variant.server_version_info = dialect.server_version_info
        return cast(Dialect, variant)
    return dialect


def _raw_cursor(dbapi_connection: Any) -> Any:
    if isinstance(dbapi_connection, psycopg.Connection):
        return psycopg.RawCursor(dbapi_connection)
    return dbapi_connection.cursor()


class Rows:
    """A statement's rows, read in full (the busiest statements return one row or a few)."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def first(self) -> Any | None:
        return self._rows[0] if self._rows else None

    def all(self) -> list[Any]:
        return list(self._rows)

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise LookupError(f"expected exactly one row, got {len(self._rows)}")
        return self._rows[0][0]

    def scalars(self) -> Rows:
        return Rows([row[0] for row in self._rows])


class DriverUnit:
    """One transaction on one pooled driver connection (see the module's notes). It offers
    what the transitions use of a session: :meth:`connection` (itself), :meth:`execute`,
    ``info`` for work queued until the commit, and ``dialect``."""

    def __init__(self, engine: Engine, dbapi_connection: Any, cursor: Any = None) -> None:
        self.engine = engine
        self.dialect: Dialect = engine.dialect
        self.info: dict[str, Any] = {}
        self._dbapi = dbapi_connection
        self._cursor: Any = cursor  # a previous unit's on this connection, or made when needed
        self._compiler = _compiling_dialect(self.dialect)

    def connection(self) -> DriverUnit:
        return self

    def get_bind(self) -> Engine:
        return self.engine

    def execute(
        self,
        statement: Any,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    ) -> Rows:
        batch: Sequence[Mapping[str, Any]]
        if parameters is None or isinstance(parameters, Mapping):
            many, batch = False, [parameters or {}]
        else:
            many, batch = True, parameters
        if not batch:
            return Rows([])
        plan = _plan(statement, self._compiler, tuple(sorted(batch[0])))
        if self._cursor is None:
            self._cursor = _raw_cursor(self._dbapi)
        cursor = self._cursor
        try:
            if many:
                cursor.executemany(plan.sql, [plan.parameters(p) for p in batch])
                return Rows([])
            cursor.execute(plan.sql, plan.parameters(batch[0]))
            # Core statements declare their columns; textual SQL is asked (psycopg builds the
            # whole description for that, a cost the declared ones skip).
            if plan.row is None and (not plan.textual or cursor.description is None):
                return Rows([])
            return Rows(plan.rows(cursor.fetchall()))
        except KeyError as missing:
            raise DBAPIError.instance(
                plan.sql,
                None,
                ValueError(f"A value is required for bind parameter {missing.args[0]!r}"),
                ValueError,
            ) from None
        except self.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                plan.sql, None, exc, self.dialect.loaded_dbapi.Error, dialect=self.dialect
            ) from exc

    def release(self) -> Any:
        """The cursor, for the connection's next unit (its results were read in full)."""
        cursor, self._cursor = self._cursor, None
        return cursor

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None


BEGIN: Final[Mapping[str, TextClause | None]] = {
    # SQLite: take the write lock up front, as every read-write unit of the bank does (db.py).
    "sqlite": text("BEGIN IMMEDIATE"),
    # psycopg begins a transaction itself at the first statement.
    "postgresql": None,
}


# What a transition reads and writes through: an ORM session, or a unit on the driver.
Unit: TypeAlias = Session | DriverUnit
