"""A certificate imported from the bank's previous system (migration) ends the signer's first-key
path: an unused activation code is withdrawn, so when that certificate expires the signer is
told «Срок действия истёк» and must come in person — the leftover code cannot issue a key."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from bank_support import (
    OFFICER,
    Bank,
    bank,
    clock,
    db,
    db_url,
    key_spec,
    pg_worker_database,
    sqlite_template,
)
from sqlalchemy import select

from bankkeys.bank.ca import IssuanceOrder
from bankkeys.bank.errors import ActivationCodeInvalid
from bankkeys.bank.store.models import AuditEvent
from bankkeys.bank.workflow import Status
from bankkeys.pki.names import Name
from bankkeys.pki.software import SoftwareSigner

__all__ = ["bank", "clock", "db", "db_url", "pg_worker_database", "sqlite_template"]


def _import(bank: Bank, signer_id: int, days_left: int) -> SoftwareSigner:
    key = SoftwareSigner.generate(key_spec())
    start = bank.clock() - timedelta(days=300)
    end = bank.clock() + timedelta(days=days_left)
    serial = 0x5A5A0000 + signer_id
    der = bank.ca.issue(IssuanceOrder(serial, Name(common_name="Импорт"), key.public_key_info,
                                      start, end))  # fmt: skip
    bank.workflow.import_certificate(
        OFFICER, signer_id, serial=serial, der=der, public_key_info=key.public_key_info,
        not_before=start, not_after=end,
    )  # fmt: skip
    return key


def test_import_withdraws_the_unused_activation_code(bank: Bank) -> None:
    client = bank.new_client()
    assert bank.workflow.status(client.signer_id).status is Status.INITIAL_GENERATION_REQUIRED
    _import(bank, client.signer_id, days_left=5)
    bank.clock.advance(days=6)  # the imported certificate expired; the code's 30 days have not
    status = bank.workflow.status(client.signer_id)
    assert status.status is Status.EXPIRED, status
    _key, pkcs10 = client.new_request()
    with pytest.raises(ActivationCodeInvalid):
        bank.workflow.submit_request(
            client.actor, client.signer_id, pkcs10, activation_code=client.activation_code
        )
    with bank.db.transaction() as s:
        details = [
            json.loads(d)
            for d in s.execute(
                select(AuditEvent.details).where(AuditEvent.action == "import_certificate")
            ).scalars()
        ]
    assert details and details[-1].get("activation_codes_withdrawn") == 1, details
