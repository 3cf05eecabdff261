"""Units of work that run SQLAlchemy Core statements straight on the database driver.

The bank's busiest transitions (accepting a renewal, registering the paper documents, approving
and issuing) are a few fixed Core statements each. Through a :class:`~sqlalchemy.orm.Session`
every one of them pays for the session's transaction bookkeeping, the compiled-cache lookup (a
cache key walked over the whole statement), parameter construction and a result object: about
0.25 ms of CPU per transaction and 0.08 ms per statement on PostgreSQL, where the driver itself
needs 0.06 and 0.04. Here each statement is compiled once per dialect by SQLAlchemy itself (the
same SQL text, the same bind and result processors) into a :class:`_Plan`, and a unit of work
then costs what the driver costs. On PostgreSQL even psycopg's cursor is left out (libpq's own
calls, see :class:`_Direct`), and statements that need not wait for each other's rows share a
round trip (:meth:`DriverUnit.execute_together`, :meth:`DriverUnit.execute_and_commit`).

Only statements whose shape does not depend on the values qualify: an ``IN`` over a list given
at execution (an "expanding" parameter) changes the SQL text with the list's length, and is
refused with :class:`UnsupportedStatement` when the plan is made. Driver errors come out as
SQLAlchemy's own exception classes (``IntegrityError`` with the driver's error as ``orig``), so
callers handle them as they would from a session.
"""

from __future__ import annotations

import functools
import itertools
import select
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Final, TypeAlias, cast

import psycopg
import psycopg.adapt
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


_IDLE: Final = psycopg.pq.TransactionStatus.IDLE
_COMMAND_OK: Final = psycopg.pq.ExecStatus.COMMAND_OK
_TUPLES_OK: Final = psycopg.pq.ExecStatus.TUPLES_OK
_SYNCED: Final = psycopg.pq.ExecStatus.PIPELINE_SYNC
_BAD: Final = psycopg.pq.ConnStatus.BAD
_UNKNOWN_STATEMENT: Final = "26000"  # invalid_sql_statement_name: the server forgot a name
_names: Final = itertools.count(1)


def _encoded(values: Sequence[Any]) -> tuple[list[bytes | None], list[int]] | None:
    """The values as libpq sends them: text, but ``bytes`` in binary (no escaping), the server
    inferring every type from the statement (SQLAlchemy casts the parameters it must). None for
    a value of any other type, or a string with a NUL (libpq would cut a text value there): the
    psycopg cursor then sends the statement, and refuses what it must."""
    out: list[bytes | None] = []
    formats: list[int] = []
    for value in values:
        kind = type(value)
        binary = 0
        if value is None:
            out.append(None)
        elif isinstance(value, str):
            # StrEnum members too (statuses, roles, actions): their value, as psycopg sends it.
            encoded = str.encode(value)
            if b"\x00" in encoded:
                return None
            out.append(encoded)
        elif kind is bool:
            out.append(b"t" if value else b"f")
        elif isinstance(value, int):  # an IntEnum member as its value too
            out.append(int.__repr__(value).encode())
        elif kind is bytes:
            out.append(value)
            binary = 1
        elif kind is datetime and value.tzinfo is None:
            # Naive only: an aware one sent as text into a timestamp without time zone would
            # lose its offset, where psycopg converts it in the session's zone.
            out.append(value.isoformat(" ").encode())
        elif kind is date:
            out.append(value.isoformat().encode())
        else:
            return None
        formats.append(binary)
    return out, formats


def _wait(fd: int, events: int) -> None:
    # poll, not select: a busy server's sockets get descriptors past select's limit of 1024.
    poller = select.poll()
    poller.register(fd, events)
    poller.poll()


