"""Payment signing rights (право первой / второй подписи) on the console's signer page, on SQLite
and PostgreSQL: shown with the organization's signature count, changed by an operator or a security
officer through the payment desk (its audit event, the console login as actor); anything else
changes nothing."""

from __future__ import annotations

import json
import re

from server_support import Console, RunningServer, db_kind, server, server_factory, templates
from sqlalchemy import select

from bankkeys.bank import audit
from bankkeys.bank.payments import PaymentDesk
from bankkeys.bank.payments_store import PaymentRight
from bankkeys.bank.store.models import AuditEvent, Signer
from bankkeys.bank.workflow import Actor

__all__ = ["db_kind", "server", "server_factory", "templates"]


def _signer_id(server: RunningServer, login: str) -> int:
    with server.ctx.db.reading() as s:
        return int(s.execute(select(Signer.id).where(Signer.login == login)).scalar_one())


def _right(server: RunningServer, signer_id: int) -> str | None:
    with server.ctx.db.reading() as s:
        row = s.get(PaymentRight, signer_id)
        return row.signing_right if row else None


def _events(server: RunningServer) -> list[tuple[str, str, int | None, object]]:
    with server.ctx.db.reading() as s:
        query = select(AuditEvent).where(AuditEvent.action == "set_payment_right")
        return [
            (e.actor, e.role, e.signer_id, json.loads(e.details))
            for e in s.execute(query.order_by(AuditEvent.seq)).scalars()
        ]


def _current(page: str) -> str:
    found = re.search(r'id="payment-right-current">([^<]*)<', page)
    assert found, page
    return found.group(1)


def test_console_payment_rights_shown_and_changed(server: RunningServer) -> None:
    signer_id = _signer_id(server, "accountant")
    page_url = f"/console/signers/{signer_id}"
    set_url = f"{page_url}/payment-right"
    operator = Console(server, "operator")

    page = operator.http.get(page_url).text
    assert "Право подписи платежных документов" in page
    assert _current(page) == "право первой подписи (не назначалось: по умолчанию)"
    assert "одна (первая)" in page and "Сохранить право подписи" in page

    r = operator.post(set_url, right="second")
    assert r.status_code == 303 and r.headers["location"] == page_url
    page = operator.http.get(page_url).text
    assert _current(page).startswith("право второй подписи (назначено ")
    assert '<option value="second" selected>' in page
    assert _right(server, signer_id) == "second"

    officer = Console(server, "officer")
    assert officer.post(set_url, right="none").status_code == 303
    assert _current(officer.http.get(page_url).text).startswith("без права подписи")
    assert _right(server, signer_id) == "none"

    # The organization's count, as the desk set it, is shown beside the right.
    PaymentDesk(server.ctx.workflow).set_signatures_required(
        Actor.operator("operator"), _organization_of(server, signer_id), 2
    )
    assert "две (первая и вторая)" in officer.http.get(page_url).text
    officer.close()

    # Refused: an unknown right, a forged form, a role without the signer page, a missing signer.
    unknown = operator.post(set_url, right="third")
    assert "Неизвестное право подписи" in operator.http.get(unknown.headers["location"]).text
    forged = operator.http.post(set_url, data={"csrf_token": "x" * 43, "right": "first"})
    assert forged.status_code == 403
    admin = Console(server, "admin")
    assert admin.post(set_url, right="first").status_code == 403
    admin.close()
    missing = operator.post("/console/signers/999999/payment-right", right="first")
    assert missing.status_code == 303
    assert "не найден" in operator.http.get(missing.headers["location"]).text
    operator.close()
    assert _right(server, signer_id) == "none"

    assert _events(server) == [
        ("operator", "operator", signer_id, {"right": "second"}),
        ("officer", "security_officer", signer_id, {"right": "none"}),
    ]
    with server.ctx.db.reading() as s:
        assert audit.verify(s) == []


def _organization_of(server: RunningServer, signer_id: int) -> int:
    with server.ctx.db.reading() as s:
        signer = s.get(Signer, signer_id)
        assert signer is not None
        return signer.organization_id
