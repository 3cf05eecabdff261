"""Races: two operators approving one request, two submissions, two ticks at once — on SQLite
and PostgreSQL, with real threads and separate connections."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from bank_support import (
    OPERATOR,
    OPERATOR2,
    PAPER,
    Bank,
    bank,
    clock,
    db,
    db_url,
    pg_worker_database,
    sqlite_template,
)
from sqlalchemy import func, insert, select

from bankkeys.bank import audit
from bankkeys.bank.errors import BankError, InvalidTransition, OpenRequestExists
from bankkeys.bank.store.models import (
    AuditEvent,
    Certificate,
    Notification,
    Organization,
    RekeyRequest,
    Signer,
)
from bankkeys.bank.tick import tick

__all__ = ["bank", "clock", "db", "db_url", "pg_worker_database", "sqlite_template"]


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Start the calls at the same moment; results or the BankError each raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except BankError as exc:
            results[i] = exc
        except BaseException as exc:  # pragma: no cover - surfaced by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def ready_request(bank: Bank) -> int:
    client = bank.new_client()
    _k, pkcs10 = client.new_request()
    rid = bank.workflow.submit_request(client.actor, client.signer_id, pkcs10,
                                       activation_code=client.activation_code)  # fmt: skip
    bank.workflow.receive_documents(OPERATOR, rid, PAPER)
    return rid


def certificates_for(bank: Bank, rid: int) -> int:
    with bank.db.transaction() as s:
        return s.execute(
            select(func.count()).select_from(Certificate).where(Certificate.request_id == rid)
        ).scalar_one()


@pytest.mark.parametrize("round_", range(3))
def test_two_operators_approving_at_once_issue_one_certificate(bank: Bank, round_: int) -> None:
    rid = ready_request(bank)
    results = race(lambda: bank.workflow.approve(OPERATOR, rid),
                   lambda: bank.workflow.approve(OPERATOR2, rid))  # fmt: skip
    issued = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(issued) == 1 and issued[0].certificate_serial is not None
    assert len(refused) == 1 and isinstance(refused[0], InvalidTransition)
    assert certificates_for(bank, rid) == 1
    with bank.db.transaction() as s:
        assert audit.verify(s) == []


def test_four_eyes_race_of_two_distinct_operators_issues_once(bank: Bank) -> None:
    bank.with_policy(four_eyes=True)
    rid = ready_request(bank)
    results = race(lambda: bank.workflow.approve(OPERATOR, rid),
                   lambda: bank.workflow.approve(OPERATOR2, rid))  # fmt: skip
    assert not any(isinstance(r, BaseException) for r in results), results
    assert sorted(r.approvals for r in results) == [1, 2]
    assert [r.certificate_serial is not None for r in results].count(True) == 1
    assert certificates_for(bank, rid) == 1


def test_two_submissions_at_once_open_one_request(bank: Bank) -> None:
    client = bank.new_client()
    bank.first_key(client)
    (_a, first), (_b, second) = client.new_request(), client.new_request()
    cms1, cms2 = client.signed(first), client.signed(second)
    results = race(
        lambda: bank.workflow.submit_request(client.actor, client.signer_id, cms1),
        lambda: bank.workflow.submit_request(client.actor, client.signer_id, cms2),
    )
    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, OpenRequestExists) for r in results) == 1
    with bank.db.transaction() as s:
        open_count = s.execute(
            select(func.count()).select_from(RekeyRequest).where(RekeyRequest.state == "accepted")
        ).scalar_one()
    assert open_count == 1


def populate(bank: Bank, n: int, *, with_requests: bool = False) -> None:
    """``n`` signers whose certificates are inside the renewal window (rows written directly)."""
    now = bank.clock()
    with bank.db.transaction() as s:
        org_id = s.execute(select(Organization.id)).scalar_one()
        s.execute(insert(Signer), [
            {"organization_id": org_id, "login": f"bulk{i}", "surname": "Б", "given_name": "Б Б",
             "position": "П", "snils": "11223344595", "email": "b@example.ru", "phone": "1",
             "acting_on": "Устава", "created_at": now}
            for i in range(n)
        ])  # fmt: skip
        ids = s.execute(select(Signer.id).where(Signer.login.like("bulk%"))).scalars().all()
        s.execute(insert(Certificate), [
            {"serial": f"b{i:x}", "signer_id": sid, "is_ca": False, "der": b"\x30\x00",
             "not_before": now - timedelta(days=350), "not_after": now + timedelta(days=15),
             "key_fingerprint": f"{i:064x}", "issued_at": now - timedelta(days=350)}
            for i, sid in enumerate(ids)
        ])  # fmt: skip
        if with_requests:
            s.execute(insert(RekeyRequest), [
                {"signer_id": sid, "kind": "renewal", "path": "old-key", "state": "accepted",
                 "submitted_der": b"x", "pkcs10_der": b"x", "public_key_info": b"x",
                 "key_fingerprint": f"r{i:063x}", "subject_json": "{}",
                 "accepted_at": now - timedelta(days=31)}
                for i, sid in enumerate(ids)
            ])  # fmt: skip


def test_two_ticks_at_once_queue_each_notice_once(bank: Bank) -> None:
    populate(bank, 150)
    now, policy = bank.clock(), bank.workflow.policy
    results = race(lambda: tick(bank.db, now, policy), lambda: tick(bank.db, now, policy))
    assert not any(isinstance(r, BaseException) for r in results), results
    assert sum(r.renewal_notices for r in results) == 150
    with bank.db.transaction() as s:
        keys = s.execute(select(Notification.key)).scalars().all()
    assert len(keys) == len(set(keys)) == 150


def test_two_ticks_at_once_expire_each_request_once(bank: Bank) -> None:
    populate(bank, 60, with_requests=True)
    now, policy = bank.clock(), bank.workflow.policy
    results = race(lambda: tick(bank.db, now, policy), lambda: tick(bank.db, now, policy))
    assert not any(isinstance(r, BaseException) for r in results), results
    assert sum(r.requests_expired for r in results) == 60
    with bank.db.transaction() as s:
        expirations = s.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "expire_request")
        ).scalar_one()
        assert audit.verify(s) == []
        expired_notices = s.execute(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "request-expired")
        ).scalar_one()
    assert expirations == 60 and expired_notices == 60
