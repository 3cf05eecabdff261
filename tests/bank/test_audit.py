"""The audit chain finds edited, deleted and reordered rows; concurrent appends stay one line."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from bank_support import db, db_url, pg_worker_database, sqlite_template
from sqlalchemy import Column, Integer, MetaData, Table, bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bankkeys.bank import audit, notifications
from bankkeys.bank.store.db import Database
from bankkeys.bank.store.models import AuditEvent, AuditHead, Notification

__all__ = ["db", "db_url", "pg_worker_database", "sqlite_template"]

NOW = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)


def fill(db: Database, n: int = 5) -> None:
    for i in range(n):
        with db.transaction() as s:
            audit.append(s, at=NOW, actor="op", role="operator", action="approve",
                         request_id=i, details={"i": i, "text": "Принят банком"})  # fmt: skip


def problems(db: Database) -> list[tuple[int, str]]:
    with db.transaction() as s:
        return [(p.seq, p.kind) for p in audit.verify(s)]


def test_intact_chain_verifies_and_uses_streebog(db: Database) -> None:
    fill(db)
    assert problems(db) == []
    with db.transaction() as s:
        first = s.get(AuditEvent, 1)
        assert first is not None and first.prev_hash == "0" * 64
        # The stored hash is Streebog-256 of the canonical form (not SHA-256).
        from bankkeys.gost.streebog import streebog256

        assert first.hash == streebog256(audit.canonical_form(first)).hexdigest()


def test_edited_row_is_found(db: Database) -> None:
    fill(db)
    with db.transaction() as s:
        s.execute(text("UPDATE audit_events SET details = :d WHERE seq = 3"), {"d": '{"i":99}'})
    assert problems(db) == [(3, "edited")]


def test_edited_actor_is_found(db: Database) -> None:
    fill(db)
    with db.transaction() as s:
        s.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2"))
    assert problems(db) == [(2, "edited")]


def test_deleted_row_is_found(db: Database) -> None:
    fill(db)
    with db.transaction() as s:
        s.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    assert problems(db) == [(4, "chain-broken")]


def test_reordered_rows_are_found(db: Database) -> None:
    fill(db)
    with db.transaction() as s:  # swap rows 2 and 4 by renumbering them
        s.execute(text("UPDATE audit_events SET seq = 100 WHERE seq = 2"))
        s.execute(text("UPDATE audit_events SET seq = 2 WHERE seq = 4"))
        s.execute(text("UPDATE audit_events SET seq = 4 WHERE seq = 100"))
    found = problems(db)
    assert {seq for seq, _ in found} >= {2, 4}
    assert any(kind == "chain-broken" for _, kind in found)


def test_truncated_tail_is_found(db: Database) -> None:
    fill(db)
    with db.transaction() as s:
        s.execute(text("DELETE FROM audit_events WHERE seq = 5"))
    assert problems(db) == [(5, "head-mismatch")]


def test_rehashed_forgery_still_breaks_the_chain(db: Database) -> None:
    # An attacker who recomputes the edited row's own hash still breaks the next link.
    fill(db)
    with db.transaction() as s:
        row = s.get(AuditEvent, 2)
        assert row is not None
        row.actor = "mallory"
        row.hash = audit.event_hash(row)
    assert problems(db) == [(3, "chain-broken")]


def test_concurrent_appends_form_one_chain(db: Database) -> None:
    threads, per_thread = 4, 15
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with db.transaction() as s:
                    audit.append(s, at=NOW, actor=f"t{k}", role="system", action="x",
                                 details={"i": i})  # fmt: skip
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    assert problems(db) == []
    with db.transaction() as s:
        seqs = s.execute(select(AuditEvent.seq).order_by(AuditEvent.seq)).scalars().all()
    assert seqs == list(range(1, threads * per_thread + 1))


@pytest.mark.parametrize("value", [{"b": 1, "a": "я"}, {"a": "я", "b": 1}])
def test_canonical_json_is_order_independent(value: dict[str, object]) -> None:
    assert audit.canonical_json(value) == '{"a":"я","b":1}'


@pytest.mark.parametrize("batch", [1, 2, 8, 9, 40])
def test_batches_of_every_size_chain_in_order(db: Database, batch: int) -> None:
    # One statement per event count up to a limit, an executemany above it: both chain alike.
    for round_ in range(2):
        with db.transaction() as s:
            for i in range(batch):
                audit.append(s, at=NOW, actor="op", role="operator", action="approve",
                             request_id=i, details={"round": round_, "i": i})  # fmt: skip
    assert problems(db) == []
    with db.transaction() as s:
        rows = s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        assert [e.seq for e in rows] == list(range(1, 2 * batch + 1))
        assert [e.request_id for e in rows] == list(range(batch)) * 2
        head = s.get(AuditHead, audit.HEAD_ID)
        assert head is not None and (head.seq, head.hash) == (2 * batch, rows[-1].hash)


# --- anchors kept outside the database ------------------------------------------------------------


def _anchor(db: Database) -> audit.Anchor:
    with db.transaction() as s:
        return audit.anchor(s)


def _hash_of(db: Database, seq: int) -> str:
    with db.transaction() as s:
        return str(s.execute(select(AuditEvent.hash).where(AuditEvent.seq == seq)).scalar_one())


def _found_with(db: Database, anchors: list[audit.Anchor]) -> list[tuple[int, str]]:
    with db.transaction() as s:
        return [(p.seq, p.kind) for p in audit.verify(s, anchors=anchors)]


def test_a_rewound_head_passes_alone_but_not_against_an_anchor(db: Database) -> None:
    # Deleting the newest rows and moving the head back to the new last row leaves a chain that
    # is intact in itself: only a mark of the head kept outside the database shows the loss.
    fill(db, 5)
    kept = _anchor(db)
    assert kept.marks == (audit.Mark(5, _hash_of(db, 5)),)
    with db.transaction() as s:
        s.execute(text("DELETE FROM audit_events WHERE seq > 3"))
        last = s.get(AuditEvent, 3)
        assert last is not None
        s.execute(text("UPDATE audit_head SET seq = 3, hash = :h WHERE id = 1"), {"h": last.hash})
    assert problems(db) == []
    assert _found_with(db, [kept]) == [(5, "anchor-beyond-end")]


def test_a_rewritten_chain_breaks_an_anchor(db: Database) -> None:
    fill(db, 4)
    kept = _anchor(db)
    with db.transaction() as s:
        s.execute(text("UPDATE audit_events SET details = '{}' WHERE seq = 2"))
    with db.transaction() as s:
        rows = s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        prev = audit.GENESIS_HASH
        for row in rows:  # the forger re-chains every row and the head
            row.prev_hash = prev
            row.hash = prev = audit.event_hash(row)
        s.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})
    assert problems(db) == []
    assert _found_with(db, [kept]) == [(4, "anchor-mismatch")]


def test_anchors_of_a_growing_chain_all_hold(db: Database) -> None:
    marks = [_anchor(db)]  # the genesis: seq 0
    for _ in range(3):
        fill(db, 2)
        marks.append(_anchor(db))
    assert [[m.seq for m in a.marks] for a in marks] == [[0], [2], [4], [6]]
    assert _found_with(db, marks) == []
    forged_genesis = audit.Anchor((audit.Mark(0, "ab" * 32),))
    assert _found_with(db, [forged_genesis]) == [(0, "anchor-mismatch")]


def test_anchor_lines_read_back_and_refuse_garbage() -> None:
    mark = audit.Anchor((audit.Mark(12, "ab" * 32),))
    assert mark.line() == "bankkeys-audit-anchor seq=12 hash=" + "ab" * 32  # as before chains
    assert audit.Anchor.parse(mark.line()) == mark
    several = audit.Anchor((audit.Mark(3, "cd" * 32), audit.Mark(12, "ab" * 32)))
    assert several.line().count(" seq=") == 2
    assert audit.Anchor.parse(several.line()) == several
    for bad in ["", "bankkeys-audit-anchor seq=x hash=" + "ab" * 32,
                "bankkeys-audit-anchor seq=1 hash=" + "ab" * 31,
                "bankkeys-audit-anchor seq=-1 hash=" + "ab" * 32,
                "other seq=1 hash=" + "ab" * 32,
                "bankkeys-audit-anchor seq=1 hash=" + "AB" * 32,
                "bankkeys-audit-anchor seq=1 hash=" + "ab" * 32 + " seq=2",
                "bankkeys-audit-anchor seq=1 hash=" + "ab" * 32 + "seq=2 hash=" + "ab" * 32,
                "bankkeys-audit-anchor"]:  # fmt: skip
        with pytest.raises(ValueError, match="отметка"):
            audit.Anchor.parse(bad)


# --- writes handed over to the commit ------------------------------------------------------------


def _note(key: str, i: int) -> dict[str, object]:
    return {"n_key": key, "n_kind": "request-accepted", "n_signer_id": None,
            "n_payload": f'{{"i":{i}}}', "n_created_at": NOW}  # fmt: skip


def _queue_note(s: Session, key: str, i: int) -> None:
    dialect = s.get_bind().dialect.name
    audit.write_at_commit(s, notifications._queueing(dialect, returning=False), _note(key, i))


def _notes(db: Database) -> list[str]:
    with db.transaction() as s:
        return list(s.execute(select(Notification.key).order_by(Notification.key)).scalars())


def test_writes_at_commit_land_with_the_events(db: Database) -> None:
    with db.transaction() as s:
        audit.append(s, at=NOW, actor="op", role="operator", action="approve")
        _queue_note(s, "a", 1)
        assert _notes_in(s) == []  # not before the commit
    assert _notes(db) == ["a"]
    assert problems(db) == []


def _notes_in(s: Session) -> list[str]:
    return list(s.execute(select(Notification.key)).scalars())


def test_a_rolled_back_savepoint_drops_its_writes(db: Database) -> None:
    with db.transaction() as s:
        audit.append(s, at=NOW, actor="op", role="operator", action="approve")
        _queue_note(s, "kept", 1)
        nested = s.begin_nested()
        _queue_note(s, "dropped", 2)
        audit.append(s, at=NOW, actor="op", role="operator", action="dropped")
        nested.rollback()
    assert _notes(db) == ["kept"]
    with db.transaction() as s:
        assert list(s.execute(select(AuditEvent.action)).scalars()) == ["approve"]


def test_a_failing_write_fails_the_commit_and_writes_nothing(db: Database) -> None:
    table = Table("at_commit_probe", MetaData(), Column("id", Integer, primary_key=True))
    with db.transaction() as s:
        table.create(s.connection(), checkfirst=True)
    probe = insert(table).values(id=bindparam("p_id"))
    with db.transaction() as s:
        s.execute(probe, {"p_id": 1})
    with pytest.raises(IntegrityError), db.transaction() as s:
        audit.append(s, at=NOW, actor="op", role="operator", action="approve")
        _queue_note(s, "lost", 1)
        audit.write_at_commit(s, probe, {"p_id": 1})  # the primary key refuses it
    assert _notes(db) == []
    with db.transaction() as s:
        assert s.execute(select(AuditEvent)).first() is None
    assert problems(db) == []


def test_two_writes_with_one_parameter_name(db: Database) -> None:
    # PostgreSQL sends the writes as one statement, where a shared name would bind one value
    # to both: refused. SQLite runs them one by one, so both land.
    def two_notes() -> None:
        with db.transaction() as s:
            audit.append(s, at=NOW, actor="op", role="operator", action="approve")
            _queue_note(s, "a", 1)
            _queue_note(s, "b", 2)

    if db.dialect == "postgresql":
        with pytest.raises(ValueError, match="n_key"):
            two_notes()
        assert _notes(db) == []
    else:
        two_notes()
        assert _notes(db) == ["a", "b"]


def test_verify_beside_a_working_bank_reports_nothing(db: Database) -> None:
    """Events committed while verify reads (between its pages, between the events and the
    head) are no tampering: a live bank's log verifies clean at any moment."""
    fill(db, 10)
    stop = threading.Event()
    errors: list[BaseException] = []

    def appender() -> None:
        try:
            while not stop.wait(0.0005):  # a steady trickle: verify keeps up with it
                with db.driver_transaction(audit.write_pending) as unit:
                    audit.append(unit, at=NOW, actor="op", role="operator", action="live")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writer = threading.Thread(target=appender)
    writer.start()
    found: list[list[tuple[int, str]]] = []
    try:
        for _ in range(30):
            with db.reading() as s:
                found.append([(p.seq, p.kind) for p in audit.verify(s, batch=50)])
    finally:
        stop.set()
        writer.join()
    assert errors == []
    assert found == [[]] * 30
    with db.transaction() as s:
        grown = s.execute(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).scalars().first()
    assert grown is not None and grown > 10  # the bank did write while verify read
