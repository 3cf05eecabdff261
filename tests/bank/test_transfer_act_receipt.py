"""The signed original of the «Акт приема-передачи» (seed 003, step 21) comes back to the bank: the
operator registers its receipt once, only after the installation was confirmed on a named token;
every refusal names the request's status, changes nothing and is in the audit log."""

from __future__ import annotations

import json

import pytest
from bank_support import (
    OFFICER,
    OPERATOR,
    OPERATOR2,
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
from typer.testing import CliRunner

from bankkeys.bank import audit
from bankkeys.bank.errors import InvalidTransition, NotAllowed, NotFound
from bankkeys.bank.store.models import AuditEvent, PrintedDocument
from bankkeys.bank.workflow import DocumentKind
from bankkeys.cli import app

__all__ = ["bank", "clock", "db", "db_url", "pg_worker_database", "sqlite_template"]
MODEL, SERIAL = "Рутокен ЭЦП 3.0", "3220000777"


def _accepted(bank: Bank) -> tuple[Client, int]:
    client = bank.new_client()
    _key, pkcs10 = client.new_request()
    rid = bank.workflow.submit_request(
        client.actor, client.signer_id, pkcs10, activation_code=client.activation_code
    )
    return client, rid


def _issued(bank: Bank) -> tuple[Client, int]:
    client, rid = _accepted(bank)
    bank.workflow.receive_documents(OPERATOR, rid, PAPER)
    assert bank.workflow.approve(OPERATOR, rid).certificate_serial is not None
    return client, rid


def _transfer_act(bank: Bank, rid: int) -> PrintedDocument | None:
    with bank.db.transaction() as s:
        doc = s.execute(
            select(PrintedDocument).where(
                PrintedDocument.request_id == rid,
                PrintedDocument.kind == str(DocumentKind.TRANSFER_ACT),
            )
        ).scalar_one_or_none()
        if doc is not None:
            s.expunge(doc)
        return doc


def _events(bank: Bank, action: str) -> list[AuditEvent]:
    with bank.db.transaction() as s:
        rows = s.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        )
        return list(rows.scalars().all())


def test_transfer_act_receipt_registered_once_without_a_printed_row(bank: Bank) -> None:
    client, rid = _issued(bank)
    bank.workflow.confirm_installation(client.actor, rid, token_model=MODEL, token_serial=SERIAL)
    assert _transfer_act(bank, rid) is None  # the client never said it printed the act
    bank.clock.advance(days=3)
    at = bank.workflow.receive_transfer_act(OPERATOR, rid)
    assert at == bank.clock()
    doc = _transfer_act(bank, rid)
    assert doc is not None and doc.received_by == OPERATOR.login
    assert doc.received_at is not None and doc.received_at.replace(tzinfo=at.tzinfo) == at
    assert doc.printed_at is None and doc.content_hash is None

    [event] = _events(bank, "receive_transfer_act")
    assert (event.actor, event.role, event.request_id) == (OPERATOR.login, "operator", rid)
    assert event.signer_id == client.signer_id
    assert json.loads(event.details) == {"kind": "transfer_act", "token_serial": SERIAL}

    # Twice (the same operator or another): refused, the first receipt stays as it was.
    for who in (OPERATOR, OPERATOR2):
        bank.clock.advance(hours=1)
        with pytest.raises(InvalidTransition, match=r"уже получен банком .*\(operator1\)") as exc:
            bank.workflow.receive_transfer_act(who, rid)
        assert exc.value.current == "Вы переведены на работу с новым комплектом ключей"
    again = _transfer_act(bank, rid)
    assert again is not None and (again.received_at, again.received_by) == (
        doc.received_at,
        doc.received_by,
    )
    assert len(_events(bank, "receive_transfer_act")) == 1
    assert len(_events(bank, "refused:receive_transfer_act")) == 2
    with bank.db.transaction() as s:
        assert audit.verify(s) == []


def test_transfer_act_receipt_keeps_what_the_client_printed(bank: Bank) -> None:
    client, rid = _issued(bank)
    bank.workflow.confirm_installation(client.actor, rid, token_model=MODEL, token_serial=SERIAL)
    bank.workflow.record_printed(
        client.actor, rid, DocumentKind.TRANSFER_ACT, content=b"act", copies=2
    )
    printed = _transfer_act(bank, rid)
    assert printed is not None and printed.received_at is None
    bank.workflow.receive_transfer_act(OPERATOR, rid)
    doc = _transfer_act(bank, rid)
    assert doc is not None and doc.id == printed.id  # the same row, not a second one
    assert (doc.copies, doc.content_hash) == (2, printed.content_hash)
    assert doc.printed_at == printed.printed_at and doc.received_by == OPERATOR.login


def test_transfer_act_receipt_refused_before_installation(bank: Bank) -> None:
    client, rid = _accepted(bank)
    with pytest.raises(InvalidTransition, match=f"№ {rid} в статусе «Принят банком»"):
        bank.workflow.receive_transfer_act(OPERATOR, rid)
    bank.workflow.receive_documents(OPERATOR, rid, PAPER)
    bank.workflow.approve(OPERATOR, rid)
    with pytest.raises(InvalidTransition, match="в статусе «Получен новый сертификат»") as exc:
        bank.workflow.receive_transfer_act(OPERATOR, rid)
    assert exc.value.current == "Получен новый сертификат"
    assert _transfer_act(bank, rid) is None
    assert _events(bank, "receive_transfer_act") == []
    refused = _events(bank, "refused:receive_transfer_act")
    assert len(refused) == 2
    assert json.loads(refused[0].details)["error"] == "InvalidTransition"
    # Installed without naming the token: no act was made, so none can come back.
    bank.workflow.confirm_installation(client.actor, rid)
    with pytest.raises(InvalidTransition, match="модель и серийный номер"):
        bank.workflow.receive_transfer_act(OPERATOR, rid)
    assert _transfer_act(bank, rid) is None


def test_transfer_act_receipt_refused_to_others(bank: Bank) -> None:
    client, rid = _issued(bank)
    bank.workflow.confirm_installation(client.actor, rid, token_model=MODEL, token_serial=SERIAL)
    for who in (OFFICER, client.actor):
        with pytest.raises(NotAllowed, match="принять оригинал акта приема-передачи"):
            bank.workflow.receive_transfer_act(who, rid)
    with pytest.raises(NotFound, match="№ 999999"):
        bank.workflow.receive_transfer_act(OPERATOR, 999999)
    assert _transfer_act(bank, rid) is None
    assert len(_events(bank, "refused:receive_transfer_act")) == 3


def test_transfer_act_receipt_from_the_cli(bank: Bank, db_url: str) -> None:
    client, rid = _issued(bank)
    args = ["bank", "receive-transfer-act", str(rid), "--as", "operator7", "--url", db_url]
    early = CliRunner().invoke(app, args)
    assert early.exit_code == 1 and "«Получен новый сертификат»" in early.output
    bank.workflow.confirm_installation(client.actor, rid, token_model=MODEL, token_serial=SERIAL)
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert f"Оригинал акта приема-передачи по запросу № {rid} получен" in done.output
    doc = _transfer_act(bank, rid)
    assert doc is not None and doc.received_by == "operator7"
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 1 and "уже получен банком" in again.output