class _Direct:
    """PostgreSQL: a connection's statements sent with libpq's own calls (prepared once, then
    executed by name, the GIL released while waiting), the rows read by psycopg's C loaders.

    psycopg's cursor costs 16-19 us of Python more per statement on the 2-core test machine, and
    each round trip costs both sides a wake-up across cores (there, about 30 us of CPU each on
    loopback TCP). So the BEGIN goes with a unit's first statements and the COMMIT with its last
    one (libpq's pipeline), and a renewal takes 9 round trips where it took 17.

    psycopg is told not to prepare on this connection: it deallocates all statements when it
    sees a ROLLBACK while holding some of its own, which would take ours too. A rollback forgets
    this object (see ``DriverUnit``), and so does an error naming an unknown statement: the next
    unit prepares again, under new names."""

    __slots__ = ("connection", "encoding", "names", "pgconn", "threshold", "transformer")

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection
        self.pgconn = connection.pgconn
        self.names: dict[str, bytes] = {}
        self.transformer = psycopg.adapt.Transformer(connection)
        self.encoding = connection.info.encoding
        self.threshold = connection.prepare_threshold
        connection.prepare_threshold = None

    @staticmethod
    def suits(connection: Any) -> bool:
        # Isolation level and access mode as the server's defaults: a plain BEGIN starts the
        # transaction psycopg would have started.
        return (
            isinstance(connection, psycopg.Connection)
            and connection.isolation_level is None
            and connection.read_only is None
            and connection.deferrable is None
        )

    def run(
        self, statements: Sequence[tuple[str, Sequence[Any]]], *, commit: bool = False
    ) -> list[list[Any]] | None:
        """Each statement's rows (an empty list when it returns none), or None if psycopg's
        cursor must send one of them (see ``_encoded``). The statements go in one round trip,
        with the BEGIN that starts the transaction, their first preparation, and with
        ``commit`` the COMMIT after them. On an error, the first one's is raised."""
        sends: list[tuple[bytes, str | None, Sequence[bytes], Sequence[int]]] = []
        for sql, values in statements:
            encoded = _encoded(values)
            if encoded is None:
                return None
            name = self.names.get(sql)
            fresh = name is None
            if name is None:
                name = f"bankkeys_{next(_names)}".encode()
            # None is sent as NULL (psycopg's annotation leaves it out).
            params = cast(Sequence[bytes], encoded[0])
            sends.append((name, sql if fresh else None, params, encoded[1]))
        pgconn = self.pgconn
        begin = pgconn.transaction_status == _IDLE and not self.connection.autocommit
        if len(sends) == 1 and not begin and not commit and sends[0][1] is None:
            name, _sql, params, formats = sends[0]
            results = [self._check(pgconn.exec_prepared(name, params, formats, 0))]
        else:
            it = iter(self._pipeline(begin, sends, commit))
            if begin:
                self._check(next(it))
            results = []
            for name, prepared, _params, _formats in sends:
                if prepared is not None:
                    self._check(next(it))
                    self.names[prepared] = name
                results.append(self._check(next(it)))
            if commit:
                self._check(next(it))
        return [self._rows(result) for result in results]

    def _rows(self, result: Any) -> list[Any]:
        if result.status != _TUPLES_OK or not result.ntuples:
            return []
        transformer = self.transformer
        transformer.set_pgresult(result)
        rows = transformer.load_rows(0, result.ntuples, tuple)
        transformer.set_pgresult(None)
        return rows

    def _pipeline(
        self,
        begin: bool,
        sends: Sequence[tuple[bytes, str | None, Sequence[bytes], Sequence[int]]],
        commit: bool,
    ) -> list[Any]:
        """libpq's pipeline: the queries sent together, then one result per query."""
        pgconn = self.pgconn
        pgconn.enter_pipeline_mode()
        try:
            if begin:
                # Isolation level and access mode as the server's defaults (``suits``).
                pgconn.send_query_params(b"BEGIN", None)
            for name, sql, params, formats in sends:
                if sql is not None:
                    pgconn.send_prepare(name, sql.encode(), None)
                pgconn.send_query_prepared(name, params, formats, 0)
            if commit:
                pgconn.send_query_params(b"COMMIT", None)
            pgconn.pipeline_sync()
            while pgconn.flush():  # the connection is non-blocking: wait until it is all sent
                _wait(pgconn.socket, select.POLLIN | select.POLLOUT)
                pgconn.consume_input()
            results = []
            queries = begin + sum(1 + (sql is not None) for _n, sql, _p, _f in sends) + commit
            for _query in range(queries):
                result = self._next_result()
                if result is None or self._next_result() is not None:
                    raise self._lost("a result is missing")
                results.append(result)
            synced = self._next_result()
            if synced is None or synced.status != _SYNCED:
                raise self._lost("the pipeline did not end")
            pgconn.exit_pipeline_mode()
        except BaseException:
            # Half-read results cannot be told apart from the next unit's: the connection ends
            # here (the pool replaces it).
            pgconn.finish()
            raise
        return results

    def _next_result(self) -> Any:
        # psycopg's get_result keeps the GIL while libpq waits (a lock wait would stop every
        # thread of the process): wait in poll, which lets it go.
        pgconn = self.pgconn
        while pgconn.is_busy():
            _wait(pgconn.socket, select.POLLIN)
            pgconn.consume_input()
        return pgconn.get_result()

    def _lost(self, what: str) -> psycopg.OperationalError:
        return psycopg.OperationalError(f"PostgreSQL connection lost: {what}")

    def commit(self) -> None:
        if self.pgconn.transaction_status != _IDLE:
            self._check(self.pgconn.exec_(b"COMMIT"))

    def _check(self, result: Any) -> Any:
        if result.status in (_COMMAND_OK, _TUPLES_OK):
            return result
        error = psycopg.errors.error_from_result(result, encoding=self.encoding)
        if error.sqlstate == _UNKNOWN_STATEMENT:
            self.names.clear()
        if self.pgconn.status == _BAD and not isinstance(error, psycopg.OperationalError):
            # The link is gone (the result has no SQLSTATE): reported as psycopg's own calls
            # report it, so that the pool knows to replace the connection.
            raise psycopg.OperationalError(str(error)) from error
        raise error

    def forget(self) -> None:
        """Give psycopg back its preparing (the names prepared here stay on the server, unused,
        until the connection ends)."""
        self.connection.prepare_threshold = self.threshold
        self.names.clear()


