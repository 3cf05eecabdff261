"""Driver units on PostgreSQL send their statements with libpq's own calls (driver.py, _Direct):
every value type the bank binds arrives as psycopg would have sent it, the rest goes through
psycopg's cursor, and prepared statements the server forgot (a rollback, DEALLOCATE ALL) cost
at most the one unit that finds them gone."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

import pytest
from bank_support import fresh_pg, pg_worker_database
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from bankkeys.bank.store.db import Database
from bankkeys.bank.store.driver import DriverUnit
from bankkeys.bank.store.types import UTCDateTime

__all__ = ["pg_worker_database"]

VALUES = Table(
    "driver_direct_values",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("word", String(200)),
    Column("flag", Boolean),
    Column("blob", LargeBinary),
    Column("naive", DateTime),
    Column("moment", UTCDateTime),
    Column("day", Date),
    Column("amount", Numeric(18, 2)),
)
PUT = insert(VALUES)
# The amount is read back by SQLAlchemy only: driver plans take no Numeric results.
GET = select(*(c for c in VALUES.c if c.key != "amount")).where(VALUES.c.id == bindparam("id"))
AMOUNT = select(VALUES.c.amount).where(VALUES.c.id == bindparam("id"))


@pytest.fixture()
def pg(pg_worker_database: str) -> Iterator[Database]:
    database = fresh_pg(pg_worker_database)
    with database.engine.begin() as conn:
        VALUES.drop(conn, checkfirst=True)
        VALUES.create(conn)
    yield database
    with database.engine.begin() as conn:
        VALUES.drop(conn)
    database.dispose()


def _our_statements(unit: DriverUnit) -> list[str]:
    rows = unit.execute(text("SELECT name FROM pg_prepared_statements ORDER BY name")).all()
    return [r[0] for r in rows if r[0].startswith("bankkeys_")]


def _prepared_inserts(unit: DriverUnit) -> int:
    return int(
        unit.execute(
            text(
                "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'bankkeys_%' "
                "AND statement LIKE 'INSERT INTO driver_direct_values%'"
            )
        ).scalar_one()
    )


ROW: dict[str, Any] = {
    "word": "ООО «Ромашка» — 'quotes' \\ back\\slash, 𝔘nicode",
    "flag": True,
    "blob": bytes(range(256)) + b"\x00\x00",  # NULs and every byte: sent in binary
    "naive": datetime(2026, 5, 4, 3, 2, 1, 123456),
    "moment": datetime(2026, 5, 4, 3, 2, 1, 654321, tzinfo=UTC),
    "day": date(2026, 12, 31),
    "amount": Decimal("1234567.89"),  # not a type the direct path sends: psycopg's cursor does
}


def test_every_value_type_arrives_as_sent(pg: Database) -> None:
    direct = {**ROW, "amount": None}  # every value one that libpq's calls send
    rows = [
        {"id": 1, **direct},
        {"id": 2, **{k: None for k in ROW}},
        {"id": 3, **direct, "flag": False, "word": "", "blob": b""},
        {"id": 4, **direct, "moment": datetime(2026, 1, 1, 3, tzinfo=UTC) + timedelta(hours=5)},
    ]
    for row in rows:
        with pg.driver_transaction() as unit:
            unit.execute(PUT, row)
    with pg.driver_transaction() as unit:
        assert _prepared_inserts(unit) == 1  # sent by name, not by psycopg's cursor
    rows.append({"id": 5, **ROW, "amount": Decimal("-0.01")})  # a Decimal: psycopg sends it
    with pg.driver_transaction() as unit:
        unit.execute(PUT, rows[-1])
        assert _prepared_inserts(unit) == 1
    with pg.driver_transaction() as unit:
        for row in rows:
            got = unit.execute(GET, {"id": row["id"]}).first()
            assert got is not None
            assert {**got._asdict(), "amount": row["amount"]} == row
        assert _our_statements(unit)  # they went through libpq's calls, prepared by name
    # And read back through SQLAlchemy's own path, the same.
    with pg.engine.connect() as conn:
        for row in rows:
            got = conn.execute(GET, {"id": row["id"]}).one()
            amount = conn.execute(AMOUNT, {"id": row["id"]}).scalar_one()
            assert {**got._asdict(), "amount": amount} == row


class _Word(StrEnum):
    ISSUED = "Получен новый сертификат"
    CUT = "before\x00after"


class _Number(IntEnum):
    SEVEN = 7


def test_str_and_int_subclasses_go_by_name_as_their_values(pg: Database) -> None:
    """The workflow binds its statuses, roles and actions as StrEnum members: they must take
    the prepared path (psycopg's cursor parsed every audit append anew when they did not) and
    arrive as the plain values psycopg would send."""
    with pg.driver_transaction() as unit:
        unit.execute(PUT, {**ROW, "id": _Number.SEVEN, "word": _Word.ISSUED, "amount": None})
    with pg.driver_transaction() as unit:
        assert _prepared_inserts(unit) == 1
        got = unit.execute(GET, {"id": 7}).first()
    assert got is not None and got.word == "Получен новый сертификат" and got.id == 7
    assert type(got.word) is str
    with pytest.raises(DataError), pg.driver_transaction() as unit:  # a NUL is refused here too
        unit.execute(PUT, {**ROW, "id": 8, "word": _Word.CUT, "amount": None})


def test_big_and_negative_integers_and_text_of_every_plane(pg: Database) -> None:
    big = Table("driver_direct_big", MetaData(), Column("n", BigInteger), Column("b", String))
    with pg.engine.begin() as conn:
        conn.execute(text("CREATE TABLE driver_direct_big (n bigint, b text)"))
    try:
        for n, word in [(2**62, "\u0001\u007f\u0080\uffff"), (-(2**63), "🙂" * 100)]:
            with pg.driver_transaction() as unit:
                unit.execute(insert(big), {"n": n, "b": word})
                got = unit.execute(
                    select(big.c.n, big.c.b).where(big.c.n == bindparam("n")), {"n": n}
                ).first()
                assert got is not None and (got.n, got.b) == (n, word)
    finally:
        with pg.engine.begin() as conn:
            conn.execute(text("DROP TABLE driver_direct_big"))


def test_a_nul_in_text_is_refused_not_cut(pg: Database) -> None:
    # libpq reads a text value up to its first NUL: the direct path must not send it at all.
    with pytest.raises(DataError), pg.driver_transaction() as unit:
        unit.execute(PUT, {"id": 1, **ROW, "word": "before\x00after"})
    with pg.driver_transaction() as unit:
        assert unit.execute(GET, {"id": 1}).first() is None  # nothing written, not "before"


def test_errors_come_out_as_sqlalchemys_with_the_drivers_error(pg: Database) -> None:
    with pg.driver_transaction() as unit:
        unit.execute(PUT, {"id": 1, **ROW})
    with pytest.raises(IntegrityError) as caught, pg.driver_transaction() as unit:
        unit.execute(PUT, {"id": 1, **ROW})
    assert getattr(caught.value.orig, "sqlstate", None) == "23505"
    assert "driver_direct_values_pkey" in str(caught.value.orig)
    with pytest.raises(DBAPIError) as syntax, pg.driver_transaction() as unit:
        unit.execute(text("SELEC 1"))
    assert getattr(syntax.value.orig, "sqlstate", None) == "42601"


def test_units_after_a_rollback_prepare_again(pg: Database) -> None:
    # psycopg sends DEALLOCATE ALL on a ROLLBACK when it holds prepared statements of its own:
    # ours go with them. A unit that failed forgets its names, so the next one still works.
    with pg.driver_transaction() as unit:
        unit.execute(PUT, {"id": 1, **ROW})
        first = _our_statements(unit)
    with pytest.raises(RuntimeError), pg.driver_transaction() as unit:
        unit.execute(GET, {"id": 1})
        unit.execute(text("DEALLOCATE ALL"))  # what psycopg may do at the rollback below
        raise RuntimeError("the transition refused")
    with pg.driver_transaction() as unit:
        assert unit.execute(GET, {"id": 1}).first() is not None
        assert _our_statements(unit) and set(_our_statements(unit)).isdisjoint(first)


def test_statements_the_server_forgot_fail_one_unit_only(pg: Database) -> None:
    with pg.driver_transaction() as unit:
        unit.execute(PUT, {"id": 1, **ROW})
        unit.execute(GET, {"id": 1})  # prepared
    with pg.driver_transaction() as unit:
        unit.execute(text("DEALLOCATE ALL"))  # an administrator's, say: we are not told
    with pytest.raises(DBAPIError) as gone, pg.driver_transaction() as unit:
        unit.execute(GET, {"id": 1})
    assert getattr(gone.value.orig, "sqlstate", None) == "26000"
    with pg.driver_transaction() as unit:
        assert unit.execute(GET, {"id": 1}).first() is not None


def test_the_unit_is_one_transaction(pg: Database) -> None:
    with pytest.raises(RuntimeError), pg.driver_transaction() as unit:
        unit.execute(PUT, {"id": 1, **ROW})
        status = unit.execute(text("SELECT now() = statement_timestamp()")).scalar_one()
        assert status is False  # inside a transaction begun before this statement
        raise RuntimeError("after the write")
    with pg.driver_transaction() as unit:
        assert unit.execute(GET, {"id": 1}).first() is None  # rolled back
        unit.execute(PUT, {"id": 2, **ROW})
    with pg.engine.connect() as conn:  # committed, seen from another connection
        assert conn.execute(GET, {"id": 2}).first() is not None


# --- one round trip: BEGIN with the first statement, COMMIT with the last ----------------------


def _seen_elsewhere(pg: Database, row_id: int) -> bool:
    with pg.engine.connect() as conn:
        return conn.execute(GET, {"id": row_id}).first() is not None


def test_the_last_statement_carries_the_commit(pg: Database) -> None:
    with pg.driver_transaction() as unit:
        unit.execute(PUT, {"id": 1, **ROW})
        assert not _seen_elsewhere(pg, 1)
        unit.execute_and_commit(PUT, {"id": 2, **ROW})
        assert _seen_elsewhere(pg, 1) and _seen_elsewhere(pg, 2)  # committed already
    with pg.driver_transaction() as unit:  # the connection goes on
        assert unit.execute(GET, {"id": 2}).first() is not None


def test_a_failing_last_statement_commits_nothing(pg: Database) -> None:
    with pg.driver_transaction() as unit:
        unit.execute(PUT, {"id": 1, **ROW})
    with pytest.raises(IntegrityError), pg.driver_transaction() as unit:
        unit.execute(PUT, {"id": 2, **ROW})
        unit.execute_and_commit(PUT, {"id": 1, **ROW})  # the duplicate: COMMIT never runs
    assert not _seen_elsewhere(pg, 2)
    with pg.driver_transaction() as unit:
        unit.execute_and_commit(PUT, {"id": 3, **ROW})
    assert _seen_elsewhere(pg, 3)


def test_a_failing_commit_is_reported_and_keeps_nothing(pg: Database) -> None:
    deferred = Table("driver_direct_deferred", MetaData(), Column("n", Integer))
    with pg.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE driver_direct_deferred (n integer, "
                "CONSTRAINT driver_direct_deferred_n UNIQUE (n) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    try:
        with pytest.raises(IntegrityError) as caught, pg.driver_transaction() as unit:
            unit.execute(insert(deferred), {"n": 1})
            unit.execute_and_commit(insert(deferred), {"n": 1})  # refused only at COMMIT
        assert "driver_direct_deferred_n" in str(caught.value.orig)
        with pg.driver_transaction() as unit:
            assert unit.execute(select(deferred.c.n)).all() == []
            unit.execute_and_commit(insert(deferred), {"n": 2})
        with pg.engine.connect() as conn:
            assert conn.execute(select(deferred.c.n)).scalars().all() == [2]
    finally:
        with pg.engine.begin() as conn:
            conn.execute(text("DROP TABLE driver_direct_deferred"))


def test_a_first_statement_that_fails_with_its_begin_leaves_the_connection_usable(
    pg: Database,
) -> None:
    for _ in range(3):  # prepared or not, with BEGIN in its round trip
        with pytest.raises(DBAPIError), pg.driver_transaction() as unit:
            unit.execute(text("SELECT 1/0"))
        with pg.driver_transaction() as unit:
            assert unit.execute(text("SELECT 2")).scalar_one() == 2


def test_a_connection_dropped_mid_unit_is_replaced(pg: Database) -> None:
    with pg.driver_transaction() as unit:
        pid = unit.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with pytest.raises(DBAPIError), pg.driver_transaction() as unit:
        unit.execute(GET, {"id": 1})
        with pg.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        unit.execute_and_commit(PUT, {"id": 1, **ROW})  # in a pipeline, on a dead link
    with pg.driver_transaction() as unit:
        assert unit.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
        unit.execute_and_commit(PUT, {"id": 1, **ROW})
    assert _seen_elsewhere(pg, 1)


_WAITS_ALONE = """
import sys, threading, time
import psycopg
from sqlalchemy import text
from bankkeys.bank.store.db import open_database

url = sys.argv[1]
db = open_database(url)
plain = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
side = psycopg.connect(plain)
side.execute("SELECT 1 FROM driver_direct_values WHERE id = 1 FOR UPDATE")
waited = []

def unit() -> None:
    with db.driver_transaction() as u:  # BEGIN, PREPARE and the statement in one pipeline
        u.execute(text("SELECT id FROM driver_direct_values WHERE id = 1 FOR UPDATE"))
    waited.append(True)

worker = threading.Thread(target=unit)
worker.start()
time.sleep(0.3)  # this thread runs while the other waits for the row
assert not waited
side.rollback()
worker.join()
print("ok" if waited else "lost")
"""


def test_a_statement_waiting_for_a_lock_lets_the_other_threads_run(
    pg: Database, pg_worker_database: str
) -> None:
    # Waiting inside libpq with the GIL held would stop the whole server process (it hung).
    with pg.driver_transaction() as unit:
        unit.execute_and_commit(PUT, {"id": 1, **ROW})
    done = subprocess.run(
        [sys.executable, "-c", _WAITS_ALONE, pg_worker_database],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_statements_sent_together_each_see_what_the_lock_waited_for(pg: Database) -> None:
    # The read after a row lock, sent in the same round trip, must see the rows that the lock's
    # holder committed (one statement doing both would read from before the wait).
    lock = select(VALUES.c.id).where(VALUES.c.id == bindparam("id")).with_for_update()
    count = select(func.count()).select_from(VALUES)
    with pg.driver_transaction() as unit:
        unit.execute_and_commit(PUT, {"id": 1, **ROW})
    seen: list[int] = []
    holder = pg.engine.connect()
    holder.begin()
    holder.execute(lock, {"id": 1})
    holder.execute(PUT, {"id": 2, **ROW})

    def together() -> None:
        with pg.driver_transaction() as unit:
            _locked, counted = unit.execute_together([(lock, {"id": 1}), (count, {})])
            seen.append(counted.scalar_one())

    worker = threading.Thread(target=together)
    worker.start()
    time.sleep(0.3)
    assert not seen  # waiting for the row
    holder.commit()
    holder.close()
    worker.join(30)
    assert seen == [2]


def test_a_connection_with_a_descriptor_past_1024_works(pg: Database) -> None:
    # A busy server holds many sockets and files: select() refuses descriptors from 1024 on.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the hard limit on open files is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    pg.dispose()  # the next unit opens its connection after the low descriptors are taken
    filler: list[int] = []
    try:
        while not filler or filler[-1] < 1100:
            filler.append(os.open(os.devnull, os.O_RDONLY))
        plain = {k: v for k, v in ROW.items() if k != "amount"}  # all sent by libpq's calls
        with pg.driver_transaction() as unit:
            unit.execute(PUT, {"id": 1, **plain})  # BEGIN and PREPARE with it: a pipeline
            socket = unit._dbapi.pgconn.socket
            unit.execute_and_commit(PUT, {"id": 2, **plain})
        assert socket >= 1024
        assert _seen_elsewhere(pg, 1) and _seen_elsewhere(pg, 2)
    finally:
        for descriptor in filler:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
