"""The store: migrations on both databases, constraints the workflow relies on, SQLite settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
import pytest
from bank_support import Clock, clock, db, db_url, pg_worker_database, sqlite_template
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from bankkeys.bank import workflow
from bankkeys.bank.store import db as store_db
from bankkeys.bank.store.db import Database, open_database
from bankkeys.bank.store.models import (
    OPEN_STATES_SQL,
    Organization,
    RekeyRequest,
    Signer,
)

__all__ = ["clock", "db", "db_url", "pg_worker_database", "sqlite_template"]

EXPECTED_TABLES = {
    "organizations",
    "signers",
    "activation_codes",
    "public_keys_seen",
    "certificates",
    "rekey_requests",
    "approvals",
    "printed_documents",
    "audit_events",
    "audit_head",
    "notifications",
    "ca",
    "crls",
    "alembic_version",
}


def test_migrations_create_every_table_at_head(db: Database) -> None:
    # Other parts (payments) add their own tables in later revisions: ours must all be there.
    assert set(inspect(db.engine).get_table_names()) >= EXPECTED_TABLES
    assert store_db.current_revision(db) == store_db.head_revision()
    with db.transaction() as s:
        heads = s.execute(text("SELECT id, seq, hash FROM audit_head ORDER BY id")).all()
        assert heads == [(chain, 0, "0" * 64) for chain in range(1, 9)]  # eight chains


def test_downgrade_then_upgrade_round_trips(db: Database) -> None:
    store_db.downgrade(db, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    store_db.upgrade(db)
    assert set(inspect(db.engine).get_table_names()) >= EXPECTED_TABLES


def test_models_and_migrations_agree(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from bankkeys.bank.store.models import Base

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = {t.name for t in Base.metadata.sorted_tables}

    def concerns_us(entry: object) -> bool:
        if isinstance(entry, list):  # column changes: [("modify_type", schema, table, ...)]
            return any(change[2] in ours for change in entry)
        item = entry[1] if isinstance(entry, tuple) else entry
        table = getattr(item, "table", item)
        return getattr(table, "name", None) in ours

    assert [d for d in diff if concerns_us(d)] == []


def test_open_states_in_schema_match_the_workflow() -> None:
    # The partial unique index spells the open states out; it must be the workflow's set.
    listed = {part.strip(" '()") for part in OPEN_STATES_SQL.split("IN", 1)[1].split(",")}
    assert listed == {str(s) for s in workflow.OPEN_STATES}


def _org_and_signer(db: Database, now: datetime) -> int:
    with db.transaction() as s:
        org = Organization(name="ООО «Ромашка»", inn="7707083893", ogrn="1027700132195",
                           address="Москва", created_at=now)  # fmt: skip
        s.add(org)
        s.flush()
        signer = Signer(organization_id=org.id, login="ivanov", surname="Иванов",
                        given_name="Иван Иванович", position="Директор", snils="11223344595",
                        email="ivanov@example.ru", phone="+7 495 000-00-00", acting_on="Устава",
                        created_at=now)  # fmt: skip
        s.add(signer)
        s.flush()
        return signer.id


def _request(signer_id: int, state: str, fp: str, now: datetime) -> RekeyRequest:
    return RekeyRequest(signer_id=signer_id, kind="renewal", path="old-key", state=state,
                        submitted_der=b"x", pkcs10_der=b"x", public_key_info=b"k",
                        key_fingerprint=fp, subject_json="{}", accepted_at=now)  # fmt: skip


def test_database_allows_one_open_request_per_signer(db: Database) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    signer_id = _org_and_signer(db, now)
    with db.transaction() as s:
        s.add(_request(signer_id, "accepted", "a" * 64, now))
        s.add(_request(signer_id, "rejected", "b" * 64, now))  # closed ones do not count
        s.add(_request(signer_id, "cancelled", "c" * 64, now))
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(_request(signer_id, "issued", "d" * 64, now))
    with db.transaction() as s:
        assert len(s.execute(select(RekeyRequest)).scalars().all()) == 3


def test_datetimes_come_back_aware_utc_on_both(db: Database) -> None:
    now = datetime(2026, 5, 17, 12, 30, 1, 123456, tzinfo=UTC)
    _org_and_signer(db, now)
    with db.transaction() as s:
        org = s.execute(select(Organization)).scalar_one()
        assert org.created_at == now
        assert org.created_at.tzinfo is not None


def test_naive_datetime_is_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive"), db.transaction() as s:
        s.add(Organization(name="x", inn="7707083893", ogrn="1027700132195", address="x",
                           created_at=datetime(2026, 1, 1)))  # fmt: skip
        s.flush()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    db = open_database(f"sqlite:///{tmp_path}/x.db")
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


def test_default_url_is_a_file_under_var_and_env_overrides(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.delenv(store_db.ENV_DATABASE_URL, raising=False)
    monkeypatch.chdir(str(tmp_path))
    assert store_db.database_url() == f"sqlite:///{tmp_path}/var/bankkeys.db"
    monkeypatch.setenv(store_db.ENV_DATABASE_URL, "postgresql://u@h/d")
    assert store_db.database_url() == "postgresql://u@h/d"
    assert store_db._normalise("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"


def test_unknown_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        open_database("mysql://u@h/d")


def test_clock_fixture_moves(clock: Clock) -> None:
    before = clock()
    assert clock.advance(days=1) > before


def _backend_pid(db: Database) -> int:
    with db.transaction() as s:
        pid: int = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return pid


def _driver_backend_pid(db: Database) -> int:
    with db.driver_transaction() as unit:
        row = unit.execute(text("SELECT pg_backend_pid()")).first()
    assert row is not None
    return int(row[0])


def _terminate(url: str, pid: int) -> None:
    # The server drops the pooled connection (a restart, a proxy's idle timeout...).
    with psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as c:
        c.execute("SELECT pg_terminate_backend(%s)", (pid,))


# Sessions take their connection from the pool; driver units keep theirs between units: both
# must survive the server dropping it.
BACKENDS = pytest.mark.parametrize(
    "backend_pid", [_backend_pid, _driver_backend_pid], ids=["session", "driver-unit"]
)


@BACKENDS
def test_a_pooled_postgresql_connection_lost_while_idle_is_replaced(
    pg_worker_database: str, monkeypatch: pytest.MonkeyPatch, backend_pid: Callable[..., int]
) -> None:
    db = open_database(pg_worker_database, pool_size=2)
    try:
        pid = backend_pid(db)
        _terminate(pg_worker_database, pid)
        monkeypatch.setattr(store_db, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has been idle "long"
        assert backend_pid(db) != pid  # pinged, found dead, replaced: the work never sees it
    finally:
        db.dispose()


@BACKENDS
def test_a_busy_postgresql_connection_is_not_pinged(
    pg_worker_database: str, backend_pid: Callable[..., int]
) -> None:
    # Reused at once, a connection goes straight to the work (no round trip first): one that
    # died in between fails that one transaction, and the pool replaces it for the next.
    db = open_database(pg_worker_database, pool_size=2)
    try:
        pid = backend_pid(db)
        _terminate(pg_worker_database, pid)
        with pytest.raises(OperationalError):
            backend_pid(db)
        assert backend_pid(db) != pid
    finally:
        db.dispose()
