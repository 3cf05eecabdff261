"""Driver units (bank/store/driver.py): the same statements give the same rows and the same
writes as through SQLAlchemy, on SQLite and PostgreSQL; errors come out as SQLAlchemy's; a
failed unit leaves nothing behind."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta

import pytest
from bank_support import db, db_url, pg_worker_database, sqlite_template
from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError, StatementError

from bankkeys.bank import audit, workflow
from bankkeys.bank.store.db import Database, open_database
from bankkeys.bank.store.driver import UnsupportedStatement
from bankkeys.bank.store.models import AuditEvent, Certificate, Organization, Signer

__all__ = ["db", "db_url", "pg_worker_database", "sqlite_template"]

ORGS: Table = Organization.__table__  # type: ignore[assignment]
SIGNERS: Table = Signer.__table__  # type: ignore[assignment]
CERTS: Table = Certificate.__table__  # type: ignore[assignment]
AT = datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)


def _organization(db: Database, inn: str = "7707083893") -> int:
    with db.transaction() as s:
        org_id: int = s.execute(
            insert(ORGS)
            .values(name="ООО «Ромашка»", inn=inn, ogrn="1027700132195", address="М", created_at=AT)
            .returning(ORGS.c.id)
        ).scalar_one()
    return org_id


def _signer(db: Database, org_id: int, login: str) -> int:
    with db.transaction() as s:
        signer_id: int = s.execute(
            insert(SIGNERS)
            .values(
                organization_id=org_id,
                login=login,
                surname="Иванов",
                given_name="Иван",
                position="Директор",
                snils="11223344595",
                email=f"{login}@example.ru",
                phone="1",
                acting_on="Устава",
                created_at=AT,
            )
            .returning(SIGNERS.c.id)
        ).scalar_one()
    return signer_id


NEW_CERT = insert(CERTS).returning(CERTS.c.id)
CERT_ROW = select(
    CERTS.c.id,
    CERTS.c.serial,
    CERTS.c.is_ca,
    CERTS.c.der,
    CERTS.c.not_before,
    CERTS.c.revoked_at,
    CERTS.c.key_fingerprint,
).where(CERTS.c.signer_id == bindparam("signer_id"), CERTS.c.serial.in_(["a1", "b2", "c3"]))


def _cert(signer_id: int, serial: str, der: bytes) -> dict[str, object]:
    return {
        "serial": serial,
        "signer_id": signer_id,
        "is_ca": False,
        "der": der,
        "not_before": AT,
        "not_after": AT + timedelta(days=365),
        "key_fingerprint": serial * 8,
        "issued_at": AT,
    }


def test_driver_unit_reads_and_writes_as_sqlalchemy_does(db: Database) -> None:
    signer_id = _signer(db, _organization(db), "d1")
    der = bytes(range(256)) * 3  # every byte value, NUL included
    with db.driver_transaction() as unit:
        new_id = unit.execute(NEW_CERT, _cert(signer_id, "a1", der)).scalar_one()
        unit.execute(insert(CERTS), [_cert(signer_id, "b2", b"\x00"), _cert(signer_id, "zz", b"")])
    with db.transaction() as s:
        expected = s.execute(CERT_ROW, {"signer_id": signer_id}).all()
    with db.driver_transaction() as unit:
        got = unit.execute(CERT_ROW, {"signer_id": signer_id}).all()
        first = unit.execute(CERT_ROW, {"signer_id": signer_id}).first()
        ids = unit.execute(select(CERTS.c.id).order_by(CERTS.c.id)).scalars().all()
    assert len(expected) == 2  # the literal IN list was applied: "zz" is not in it
    assert [tuple(r) for r in got] == [tuple(r) for r in expected]
    assert got[0].der == der and got[0].id == new_id
    assert first is not None and first.not_before == AT and first.not_before.tzinfo is UTC
    assert first.revoked_at is None and first.is_ca is False
    assert len(ids) == 3


def test_driver_unit_rolls_back_on_error_and_reports_sqlalchemy_errors(db: Database) -> None:
    signer_id = _signer(db, _organization(db), "d2")
    with (
        pytest.raises(IntegrityError) as caught,
        db.driver_transaction() as unit,
    ):
        unit.execute(NEW_CERT, _cert(signer_id, "a1", b"1"))
        unit.execute(NEW_CERT, _cert(signer_id, "a1", b"2"))  # the serial is unique
    assert caught.value.orig is not None
    if db.dialect == "postgresql":
        assert workflow._constraint_of(caught.value) == "certificates_serial_key"
    with db.transaction() as s:  # the first insert went with the failed unit
        assert s.execute(select(func.count()).select_from(CERTS)).scalar_one() == 0
    with pytest.raises(RuntimeError), db.driver_transaction() as unit:
        unit.execute(NEW_CERT, _cert(signer_id, "b2", b"1"))
        raise RuntimeError("the caller's own failure")
    with db.transaction() as s:
        assert s.execute(select(func.count()).select_from(CERTS)).scalar_one() == 0


def test_driver_unit_runs_before_commit_inside_the_transaction(db: Database) -> None:
    signer_id = _signer(db, _organization(db), "d3")
    seen: list[int] = []

    def before_commit(unit: object) -> None:
        seen.append(1)
        raise RuntimeError("refused at commit")

    with pytest.raises(RuntimeError), db.driver_transaction(before_commit) as unit:
        unit.execute(NEW_CERT, _cert(signer_id, "a1", b"1"))
    assert seen == [1]
    with db.transaction() as s:
        assert s.execute(select(func.count()).select_from(CERTS)).scalar_one() == 0


def test_driver_unit_audit_events_chain_with_session_events(db: Database) -> None:
    """Events queued on a driver unit and on a session go into one chain, in commit order."""
    with db.driver_transaction(audit.write_pending) as unit:
        audit.append(unit, at=AT, actor="op", role="operator", action="one", details={"n": 1})
        audit.append(unit, at=AT, actor="op", role="operator", action="two")
    with db.transaction() as s:
        audit.append(s, at=AT, actor="op", role="operator", action="three")
    with pytest.raises(RuntimeError), db.driver_transaction(audit.write_pending) as unit:
        audit.append(unit, at=AT, actor="op", role="operator", action="lost")
        raise RuntimeError
    with db.transaction() as s:
        events = list(s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars())
        assert [e.action for e in events] == ["one", "two", "three"]
        assert audit.verify(s) == []


def test_driver_unit_refuses_what_it_cannot_run(db: Database) -> None:
    expanding = update(CERTS).where(CERTS.c.serial.in_(bindparam("serials", expanding=True)))
    with pytest.raises(UnsupportedStatement, match="serials"), db.driver_transaction() as unit:
        unit.execute(expanding.values(revoked_at=AT), {"serials": ["a1"]})
    with pytest.raises(StatementError, match="signer_id"), db.driver_transaction() as unit:
        unit.execute(CERT_ROW, {})
    with pytest.raises(LookupError), db.driver_transaction() as unit:
        unit.execute(select(CERTS.c.id)).scalar_one()  # no rows, not exactly one
    with db.driver_transaction() as unit:  # and a plain text statement runs
        assert unit.execute(text("SELECT 1, 'два'")).all() == [(1, "два")]


# --- the driver units' own connections -----------------------------------------------------------

BACKEND = text("SELECT pg_backend_pid()")


def _driver_backend(db: Database) -> int:
    with db.driver_transaction() as unit:
        row = unit.execute(BACKEND).first()
    assert row is not None
    return int(row[0])


def test_driver_units_reuse_their_connection_and_leave_the_pool_to_sessions(
    pg_worker_database: str,
) -> None:
    db = open_database(pg_worker_database, pool_size=2)
    try:
        first = _driver_backend(db)
        assert _driver_backend(db) == first  # kept between units, not returned to the pool
        with db.transaction() as s:  # a session gets another connection meanwhile
            assert s.execute(BACKEND).scalar_one() != first
        with pytest.raises(IntegrityError), db.driver_transaction() as unit:
            unit.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, 'x')"))
        assert _driver_backend(db) == first  # a refused statement does not cost the connection
    finally:
        db.dispose()


def test_a_forked_child_does_not_use_the_parents_driver_connection(
    pg_worker_database: str,
) -> None:
    db = open_database(pg_worker_database, pool_size=2)
    try:
        parent = _driver_backend(db)
        ctx = multiprocessing.get_context("fork")
        child_backend = ctx.Value("i", 0)

        def child() -> None:
            # SQLAlchemy's own advice for a forked engine: its pooled connections are not ours.
            db.engine.dispose(close=False)
            child_backend.value = _driver_backend(db)

        proc = ctx.Process(target=child)
        proc.start()
        proc.join(30)
        assert proc.exitcode == 0
        assert child_backend.value not in (0, parent)  # a connection of its own
        assert _driver_backend(db) == parent  # and the parent's still works, untouched
    finally:
        db.dispose()
