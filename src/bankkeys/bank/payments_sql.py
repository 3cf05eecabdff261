"""Many rows through one statement at the driver's own ``executemany``, for the payment batches.

SQLAlchemy builds each row's parameters anew (the compiled statement's parameter map, every
type's conversion looked up again): for a batch of payments that cost as much as the database's
own work on the rows. Here the statement is compiled once per dialect and set of columns, and
each value goes through the same conversion SQLAlchemy would apply (the column type's
``bind_processor``, the UTC datetime decorator included), so the stored values are identical.

On a :class:`~bankkeys.bank.store.driver.DriverUnit` the unit runs the statement. Where the
SQL text does not carry the parameters' types (SQLite), the values are converted here, with
the repeated moments converted once, and the unit runs the same statement with untyped
parameters (nothing converted twice; the same SQL text). Where it does (PostgreSQL with
psycopg: ``$1::VARCHAR``), the unit converts them itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy import Connection, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import BindTyping
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert, UpdateBase
from sqlalchemy.types import UserDefinedType

from bankkeys.bank.store.driver import DriverUnit

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _DriverForm:
    sql: str
    names: tuple[str, ...]  # the parameters in the order the statement takes them
    processors: tuple[_Processor, ...]  # one per name
    positional: bool


_FORMS: dict[tuple[str, str, tuple[str, ...]], _DriverForm] = {}
_FORMS_LOCK = threading.Lock()


def _form(
    key: str, statement: UpdateBase, dialect: Dialect, columns: tuple[str, ...]
) -> _DriverForm:
    cache_key = (key, dialect.name, columns)
    with _FORMS_LOCK:
        found = _FORMS.get(cache_key)
    if found is not None:
        return found
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    assert isinstance(compiled, SQLCompiler)
    binds = compiled.binds
    names = tuple(compiled.positiontup or ()) if dialect.positional else tuple(binds)
    processors = tuple(
        binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    form = _DriverForm(compiled.string, names, processors, dialect.positional)
    with _FORMS_LOCK:
        _FORMS[cache_key] = form
    return form


class _Converted(UserDefinedType[Any]):
    """A parameter whose value was converted already: no conversion of its own. (An untyped
    parameter would not do: an INSERT gives it the column's type.)"""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        raise NotImplementedError("a parameter type, never a column's")


_UNTYPED: dict[tuple[str, tuple[str, ...]], Insert] = {}


def _untyped(key: str, statement: Insert, columns: tuple[str, ...]) -> Insert:
    """``statement`` with the columns' values as parameters of no type: no conversion at all."""
    found = _UNTYPED.get((key, columns))
    if found is None:
        found = statement.values({c: bindparam(c, type_=_Converted()) for c in columns})
        with _FORMS_LOCK:
            _UNTYPED[(key, columns)] = found
    return found


def execute_many(
    connection: Connection | DriverUnit,
    key: str,
    statement: UpdateBase,
    rows: Sequence[dict[str, Any]],
    *,
    columns: tuple[str, ...],
) -> None:
    """Run ``statement`` once per row (the driver's executemany). ``key`` names the statement
    for the cache; ``columns`` are the table columns the rows give (every row gives the same
    keys: the columns and any other bound parameter of the statement)."""
    if not rows:
        return
    if isinstance(connection, DriverUnit):
        _unit_many(connection, key, statement, rows, columns)
        return
    form = _form(key, statement, connection.dialect, columns)
    values = _converted(form, rows)
    params: list[Any] = (
        values if form.positional else [dict(zip(form.names, v, strict=True)) for v in values]
    )
    connection.exec_driver_sql(form.sql, params)


def _unit_many(
    unit: DriverUnit,
    key: str,
    statement: UpdateBase,
    rows: Sequence[dict[str, Any]],
    columns: tuple[str, ...],
) -> None:
    dialect = unit.dialect
    if dialect.bind_typing is BindTyping.RENDER_CASTS or not isinstance(statement, Insert):
        unit.execute(statement, rows)
        return
    form = _form(key, statement, dialect, columns)
    # Only the columns that have a conversion are converted here; any other parameter (a
    # subquery's) is the unit's to convert.
    todo: list[tuple[str, Callable[[Any], Any], dict[Any, Any]]] = [
        (name, convert, {})
        for name, convert in zip(form.names, form.processors, strict=True)
        if convert is not None and name in columns
    ]
    converted: list[dict[str, Any]] = []
    for row in rows:
        values = dict(row)
        for name, convert, seen in todo:
            values[name] = _value(row[name], convert, seen)
        converted.append(values)
    unit.execute(_untyped(key, statement, columns), converted)


def _converted(form: _DriverForm, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    # A batch repeats the same moments (its receipt time in every row, a signer's signing
    # time): each distinct date or time is converted once per call, not once per row.
    converted: list[dict[Any, Any] | None] = [
        None if convert is None else {} for convert in form.processors
    ]
    pairs = tuple(zip(form.names, form.processors, converted, strict=True))
    return [
        tuple(_value(row[name], convert, seen) for name, convert, seen in pairs) for row in rows
    ]


def _value(value: Any, convert: _Processor, seen: dict[Any, Any] | None) -> Any:
    if convert is None or seen is None:
        return value
    if not isinstance(value, date):
        return convert(value)
    # datetime is a date. Equal times in other zones may be written differently: the zone is
    # part of the key.
    key = (value, getattr(value, "tzinfo", None))
    found = seen.get(key, _MISSING)
    if found is _MISSING:
        found = seen[key] = convert(value)
    return found


_MISSING: Final = object()
