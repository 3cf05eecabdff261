"""What the speed work must not change: a certificate parsed (and cached) once is still judged
by the database's facts, and the audit events batched at commit keep the chain's guarantees."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from bank_support import (
    OFFICER,
    Bank,
    bank,
    clock,
    db,
    db_url,
    pg_worker_database,
    sqlite_template,
)
from sqlalchemy import event, func, select

from bankkeys.bank import audit
from bankkeys.bank.ca import RevocationReason
from bankkeys.bank.errors import PathNotAllowed, SignatureInvalid
from bankkeys.bank.store.db import Database
from bankkeys.bank.store.models import AuditEvent, AuditHead

__all__ = ["bank", "clock", "db", "db_url", "pg_worker_database", "sqlite_template"]

NOW = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)


def test_revoked_certificate_is_not_served_from_the_parse_cache(bank: Bank) -> None:
    wf, client = bank.workflow, bank.new_client()
    serial = bank.first_key(client)
    _key, pkcs10 = client.new_request()
    rid = wf.submit_request(client.actor, client.signer_id, client.signed(pkcs10))  # parsed now
    wf.cancel(client.actor, rid)
    wf.revoke(OFFICER, serial, RevocationReason.KEY_COMPROMISE)
    _key, pkcs10 = client.new_request()
    with pytest.raises(PathNotAllowed):
        wf.submit_request(client.actor, client.signer_id, client.signed(pkcs10))


def test_superseded_certificate_no_longer_signs_requests(bank: Bank) -> None:
    wf, client = bank.workflow, bank.new_client()
    bank.first_key(client)
    old_key, old_der = client.key, client.certificate_der
    bank.clock.advance(days=340)
    bank.renew(client)  # installed: the new certificate is now the current one
    client.key, client.certificate_der = old_key, old_der
    _key, pkcs10 = client.new_request()
    with pytest.raises(SignatureInvalid, match="не действующим сертификатом"):
        wf.submit_request(client.actor, client.signer_id, client.signed(pkcs10))


def _append(s: Any, i: int) -> None:
    audit.append(s, at=NOW, actor="op", role="operator", action=f"a{i}", details={"i": i})


def _chain(db: Database) -> list[str]:
    with db.transaction() as s:
        assert audit.verify(s) == []
        return list(s.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def test_events_of_one_transaction_are_chained_in_order_under_one_head_lock(db: Database) -> None:
    head_locks: list[str] = []

    def count(_conn: Any, _cur: Any, statement: str, *_args: Any) -> None:
        # The head's lock is its only statement with a LIMIT (the first free chain's head).
        if "audit_head" in statement and "LIMIT" in statement.upper():
            head_locks.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.transaction() as s:
            for i in range(3):
                _append(s, i)
        with db.transaction() as s:
            _append(s, 3)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(head_locks) == 2
    assert _chain(db) == ["a0", "a1", "a2", "a3"]
    with db.transaction() as s:
        head = s.get(AuditHead, audit.HEAD_ID)
        last = s.execute(select(AuditEvent).where(AuditEvent.seq == 4)).scalar_one()
        assert head is not None and (head.seq, head.hash) == (4, last.hash)


def test_rolled_back_work_leaves_no_events(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction() as s:
        _append(s, 0)
        raise RuntimeError("refused")
    with db.transaction() as s:
        _append(s, 1)
        with pytest.raises(RuntimeError), s.begin_nested():
            _append(s, 2)
            raise RuntimeError("savepoint refused")
        with s.begin_nested():
            _append(s, 3)
    with db.transaction() as s:
        pass  # a transaction without events does not touch the chain
    assert _chain(db) == ["a1", "a3"]
    with db.transaction() as s:
        assert s.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == 2


def test_reading_takes_no_write_lock_and_keeps_nothing(db: Database) -> None:
    with db.reading() as r:
        before = r.execute(select(func.sum(AuditHead.seq))).scalar_one()
        with db.transaction() as w:  # a writer commits while the reader is open
            _append(w, 0)
        _append(r, 1)  # queued in a read-only unit of work: rolled back, never written
    assert before == 0
    assert _chain(db) == ["a0"]


def test_a_large_batch_of_events_in_one_transaction(db: Database) -> None:
    n = 6200  # 11 parameters each: more than one PostgreSQL statement can carry
    with db.transaction() as s:
        for i in range(n):
            _append(s, i)
    actions = _chain(db)
    assert len(actions) == n and actions[0] == "a0" and actions[-1] == f"a{n - 1}"
