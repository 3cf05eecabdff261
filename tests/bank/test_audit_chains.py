"""Several audit chains: an append takes a head no one holds, each chain verifies on its own,
tampering with any chain is found, anchors mark every chain, and migration 0006 keeps the log."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from bank_support import db, db_url, fresh_pg, pg_worker_database, sqlite_template
from sqlalchemy import Column, Integer, MetaData, Table, bindparam, event, insert, select, text

from bankkeys.bank import audit
from bankkeys.bank.store import db as store_db
from bankkeys.bank.store.db import Database
from bankkeys.bank.store.models import AuditEvent, AuditHead

__all__ = ["db", "db_url", "pg_worker_database", "sqlite_template"]

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def _append(db: Database, action: str, *, driver: bool = False) -> None:
    if driver:
        with db.driver_transaction(audit.write_pending) as unit:
            audit.append(unit, at=NOW, actor="op", role="operator", action=action)
    else:
        with db.transaction() as s:
            audit.append(s, at=NOW, actor="op", role="operator", action=action)


def _events(db: Database) -> list[tuple[int, int, str]]:
    with db.transaction() as s:
        rows = s.execute(select(AuditEvent.seq, AuditEvent.chain, AuditEvent.action)
                         .order_by(AuditEvent.seq)).all()  # fmt: skip
    return [(r.seq, r.chain, r.action) for r in rows]


def _problems(db: Database, anchors: list[audit.Anchor] | None = None) -> list[tuple[int, str]]:
    with db.reading() as s:
        return [(p.seq, p.kind) for p in audit.verify(s, anchors=anchors or [])]


def _anchor(db: Database) -> audit.Anchor:
    with db.reading() as s:
        return audit.anchor(s)


@contextmanager
def _holding_heads(db: Database, chains: list[int]) -> Iterator[None]:
    """Another server's transaction holding these chains' heads until the block ends."""
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as side:
        side.execute("SELECT id FROM audit_head WHERE id = ANY(%s) FOR UPDATE", (chains,))
        yield
        side.rollback()


@pytest.fixture()
def pg_db(pg_worker_database: str) -> Iterator[Database]:
    """PostgreSQL only: on SQLite one writer runs at a time, so every append finds chain 1 free
    and no head is ever held by another."""
    fresh_pg(pg_worker_database).dispose()
    database = store_db.open_database(pg_worker_database, pool_size=8)
    yield database
    database.dispose()


def test_an_append_takes_the_next_chain_while_one_is_held(pg_db: Database) -> None:
    db = pg_db
    _append(db, "first")
    with _holding_heads(db, [1]):
        _append(db, "beside", driver=True)  # returns: it did not wait for chain 1
        _append(db, "beside again")
    _append(db, "after")
    assert [(chain, action) for _seq, chain, action in _events(db)] == [
        (1, "first"), (2, "beside"), (2, "beside again"), (1, "after"),
    ]  # fmt: skip
    seqs = [seq for seq, _chain, _action in _events(db)]
    assert seqs == sorted(set(seqs))
    assert _problems(db) == []
    kept = _anchor(db)
    assert len(kept.marks) == 2  # one mark per chain with events
    assert _problems(db, [kept]) == []


def test_every_chain_held_means_waiting_not_failing(pg_db: Database) -> None:
    db = pg_db
    done: list[BaseException | None] = []

    def append() -> None:
        try:
            _append(db, "waited")
            done.append(None)
        except BaseException as exc:  # pragma: no cover - reported below
            done.append(exc)

    with _holding_heads(db, list(range(1, 9))):
        writer = threading.Thread(target=append)
        writer.start()
        time.sleep(0.5)
        assert writer.is_alive() and done == []  # waiting for a head, not failed
    writer.join(10)
    assert done == [None]
    assert [(chain, action) for _seq, chain, action in _events(db)] == [(1, "waited")]
    assert _problems(db) == []


def test_concurrent_writers_spread_over_chains_and_every_chain_verifies(pg_db: Database) -> None:
    db = pg_db
    threads, per_thread = 4, 25
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                _append(db, f"t{k}-{i}", driver=i % 2 == 0)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    events = _events(db)
    assert len(events) == threads * per_thread
    assert len({seq for seq, _c, _a in events}) == len(events)
    assert _problems(db) == []
    with db.transaction() as s:
        heads = {h.id: h.seq for h in s.execute(select(AuditHead)).scalars()}
    for chain in {c for _s, c, _a in events}:  # each head is its chain's last event
        assert heads[chain] == max(seq for seq, c, _a in events if c == chain)


# --- a log on two chains, tampered with -----------------------------------------------------------


def _two_chains(db: Database) -> None:
    """Six events: odd seqs on chain 1, even on chain 2, linked as the bank links them (built by
    hand, so that SQLite, which never needs a second chain, is checked too)."""
    for i in range(1, 7):
        _append(db, f"e{i}")
    with db.transaction() as s:
        prev = {1: audit.GENESIS_HASH, 2: audit.GENESIS_HASH}
        last = {1: 0, 2: 0}
        for event in s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars():
            event.chain = 1 if event.seq % 2 else 2
            event.prev_hash = prev[event.chain]
            event.hash = prev[event.chain] = audit.event_hash(event)
            last[event.chain] = event.seq
        for chain in (1, 2):
            head = s.get(AuditHead, chain)
            assert head is not None
            head.seq, head.hash = last[chain], prev[chain]


def test_two_chains_verify_and_anchor_each_head(db: Database) -> None:
    _two_chains(db)
    assert _problems(db) == []
    kept = _anchor(db)
    assert [m.seq for m in kept.marks] == [5, 6]
    assert audit.Anchor.parse(kept.line()) == kept
    assert _problems(db, [kept]) == []
    _append(db, "e7")  # the bank goes on after the anchor: still holds
    assert _problems(db, [kept]) == []


def test_a_row_deleted_from_the_middle_of_one_chain(db: Database) -> None:
    _two_chains(db)
    with db.transaction() as s:
        s.execute(text("DELETE FROM audit_events WHERE seq = 4"))
    assert _problems(db) == [(6, "chain-broken")]


def test_an_event_moved_to_the_other_chain(db: Database) -> None:
    _two_chains(db)
    with db.transaction() as s:
        s.execute(text("UPDATE audit_events SET chain = 1 WHERE seq = 4"))
    found = _problems(db)
    assert (4, "chain-broken") in found and (5, "chain-broken") in found


def test_one_chains_tail_deleted_and_its_head_rewound(db: Database) -> None:
    _two_chains(db)
    kept = _anchor(db)
    with db.transaction() as s:
        s.execute(text("DELETE FROM audit_events WHERE seq = 6"))
    assert _problems(db) == [(6, "head-mismatch")]
    with db.transaction() as s:
        fourth = s.get(AuditEvent, 4)
        assert fourth is not None
        s.execute(text("UPDATE audit_head SET seq = 4, hash = :h WHERE id = 2"),
                  {"h": fourth.hash})  # fmt: skip
    assert _problems(db) == []  # intact in itself: only the anchor shows the loss
    assert _problems(db, [kept]) == [(6, "anchor-beyond-end")]


def test_a_row_slipped_in_past_a_head(db: Database) -> None:
    _two_chains(db)
    with db.transaction() as s:
        s.execute(text(
            "INSERT INTO audit_events (seq, at, actor, role, action, details, prev_hash, hash, "
            "chain) SELECT 1000, at, 'mallory', role, action, details, hash, hash, 2 "
            "FROM audit_events WHERE seq = 6"
        ))  # fmt: skip
        s.execute(text(
            "INSERT INTO audit_events (seq, at, actor, role, action, details, prev_hash, hash, "
            "chain) SELECT 1001, at, 'mallory', role, action, details, hash, hash, 9 "
            "FROM audit_events WHERE seq = 6"
        ))  # fmt: skip
    assert _problems(db) == [(1000, "beyond-head"), (1001, "beyond-head")]


def test_verify_beside_writers_on_several_chains(db: Database) -> None:
    """Commits on several chains while verify reads are no tampering (and on SQLite, one chain
    with the writers taking turns)."""
    _append(db, "start")
    stop = threading.Event()
    errors: list[BaseException] = []

    def appender(k: int) -> None:
        try:
            while not stop.wait(0.001):  # throttled: a SQLite WAL cannot shrink under a reader
                _append(db, f"w{k}", driver=k == 0)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writers = [threading.Thread(target=appender, args=(k,)) for k in range(3)]
    for w in writers:
        w.start()
    found: list[list[tuple[int, str]]] = []
    deadline = time.monotonic() + 60
    try:  # until verify has run 20 times and the writers have appended 30 events meanwhile
        while (len(found) < 20 or len(_events(db)) < 31) and time.monotonic() < deadline:
            with db.reading() as s:
                found.append([(p.seq, p.kind) for p in audit.verify(s, batch=20)])
    finally:
        stop.set()
        for w in writers:
            w.join()
    assert errors == []
    assert len(found) >= 20 and all(f == [] for f in found)
    assert len(_events(db)) >= 31
    assert _problems(db) == []


# --- migration 0006 -------------------------------------------------------------------------------


def test_migration_keeps_the_log_and_numbering_continues(db: Database) -> None:
    for i in range(3):
        _append(db, f"before-{i}")
    kept = _anchor(db)
    store_db.downgrade(db, "0005")
    with db.transaction() as s:
        assert s.execute(text("SELECT count(*) FROM audit_head")).scalar_one() == 1
    store_db.upgrade(db)
    assert _problems(db, [kept]) == []  # an anchor of one chain still holds
    _append(db, "after")
    assert [(seq, chain) for seq, chain, _a in _events(db)] == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert _problems(db, [kept]) == []


def test_downgrade_refuses_to_fold_several_chains(db: Database) -> None:
    _two_chains(db)
    with pytest.raises(RuntimeError, match="re-hashing"):
        store_db.downgrade(db, "0005")
    assert store_db.current_revision(db) == store_db.head_revision()
    assert _problems(db) == []


# --- writes at commit ride on the head's lock (PostgreSQL) ---------------------------------------


def _probe(db: Database) -> Table:
    table = Table("chains_probe", MetaData(), Column("id", Integer, primary_key=True))
    with db.transaction() as s:
        table.create(s.connection(), checkfirst=True)
    return table


def test_a_transactions_end_is_two_statements(pg_db: Database) -> None:
    probe = insert(_probe(pg_db)).values(id=bindparam("p_id"))
    seen: list[str] = []

    def count(_conn: Any, _cur: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    with pg_db.transaction() as s:
        s.execute(text("SELECT 1"))
        event.listen(pg_db.engine, "before_cursor_execute", count)
        audit.append(s, at=NOW, actor="op", role="operator", action="with-writes")
        audit.write_at_commit(s, probe, {"p_id": 1})
    event.remove(pg_db.engine, "before_cursor_execute", count)
    assert len(seen) == 2  # the writes with the head's lock; the events with the head's move
    assert "chains_probe" in seen[0] and "FOR UPDATE SKIP LOCKED" in seen[0]
    with pg_db.transaction() as s:
        assert s.execute(text("SELECT id FROM chains_probe")).scalars().all() == [1]
    assert _problems(pg_db) == []


def test_writes_run_once_when_the_append_must_wait(pg_db: Database) -> None:
    probe = insert(_probe(pg_db)).values(id=bindparam("p_id"))
    done: list[BaseException | None] = []

    def append() -> None:
        try:
            with pg_db.driver_transaction(audit.write_pending) as unit:
                audit.append(unit, at=NOW, actor="op", role="operator", action="waited")
                audit.write_at_commit(unit, probe, {"p_id": 7})  # a second run would be refused
            done.append(None)
        except BaseException as exc:  # pragma: no cover - reported below
            done.append(exc)

    with _holding_heads(pg_db, list(range(1, 9))):
        writer = threading.Thread(target=append)
        writer.start()
        time.sleep(0.3)
        assert writer.is_alive()
    writer.join(10)
    assert done == [None]
    with pg_db.transaction() as s:
        assert s.execute(text("SELECT id FROM chains_probe")).scalars().all() == [7]
    assert [action for _seq, _chain, action in _events(pg_db)] == ["waited"]
    assert _problems(pg_db) == []


def test_the_head_lock_is_planned_once_per_connection(pg_db: Database) -> None:
    """The head's locking statement is the one every transaction of the bank ends with. It must
    reach PostgreSQL's generic plan, made once per connection: a parameter its estimate depends
    on (the number of events, given to generate_series) made the server plan it afresh at every
    append, a quarter of its CPU in a renewal."""
    probe = insert(_probe(pg_db)).values(id=bindparam("p_id"))
    for i in range(12):
        with pg_db.driver_transaction(audit.write_pending) as unit:
            for k in range(1 + i % 2):  # one or two events: a shape for each count
                audit.append(unit, at=NOW, actor="op", role="operator", action=f"e{i}.{k}")
            audit.write_at_commit(unit, probe, {"p_id": i})
    with pg_db.driver_transaction() as unit:
        plans = unit.execute(
            text(
                "SELECT generic_plans, custom_plans, statement FROM pg_prepared_statements"
                " WHERE statement LIKE '%FOR UPDATE SKIP LOCKED%'"
            )
        ).all()
    assert plans, "the head's locking statement was not prepared on the driver connection"
    for generic, custom, statement in plans:
        # PostgreSQL tries five custom plans before it compares them with the generic one.
        assert custom <= 5 and generic >= 1, (generic, custom, statement[:200])
    assert _problems(pg_db) == []


# --- a long verify beside SQLite's WAL ------------------------------------------------------------


@pytest.fixture()
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """SQLite only: the WAL and its checkpoints are SQLite's."""
    path = tmp_path / "bank.db"
    shutil.copyfile(sqlite_template, path)
    database = store_db.open_database(f"sqlite:///{path}")
    yield database
    database.dispose()