class Kept:
    """What a driver connection keeps from one unit to the next."""

    __slots__ = ("cursor", "direct")

    def __init__(self) -> None:
        self.cursor: Any = None
        self.direct: _Direct | None = None

    def close(self) -> None:
        if self.cursor is not None:
            self.cursor.close()
            self.cursor = None
        if self.direct is not None:
            self.direct.forget()
            self.direct = None


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

    def __init__(self, engine: Engine, dbapi_connection: Any, kept: Kept | None = None) -> None:
        self.engine = engine
        self.dialect: Dialect = engine.dialect
        self.info: dict[str, Any] = {}
        self._dbapi = dbapi_connection
        # A previous unit's on this connection, or made here.
        self._kept = kept if kept is not None else Kept()
        if self._kept.direct is None and _Direct.suits(dbapi_connection):
            self._kept.direct = _Direct(dbapi_connection)
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
        if parameters is None or isinstance(parameters, Mapping):
            return self._run([(statement, parameters or {})], commit=False)[0]
        if not parameters:
            return Rows([])
        plan = _plan(statement, self._compiler, tuple(sorted(parameters[0])))
        kept = self._kept
        with self._reported(lambda: plan.sql):
            if kept.cursor is None:
                kept.cursor = _raw_cursor(self._dbapi)
            kept.cursor.executemany(plan.sql, [plan.parameters(p) for p in parameters])
        return Rows([])

    def execute_and_commit(self, statement: Any, parameters: Mapping[str, Any]) -> Rows:
        """The unit's last statement, and its commit: on PostgreSQL in one round trip."""
        return self._run([(statement, parameters)], commit=True)[0]

    def execute_together(self, statements: Sequence[tuple[Any, Mapping[str, Any]]]) -> list[Rows]:
        """Statements whose parameters do not come from each other's rows, run in order: on
        PostgreSQL in one round trip. Each runs when the one before has ended, and (read
        committed) sees what was committed by then, as if sent alone: a read after a row lock
        sees the commits that the lock waited for."""
        return self._run(statements, commit=False)

    def _run(
        self, statements: Sequence[tuple[Any, Mapping[str, Any]]], *, commit: bool
    ) -> list[Rows]:
        plans: list[tuple[_Plan, Any]] = []
        # The statements an error belongs to, their SQL joined only if one is raised.
        in_flight: Sequence[_Plan] = ()
        with self._reported(lambda: "; ".join(plan.sql for plan in in_flight)):
            for statement, parameters in statements:
                plan = _plan(statement, self._compiler, tuple(sorted(parameters)))
                in_flight = (plan,)
                plans.append((plan, plan.parameters(parameters)))
            in_flight = [plan for plan, _values in plans]
            direct = self._kept.direct
            sent = (
                direct.run([(plan.sql, values) for plan, values in plans], commit=commit)
                if direct is not None
                else None
            )
            if sent is None:
                sent = []
                for plan, values in plans:
                    in_flight = (plan,)
                    sent.append(list(self._through_cursor(plan, values)))
                if commit:
                    self.commit()
        return [
            Rows([]) if plan.row is None and not plan.textual else Rows(plan.rows(rows))
            for (plan, _values), rows in zip(plans, sent, strict=True)
        ]

    @contextmanager
    def _reported(self, sql: Callable[[], str]) -> Iterator[None]:
        """Driver errors as SQLAlchemy's (``IntegrityError`` with the driver's as ``orig``),
        naming the SQL that ``sql`` gives."""
        try:
            yield
        except KeyError as missing:
            raise DBAPIError.instance(
                sql(),
                None,
                ValueError(f"A value is required for bind parameter {missing.args[0]!r}"),
                ValueError,
            ) from None
        except self.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                sql(), None, exc, self.dialect.loaded_dbapi.Error, dialect=self.dialect
            ) from exc

    def _through_cursor(self, plan: _Plan, values: Any) -> Sequence[Sequence[Any]]:
        kept = self._kept
        if kept.cursor is None:
            kept.cursor = _raw_cursor(self._dbapi)
        cursor = kept.cursor
        cursor.execute(plan.sql, values)
        # Core statements declare their columns; textual SQL is asked (psycopg builds the
        # whole description for that, a cost the declared ones skip).
        if plan.row is None and (not plan.textual or cursor.description is None):
            return []
        return cast(Sequence[Sequence[Any]], cursor.fetchall())

    def commit(self) -> None:
        direct = self._kept.direct
        if direct is not None:
            direct.commit()
        else:
            self._dbapi.commit()

    def release(self) -> Kept:
        """What the connection's next unit takes over (this unit's results were read in full)."""
        kept, self._kept = self._kept, Kept()
        return kept

    def close(self) -> None:
        """After a failure: the cursor closed, the prepared names forgotten (a rollback may
        have made psycopg deallocate them)."""
        self._kept.close()


BEGIN: Final[Mapping[str, TextClause | None]] = {
    # SQLite: take the write lock up front, as every read-write unit of the bank does (db.py).
    "sqlite": text("BEGIN IMMEDIATE"),
    # psycopg begins a transaction itself at the first statement.
    "postgresql": None,
}


# What a transition reads and writes through: an ORM session, or a unit on the driver.
Unit: TypeAlias = Session | DriverUnit
