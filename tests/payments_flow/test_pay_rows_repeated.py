"""Repeated moments in one driver-level executemany (bankkeys.bank.payments_sql converts each
distinct date or time once per call): the same instant in two zones, the same object in many
rows and a date beside them are stored exactly as SQLAlchemy's own executemany stores them."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bank"))

from bank_support import db, db_url, pg_worker_database, sqlite_template
from sqlalchemy import Table, insert

from bankkeys.bank.payments_sql import execute_many
from bankkeys.bank.payments_store import PaymentDocument
from bankkeys.bank.store.db import Database
from bankkeys.bank.store.models import Organization

__all__ = ["db", "db_url", "pg_worker_database", "sqlite_template"]

COLUMNS = (
    "organization_id", "payer_account", "doc_year", "number", "doc_date", "amount_kopecks",
    "content_hash", "canonical", "received_at", "state", "accepted_at",
)  # fmt: skip


def _rows(org_id: int, tag: str, now: datetime) -> list[dict[str, Any]]:
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


def test_pay_rows_repeated_moments_are_stored_as_sqlalchemy_stores_them(db: Database) -> None:
    now = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)
    with db.transaction() as s:
        org = Organization(name="ООО «Ромашка»", inn="7707083893", ogrn="1027700132195",
                           address="Москва", created_at=now)  # fmt: skip
        s.add(org)
        s.flush()
        org_id = org.id
    table = PaymentDocument.__table__
    assert isinstance(table, Table)
    with db.transaction() as s:
        connection = s.connection()
        connection.execute(insert(table), _rows(org_id, "1", now))
        execute_many(connection, "test", insert(table), _rows(org_id, "2", now), columns=COLUMNS)
    with db.engine.connect() as c:
        stored = c.exec_driver_sql(
            "SELECT substr(content_hash, 1, 1), doc_date, received_at, accepted_at "
            "FROM payment_documents ORDER BY content_hash"
        ).all()
    by_tag: dict[str, list[tuple[Any, ...]]] = {}
    for tag, *values in stored:
        by_tag.setdefault(tag, []).append(tuple(values))
    assert len(by_tag["1"]) == 5
    assert by_tag["2"] == by_tag["1"]
    # The instant in Moscow is stored as the same UTC moment, the microsecond later is not.
    assert by_tag["2"][0][1] == by_tag["2"][1][1] != by_tag["2"][3][1]
