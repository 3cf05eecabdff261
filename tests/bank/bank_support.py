"""Fixtures of the bank tests: a migrated database on SQLite and on PostgreSQL, a clock, a CA,
clients with keys. Imported by the test modules (fixtures by name)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from bankkeys.bank.store.db import Database, open_database, upgrade
from conftest import missing

PG_ADMIN_URL = os.environ.get(
    "BANKKEYS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
DB_KINDS = ["sqlite", "postgresql"]


def _pg_conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def pg_database_url(name: str) -> str:
    base = _pg_conninfo(PG_ADMIN_URL).rsplit("/", 1)[0]
    return f"{base}/{name}"


def create_pg_database(prefix: str) -> str:
    """A new, empty PostgreSQL database; returns its name. Fails (CI) or skips if unreachable."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True, connect_timeout=5) as c:
            c.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    return name


def drop_pg_database(name: str) -> None:
    with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True, connect_timeout=5) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bank-template") / "template.db"
    db = open_database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_worker_database() -> Iterator[str]:
    """One migrated database per xdist worker; tests empty it before use."""
    name = create_pg_database("bankkeys_t")
    url = pg_database_url(name)
    db = open_database(url)
    upgrade(db)
    db.dispose()
    yield url
    drop_pg_database(name)


TABLES = (
    "approvals, printed_documents, notifications, audit_events, crls, certificates, "
    "public_keys_seen, activation_codes, rekey_requests, signers, organizations, ca"
)


def _fresh_pg(url: str) -> Database:
    db = open_database(url, pool_size=8)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE audit_head SET seq = 0, hash = :h"), {"h": "0" * 64})
    return db


@pytest.fixture(params=DB_KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """The URL of a migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "bank.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
    else:
        url: str = request.getfixturevalue("pg_worker_database")
        _fresh_pg(url).dispose()
        yield url


@pytest.fixture()
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url, pool_size=8)
    yield database
    database.dispose()


@dataclass
class Clock:
    """A settable clock: the workflow reads it, tests move it."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()
