"""Confirming installation with the token the certificate was written to (seed 003): the bank keeps
its model and serial on the request and in the audit event; malformed values are refused in Russian
and change nothing."""

from __future__ import annotations

import json

import pytest
from bank_support import (
    OPERATOR,
    PAPER,
    Bank,
    Client,
    bank,
    clock,
    db,
    db_url,
    pg_worker_database,
    sqlite_template,
)
from sqlalchemy import select

from bankkeys.bank import audit
from bankkeys.bank.errors import ValidationError
from bankkeys.bank.store.models import AuditEvent, RekeyRequest
from bankkeys.bank.workflow import RequestState

__all__ = ["bank", "clock", "db", "db_url", "pg_worker_database", "sqlite_template"]


def _issued(bank: Bank) -> tuple[Client, int]:
    wf, client = bank.workflow, bank.new_client()
    _key, pkcs10 = client.new_request()
    rid = wf.submit_request(
        client.actor, client.signer_id, pkcs10, activation_code=client.activation_code
    )
    wf.receive_documents(OPERATOR, rid, PAPER)
    wf.approve(OPERATOR, rid)
    return client, rid


def _request(bank: Bank, rid: int) -> RekeyRequest:
    with bank.db.transaction() as s:
        req = s.get(RekeyRequest, rid)
        assert req is not None
        s.expunge(req)
        return req


@pytest.mark.parametrize(
    ("model", "serial", "words"),
    [
        ("Рутокен ЭЦП 3.0", None, "и модель, и серийный номер"),
        (None, "3220000777", "и модель, и серийный номер"),
        ("Рутокен\nЭЦП", "3220000777", "Модель ключевого носителя"),
        (" Рутокен", "3220000777", "Модель ключевого носителя"),
        ("Р" * 101, "3220000777", "до 100 знаков"),
        ("", "3220000777", "Модель ключевого носителя"),
        ("Рутокен ЭЦП 3.0", "3220 000777", "Серийный номер ключевого носителя"),
        ("Рутокен ЭЦП 3.0", "З220000777", "латинских букв"),  # a Cyrillic «З»
        ("Рутокен ЭЦП 3.0", "1" * 65, "до 64"),
        ("Рутокен ЭЦП 3.0", "", "Серийный номер ключевого носителя"),
    ],
)
def test_malformed_token_details_are_refused(
    bank: Bank, model: str | None, serial: str | None, words: str
) -> None:
    client, rid = _issued(bank)
    with pytest.raises(ValidationError, match=words):
        bank.workflow.confirm_installation(
            client.actor,
            rid,
            token_model=model,
            token_serial=serial,
        )
    req = _request(bank, rid)
    assert req.state == RequestState.ISSUED and req.token_serial is None


def test_the_token_is_recorded_with_the_installation(bank: Bank) -> None:
    client, rid = _issued(bank)
    bank.workflow.confirm_installation(
        client.actor,
        rid,
        token_model="Рутокен ЭЦП 3.0",
        token_serial="3220000777",
    )
    req = _request(bank, rid)
    assert req.state == RequestState.INSTALLED
    assert (req.token_model, req.token_serial) == ("Рутокен ЭЦП 3.0", "3220000777")
    with bank.db.transaction() as s:
        assert audit.verify(s) == []
        event = s.execute(
            select(AuditEvent).where(
                AuditEvent.request_id == rid, AuditEvent.action == "confirm_installation"
            )
        ).scalar_one()
        details = json.loads(event.details)
    assert details == {"token_model": "Рутокен ЭЦП 3.0", "token_serial": "3220000777"}


def test_without_a_token_nothing_is_recorded(bank: Bank) -> None:
    client, rid = _issued(bank)
    bank.workflow.confirm_installation(client.actor, rid)
    req = _request(bank, rid)
    assert req.state == RequestState.INSTALLED
    assert req.token_model is None and req.token_serial is None