def test_a_long_verify_lets_the_wal_be_checkpointed(sqlite_db: Database) -> None:
    db = sqlite_db
    for i in range(600):  # in the WAL, not yet checkpointed
        _append(db, f"e{i}", driver=True)
    path = db.engine.url.database
    assert path is not None

    # The checkpointer counts from «armed» (the verify holds what it holds) to «done» (set
    # before the verify lets go of it).
    armed, done = threading.Event(), threading.Event()

    def checkpoints_while(verify: Callable[[], list[audit.AuditProblem]]) -> int:
        succeeded = [0]

        def checkpointer() -> None:
            side = sqlite3.connect(path, timeout=0)
            try:
                armed.wait()
                while not done.is_set():
                    busy, _log, _moved = side.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                    # Counted only if it ended before «done»: it ran wholly while held.
                    succeeded[0] += busy == 0 and not done.is_set()
                    time.sleep(0.0005)
            finally:
                side.close()

        armed.clear()
        done.clear()
        worker = threading.Thread(target=checkpointer)
        worker.start()
        try:
            assert verify() == []
        finally:
            armed.set()
            done.set()
            worker.join()
        return succeeded[0]

    def in_one_transaction() -> list[audit.AuditProblem]:
        with db.reading() as s:
            s.execute(text("SELECT count(*) FROM audit_events")).scalar_one()  # the snapshot
            armed.set()  # only now: a checkpoint before the snapshot would rightly succeed
            time.sleep(0.05)  # the checkpointer tries while the snapshot is held
            problems = audit.verify(s, batch=5)
            done.set()
            return problems

    def in_pages() -> list[audit.AuditProblem]:
        armed.set()
        return audit.verify(db.reading, batch=2)

    assert checkpoints_while(in_one_transaction) == 0  # the snapshot holds the WAL
    for i in range(50):  # frames in the WAL again
        _append(db, f"more{i}", driver=True)
    assert checkpoints_while(in_pages) > 0
