"""The «Акт приема-передачи» (seed 003) in the operator console on SQLite and PostgreSQL: the
request page shows it once the certificate is installed on a named token, with the very PDF the
client prints; the operator registers the signed original («Оригинал акта получен») once; a
security officer sees the act but may not register it; refusals are shown on the page."""

from __future__ import annotations

import re

import httpx
from server_support import (
    Console,
    RunningServer,
    b64,
    db_kind,
    new_key_request,
    server,
    server_factory,
    templates,
)
from sqlalchemy import select
from typer.testing import CliRunner

from bankkeys.bank.store.models import AuditEvent
from bankkeys.cli import app

__all__ = ["db_kind", "server", "server_factory", "templates"]
MODEL, SERIAL = "Рутокен ЭЦП 3.0", "3220000777"


def _issued_request(server: RunningServer) -> int:
    with server.as_user("accountant") as c:
        (profile,) = c.get("/api/v1/profiles").json()
        signer_id = profile["signer_id"]
        fields = c.get(f"/api/v1/profiles/{signer_id}/subject-template").json()["fields"]
        _key, pkcs10 = new_key_request(fields)
        r = c.post(
            f"/api/v1/profiles/{signer_id}/requests",
            json={"request": b64(pkcs10), "activation_code": server.template.activation_code},
        )
        assert r.status_code == 201, r.text
        rid: int = r.json()["id"]
    operator = Console(server, "operator")
    assert operator.receive_documents(rid).status_code == 303
    assert operator.approve(rid).status_code == 303
    operator.close()
    return rid


def _error_after(console: Console, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    page = console.http.get(response.headers["location"])
    found = re.search(r'<div class="error" role="alert">([^<]*)</div>', page.text)
    return found.group(1) if found else ""


def _cli_receive(server: RunningServer, rid: int) -> tuple[int, str]:
    env = {"BANKKEYS_DATABASE_URL": server.settings.resolved_database_url}
    result = CliRunner().invoke(app, ["bank", "receive-transfer-act", str(rid)], env=env)
    return result.exit_code, result.output


def test_console_transfer_act_shown_and_original_registered_once(server: RunningServer) -> None:
    rid = _issued_request(server)
    page_url = f"/console/requests/{rid}"
    pdf_url = f"{page_url}/documents/transfer_act.pdf"
    operator = Console(server, "operator")

    # Issued, not installed: no act, no button; the bank's refusal names the status.
    early = operator.http.get(page_url).text
    assert 'id="transfer-act"' not in early and 'id="receive-transfer-act"' not in early
    assert operator.http.get(pdf_url).status_code == 409
    refused = operator.post(f"{page_url}/transfer-act/received")
    assert "в статусе «Получен новый сертификат»" in _error_after(operator, refused)
    code, output = _cli_receive(server, rid)
    assert code == 1 and "Получен новый сертификат" in output

    early_queue = operator.http.get("/console/").text
    with server.as_user("accountant") as c:
        done = c.post(
            f"/api/v1/requests/{rid}/confirm-installation",
            json={"token_model": MODEL, "token_serial": SERIAL},
        )
        assert done.status_code == 200, done.text
        client_pdf = c.get(f"/api/v1/requests/{rid}/documents/transfer_act.pdf").content

    assert 'id="awaiting-transfer-act"' not in early_queue
    queue = operator.http.get("/console/").text
    assert 'id="awaiting-transfer-act"' in queue
    assert f'href="{page_url}"' in queue.split('id="awaiting-transfer-act"')[1]
    assert f"{MODEL}, № {SERIAL}" in queue

    page = operator.http.get(page_url).text
    assert "Акт приема-передачи сертификата ключа проверки ЭП" in page
    assert f'href="{pdf_url}"' in page and "Просмотреть акт" in page
    assert MODEL in page and SERIAL in page
    assert re.search(r'id="transfer-act-original">не получен<', page)
    assert "Оригинал акта получен" in page
    pdf = operator.http.get(pdf_url)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content == client_pdf  # the bank holds the original against the same document

    officer = Console(server, "officer")
    seen = officer.http.get(page_url).text
    assert f'href="{pdf_url}"' in seen and 'id="receive-transfer-act"' not in seen
    assert officer.http.get(pdf_url).content == client_pdf
    assert officer.post(f"{page_url}/transfer-act/received").status_code == 403
    officer.close()

    wrong_csrf = operator.http.post(
        f"{page_url}/transfer-act/received", data={"csrf_token": "x" * 43}
    )
    assert wrong_csrf.status_code == 403
    assert re.search(r'id="transfer-act-original">не получен<', operator.http.get(page_url).text)

    registered = operator.post(f"{page_url}/transfer-act/received")
    assert _error_after(operator, registered) == ""
    page = operator.http.get(page_url).text
    assert re.search(r'id="transfer-act-original">получен [^<]*\(operator\)<', page)
    assert 'id="receive-transfer-act"' not in page
    assert "принять оригинал акта приема-передачи" in page  # the request's history
    assert 'id="awaiting-transfer-act"' not in operator.http.get("/console/").text

    again = operator.post(f"{page_url}/transfer-act/received")
    assert "уже получен банком" in _error_after(operator, again)
    code, output = _cli_receive(server, rid)
    assert code == 1 and "уже получен банком" in output
    operator.close()

    with server.as_user("accountant") as c:
        view = c.get(f"/api/v1/requests/{rid}").json()
    (act,) = [d for d in view["documents"] if d["kind"] == "transfer_act"]
    assert act["received_at"] is not None  # the client sees the bank has the original

    with server.ctx.db.reading() as s:
        actions = [
            (e.action, e.actor)
            for e in s.execute(
                select(AuditEvent).where(AuditEvent.request_id == rid).order_by(AuditEvent.seq)
            ).scalars()
        ]
    assert actions.count(("receive_transfer_act", "operator")) == 1
