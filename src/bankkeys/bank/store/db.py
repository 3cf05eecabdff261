"""Opening the bank's database (SQLite by default, PostgreSQL in production) and migrating it.

SQLite: WAL journal, foreign keys on, and every transaction begins ``IMMEDIATE`` — it takes the
write lock up front, so read-check-write sequences (approvals, the audit chain head) cannot
interleave between processes. PostgreSQL: READ COMMITTED plus explicit row locks where it matters.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection

from bankkeys.bank.store.driver import BEGIN, DriverUnit, Kept

ENV_DATABASE_URL = "BANKKEYS_DATABASE_URL"
MIGRATIONS = "bankkeys.bank.store:migrations"


def database_url() -> str:
    """``BANKKEYS_DATABASE_URL`` if set, else the embedded SQLite file ``var/bankkeys.db``."""
    url = os.environ.get(ENV_DATABASE_URL)
    if url:
        return url
    path = Path.cwd() / "var" / "bankkeys.db"
    return f"sqlite:///{path}"


def _normalise(url: str) -> str:
    # psycopg 3 is the driver; accept the plain forms people paste from elsewhere.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


READ_ONLY = "bankkeys_read_only"


def _sqlite_on_begin(conn: Any) -> None:
    # A read-only unit of work begins DEFERRED: in WAL mode it reads beside the writer.
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


# A pooled PostgreSQL connection idle for longer than this is pinged before it is handed out (a
# server restart or a dropped TCP connection shows up then, and the pool replaces it). A busy
# connection is not: ``pool_pre_ping`` would cost a round trip at every transaction's start.
PING_AFTER_IDLE_SECONDS = 5.0
_IDLE_SINCE = "bankkeys_idle_since"


def _note_idle_since(_dbapi_conn: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    since = record.info.get(_IDLE_SINCE)
    if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
        return
    _ping(dbapi_conn)


def _ping(dbapi_conn: Any) -> None:
    try:
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_conn.rollback()
    except Exception as exc:  # any failure: the pool discards it and connects afresh
        raise DisconnectionError(f"pooled connection lost: {exc}") from exc


@dataclass
class Database:
    """An engine and its session factory; ``dialect`` is ``"sqlite"`` or ``"postgresql"``.

    Driver units keep up to ``driver_connections`` connections out of the pool between units
    (most recently used first): the pool's checkout and return (events, reset, queue) cost as
    much CPU as a unit's statements. They count against the pool's overflow, not its size."""

    engine: Engine
    sessions: sessionmaker[Session]
    driver_connections: int = 1
    _driver_idle: list[tuple[PoolProxiedConnection, float, Kept]] = field(
        default_factory=list, repr=False
    )
    _driver_pid: int = field(default_factory=os.getpid, repr=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any error."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A unit of work that only reads and is never kept: whatever it queued is discarded.
        On SQLite it does not take the database-wide write lock, so slow work can be prepared
        from it beside the writers. On PostgreSQL it is a READ ONLY transaction (the server
        refuses writes in it), ended by a COMMIT at the driver, which for it is a rollback that
        keeps the connection's prepared statements (psycopg forgets them all at a ROLLBACK and
        prepares them again only after a few more uses); the session's own rollback then finds
        no transaction to end."""
        with self.sessions() as session:
            if self.dialect == "sqlite":
                session.connection(execution_options={READ_ONLY: True})
                try:
                    yield session
                finally:
                    session.rollback()
                return
            conn = session.connection(execution_options={"postgresql_readonly": True})
            driver = conn.connection.dbapi_connection
            try:
                yield session
            finally:
                if (
                    driver is not None
                    and driver.info.transaction_status == TransactionStatus.INTRANS
                ):
                    driver.commit()
                session.rollback()

    @contextmanager
    def statements(self) -> Iterator[Connection]:
        """A connection for reads that one statement answers each. On PostgreSQL it runs in
        autocommit: no BEGIN and ROLLBACK round trips around the statement, which sees its own
        snapshot (so statements in a row may see different commits: read together what must
        agree). On SQLite it is a deferred read unit, as :meth:`reading`."""
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.execution_options(**{READ_ONLY: True})
                with conn.begin() as unit:
                    try:
                        yield conn
                    finally:
                        unit.rollback()
            else:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                yield conn

    @contextmanager
    def driver_transaction(
        self, before_commit: Callable[[DriverUnit], None] | None = None
    ) -> Iterator[DriverUnit]:
        """A unit of work of Core statements run straight on the driver (see
        :mod:`~bankkeys.bank.store.driver`): commits on success, after ``before_commit``; rolls
        back on any error. No ORM here: for the few transitions that are all Core statements."""
        pooled, kept = self._take_driver_connection()
        unit = DriverUnit(self.engine, pooled.dbapi_connection, kept)
        try:
            begin = BEGIN[self.dialect]
            if begin is not None:
                unit.execute(begin)
            yield unit
            if before_commit is not None:
                before_commit(unit)
            unit.commit()
        except BaseException:
            unit.close()
            try:
                pooled.rollback()
            except Exception:  # the connection is gone: the pool replaces it
                pooled.invalidate()
            raise
        finally:
            self._keep_driver_connection(pooled, unit.release())

    def _take_driver_connection(self) -> tuple[PoolProxiedConnection, Kept | None]:
        if self._driver_pid != os.getpid():
            # A forked child: the kept connections are the parent's sockets. Forgotten, never
            # closed (closing would end the parent's sessions with the server).
            self._driver_idle = []
            self._driver_pid = os.getpid()
        while True:
            try:
                pooled, since, kept = self._driver_idle.pop()
            except IndexError:
                return self.engine.raw_connection(), None
            if time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
                return pooled, kept
            try:  # idle for a while: a server restart or a dropped link shows up here
                _ping(pooled.dbapi_connection)
                return pooled, kept
            except DisconnectionError:
                pooled.invalidate()
                pooled.close()

    def _keep_driver_connection(self, pooled: PoolProxiedConnection, kept: Kept) -> None:
        driver = pooled.dbapi_connection
        usable = (
            pooled.is_valid
            and driver is not None
            and not getattr(driver, "closed", False)
            and not getattr(driver, "broken", False)
        )
        if usable and len(self._driver_idle) < self.driver_connections:
            self._driver_idle.append((pooled, time.monotonic(), kept))
        else:
            kept.close()
            pooled.close()

    def dispose(self) -> None:
        while self._driver_idle:
            self._driver_idle.pop()[0].close()
        self.engine.dispose()


def open_database(url: str | None = None, *, pool_size: int = 5) -> Database:
    """Open (not migrate) the database at ``url`` (default: :func:`database_url`).

    ``pool_size``: PostgreSQL connections kept open; size it to the threads that may hold one at
    once. Connections beyond it (up to as many again) are opened when needed and closed when
    returned: a new backend costs PostgreSQL a process start, so a pool that is too small turns
    each request beyond it into a connection set-up."""
    url = _normalise(url or database_url())
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    elif parsed.get_backend_name() == "postgresql":
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)
        event.listen(engine, "checkin", _note_idle_since)
        event.listen(engine, "checkout", _ping_if_idle)
    else:
        raise ValueError(f"unsupported database: {parsed.get_backend_name()}")
    return Database(engine, sessionmaker(engine, expire_on_commit=False), max(1, pool_size // 2))


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Apply the migrations up to ``revision``."""
    cfg = _alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(db: Database, revision: str) -> None:
    cfg = _alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()
