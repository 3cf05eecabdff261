"""The scheduler step: renewal window, expiry, request expiry, retirement, CRL; idempotent."""

from __future__ import annotations

from datetime import timedelta

from bank_support import (
    OPERATOR,
    Bank,
    bank,
    clock,
    db,
    db_url,
    pg_worker_database,
    sqlite_template,
)
from sqlalchemy import func, select

from bankkeys.bank import audit
from bankkeys.bank.store.models import Certificate, Crl, Notification
from bankkeys.bank.tick import tick
from bankkeys.bank.workflow import Status
from bankkeys.pki.certificates import parse_certificate
from bankkeys.pki.crls import parse_crl, verify_crl_signature

__all__ = ["bank", "clock", "db", "db_url", "pg_worker_database", "sqlite_template"]


def run(bank: Bank) -> object:
    return tick(bank.db, bank.clock(), bank.workflow.policy, bank.ca)


def notices(bank: Bank, kind: str) -> list[str]:
    with bank.db.transaction() as s:
        return list(s.execute(select(Notification.key).where(Notification.kind == kind)).scalars())


def test_renewal_window_notice_once(bank: Bank) -> None:
    client = bank.new_client()
    serial = bank.first_key(client)
    not_after = parse_certificate(bank.certificate_of(serial)).not_after
    assert tick(bank.db, bank.clock(), bank.workflow.policy).renewal_notices == 0
    bank.clock.now = not_after - timedelta(days=30)
    first = tick(bank.db, bank.clock(), bank.workflow.policy)
    assert first.renewal_notices == 1
    assert tick(bank.db, bank.clock.advance(hours=1), bank.workflow.policy).renewal_notices == 0
    assert notices(bank, "renewal-window-opened") == [f"renewal-window-opened:{serial}"]
    assert bank.workflow.status(client.signer_id).status is Status.RENEWAL_REQUIRED


def test_open_request_or_successor_suppresses_the_notice(bank: Bank) -> None:
    a, b = bank.new_client(), bank.new_client("Петров")
    bank.first_key(a)
    bank.first_key(b)
    bank.clock.advance(days=340)
    _k, pkcs10 = a.new_request()
    bank.workflow.submit_request(a.actor, a.signer_id, a.signed(pkcs10))  # a has a request open
    bank.renew(b)  # b already has its new certificate
    assert run(bank).renewal_notices == 0  # type: ignore[attr-defined]


def test_unconfirmed_request_expires_once(bank: Bank) -> None:
    client = bank.new_client()
    _k, pkcs10 = client.new_request()
    bank.workflow.submit_request(client.actor, client.signer_id, pkcs10,
                                 activation_code=client.activation_code)  # fmt: skip
    bank.clock.advance(days=29)
    assert run(bank).requests_expired == 0  # type: ignore[attr-defined]
    bank.clock.advance(days=2)
    assert run(bank).requests_expired == 1  # type: ignore[attr-defined]
    assert run(bank).requests_expired == 0  # type: ignore[attr-defined]
    status = bank.workflow.status(client.signer_id)
    assert status.status is Status.REQUEST_EXPIRED
    assert notices(bank, "request-expired") != []


def test_old_key_retired_after_grace_and_crl_lists_it(bank: Bank) -> None:
    client = bank.new_client()
    old = bank.first_key(client)
    bank.clock.advance(days=340)
    new = bank.renew(client)
    assert run(bank).certificates_retired == 0  # type: ignore[attr-defined]
    bank.clock.advance(days=15)
    report = run(bank)
    assert report.certificates_retired == 1  # type: ignore[attr-defined]
    assert report.crl_number is not None  # type: ignore[attr-defined]
    assert run(bank).certificates_retired == 0  # type: ignore[attr-defined]
    with bank.db.transaction() as s:
        crl_der = s.execute(select(Crl.der).order_by(Crl.number.desc()).limit(1)).scalar_one()
        revoked = (
            s.execute(select(Certificate.serial).where(Certificate.revoked_at.is_not(None)))
            .scalars()
            .all()
        )
        assert audit.verify(s) == []
    assert revoked == [old]
    crl = parse_crl(crl_der)
    verify_crl_signature(crl, bank.ca.certificate.public_key_info)
    assert [(format(e.serial, "x"), e.reason) for e in crl.entries] == [(old, "superseded")]
    assert bank.workflow.status(client.signer_id).certificate_serial == new


def test_expired_certificate_notice_once(bank: Bank) -> None:
    client = bank.new_client()
    serial = bank.first_key(client)
    bank.clock.now = parse_certificate(bank.certificate_of(serial)).not_after + timedelta(hours=1)
    assert run(bank).expiry_notices == 1  # type: ignore[attr-defined]
    assert run(bank).expiry_notices == 0  # type: ignore[attr-defined]


def test_crl_published_on_schedule(bank: Bank) -> None:
    first = run(bank).crl_number  # type: ignore[attr-defined]
    assert first == 1
    assert run(bank).crl_number is None  # type: ignore[attr-defined]
    bank.clock.advance(hours=17)
    assert run(bank).crl_number is None  # type: ignore[attr-defined]
    bank.clock.advance(hours=2)  # within 6 h of nextUpdate (1 day)
    assert run(bank).crl_number == 2  # type: ignore[attr-defined]
    with bank.db.transaction() as s:
        assert s.execute(select(func.count()).select_from(Crl)).scalar_one() == 2


def test_revocation_publishes_a_crl_at_once(bank: Bank) -> None:
    from bankkeys.bank.ca import RevocationReason

    client = bank.new_client()
    serial = bank.first_key(client)
    bank.workflow.revoke(OPERATOR, serial, RevocationReason.KEY_COMPROMISE)
    with bank.db.transaction() as s:
        der = s.execute(select(Crl.der).order_by(Crl.number.desc()).limit(1)).scalar_one()
    crl = parse_crl(der)
    assert crl.crl_number == 1
    assert [(format(e.serial, "x"), e.reason) for e in crl.entries] == [(serial, "key_compromise")]
