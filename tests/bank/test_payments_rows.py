"""Payment rows written at the driver (bankkeys.bank.payments_sql), through a SQLAlchemy
connection or a driver unit, are stored exactly as SQLAlchemy's own executemany stores them, on
both databases: awkward values, and moments that repeat within one call (each distinct date or
time is converted once per call)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bank_support import db, db_url, pg_worker_database, sqlite_template
from sqlalchemy import Table, insert

from bankkeys.bank.payments import _DOCUMENT_COLUMNS
from bankkeys.bank.payments_sql import execute_many
from bankkeys.bank.payments_store import PaymentDocument
from bankkeys.bank.store.db import Database
from bankkeys.bank.store.models import Organization

__all__ = ["db", "db_url", "pg_worker_database", "sqlite_template"]

COLUMNS = _DOCUMENT_COLUMNS  # what the bank itself writes at the driver
NOW = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)
Rows = Callable[[int, str, datetime], list[dict[str, Any]]]


def _awkward_rows(org_id: int, tag: str, now: datetime) -> list[dict[str, Any]]:
    # Awkward values on purpose: a non-UTC offset, microseconds, a None, non-ASCII bytes.
    moscow = now.astimezone(ZoneInfo("Europe/Moscow"))
    return [
        {
            "organization_id": org_id,
            "payer_account": f"4070281{tag}{n:012d}",
            "doc_year": 2026,
            "number": str(n),
            "doc_date": date(2026, 2, 28),
            "amount_kopecks": 10**17 + n,
            "content_hash": f"{tag}{n:063x}",
            "canonical": '{"payer":"ООО"}'.encode() + bytes([0, 255, n]),
            "received_at": moscow + timedelta(microseconds=n),
            "state": "accepted" if n % 2 else "awaiting_second",
            "accepted_at": now if n % 2 else None,
        }
        for n in range(1, 4)
    ]


def _repeated_moments(org_id: int, tag: str, now: datetime) -> list[dict[str, Any]]:
    moscow = now.astimezone(ZoneInfo("Europe/Moscow"))  # equal to now, written elsewhere
    times = [now, moscow, now, moscow + timedelta(microseconds=1), now]
    return [
        {
            "organization_id": org_id,
            "payer_account": f"4070281{tag}{n:012d}",
            "doc_year": 2026,
            "number": str(n),
            "doc_date": date(2026, 2, 28) if n % 2 else date(2026, 3, 1),
            "amount_kopecks": 100 + n,
            "content_hash": f"{tag}{n:063x}",
            "canonical": b"{}",
            "received_at": at,
            "state": "accepted",
            "accepted_at": times[-1 - n],
        }
        for n, at in enumerate(times)
    ]


def _stored_both_ways(db: Database, rows: Rows) -> dict[str, list[tuple[Any, ...]]]:
    """The rows written by SQLAlchemy (tag "1"), at the driver through a SQLAlchemy connection
    (tag "2") and through a driver unit (tag "3"), read back as the driver returns them (no
    SQLAlchemy type conversion on the way back)."""
    with db.transaction() as s:
        org = Organization(name="ООО «Ромашка»", inn="7707083893", ogrn="1027700132195",
                           address="Москва", created_at=NOW)  # fmt: skip
        s.add(org)
        s.flush()
        org_id = org.id
    table = PaymentDocument.__table__
    assert isinstance(table, Table)
    with db.transaction() as s:
        connection = s.connection()
        connection.execute(insert(table), rows(org_id, "1", NOW))
        execute_many(connection, "test", insert(table), rows(org_id, "2", NOW), columns=COLUMNS)
    with db.driver_transaction() as unit:
        execute_many(unit, "test", insert(table), rows(org_id, "3", NOW), columns=COLUMNS)
    with db.engine.connect() as c:
        stored = c.exec_driver_sql(
            "SELECT substr(content_hash, 1, 1), organization_id, doc_year, number, doc_date, "
            "amount_kopecks, canonical, received_at, state, accepted_at "
            "FROM payment_documents ORDER BY content_hash"
        ).all()
    by_tag: dict[str, list[tuple[Any, ...]]] = {}
    for tag, *values in stored:
        by_tag.setdefault(tag, []).append(tuple(values))
    return by_tag


def test_driver_rows_are_stored_as_sqlalchemy_stores_them(db: Database) -> None:
    by_tag = _stored_both_ways(db, _awkward_rows)
    assert len(by_tag["1"]) == 3
    assert by_tag["2"] == by_tag["1"]
    assert by_tag["3"] == by_tag["1"]


def test_pay_rows_repeated_moments_are_stored_as_sqlalchemy_stores_them(db: Database) -> None:
    by_tag = _stored_both_ways(db, _repeated_moments)
    assert len(by_tag["1"]) == 5
    assert by_tag["2"] == by_tag["1"]
    assert by_tag["3"] == by_tag["1"]
    # The instant in Moscow is stored as the same UTC moment, the microsecond later is not.
    received = [row[6] for row in by_tag["2"]]
    assert received[0] == received[1] != received[3]
