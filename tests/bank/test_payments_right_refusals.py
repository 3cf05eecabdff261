"""Setting a payment signing right: done and logged once; refused (a client, an unknown signer)
changes nothing and is logged as ``refused:set_payment_right``, as refused transitions are."""

from __future__ import annotations

import json

import pytest
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
from sqlalchemy import select

from bankkeys.bank import audit
from bankkeys.bank.errors import NotAllowed, NotFound
from bankkeys.bank.payments import PaymentDesk, SigningRight
from bankkeys.bank.payments_store import PaymentRight
from bankkeys.bank.store.models import AuditEvent
from bankkeys.bank.workflow import Actor

__all__ = ["bank", "clock", "db", "db_url", "pg_worker_database", "sqlite_template"]


def _log(bank: Bank) -> list[tuple[str, str, dict[str, object]]]:
    with bank.db.transaction() as s:
        rows = s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        return [(e.action, e.actor, json.loads(e.details)) for e in rows
                if "payment_right" in e.action]  # fmt: skip


def _right(bank: Bank, signer_id: int) -> str | None:
    with bank.db.transaction() as s:
        row = s.get(PaymentRight, signer_id)
        return row.signing_right if row is not None else None


def test_a_refused_signing_right_is_logged_and_changes_nothing(bank: Bank) -> None:
    client = bank.new_client()
    desk = PaymentDesk(bank.workflow)
    desk.set_signing_right(OPERATOR, client.signer_id, SigningRight.SECOND)
    assert _right(bank, client.signer_id) == "second"

    itself = Actor.client(client.signer_id, client.login)
    with pytest.raises(NotAllowed, match="сотрудники банка"):
        desk.set_signing_right(itself, client.signer_id, SigningRight.FIRST)
    with pytest.raises(NotFound, match="не найден"):
        desk.set_signing_right(OPERATOR, 999_999, SigningRight.FIRST)

    assert _right(bank, client.signer_id) == "second"
    log = _log(bank)
    assert [(action, actor) for action, actor, _ in log] == [
        ("set_payment_right", OPERATOR.login),
        ("refused:set_payment_right", client.login),
        ("refused:set_payment_right", OPERATOR.login),
    ]
    assert log[0][2] == {"right": "second"}
    assert [details["error"] for _, _, details in log[1:]] == ["NotAllowed", "NotFound"]
    with bank.db.reading() as s:
        assert audit.verify(s) == []
