"""The «Акт приема-передачи» (seed 003) over the client API on SQLite and PostgreSQL: available only
after the installation was confirmed with the token's model and serial, the same bytes on every
call, its text names the token and the certificate; other signers get 404."""

from __future__ import annotations

import json
from pathlib import Path

from server_support import (
    Console,
    RunningServer,
    b64,
    db_kind,
    new_key_request,
    renewal_submission,
    server,
    server_factory,
    templates,
)
from sqlalchemy import select
from test_authorization import add_stranger
from typer.testing import CliRunner, Result

from bankkeys.bank.store.models import AuditEvent
from bankkeys.cli import app
from conftest import pdf_words

__all__ = ["db_kind", "server", "server_factory", "templates"]
MODEL, SERIAL = "Рутокен ЭЦП 3.0", "3220000777"


def _approve(server: RunningServer, rid: int) -> None:
    operator = Console(server, "operator")
    assert operator.receive_documents(rid).status_code == 303
    assert operator.approve(rid).status_code == 303
    operator.close()


def _cli_transfer_act(server: RunningServer, rid: int, out: Path) -> Result:
    env = {"BANKKEYS_DATABASE_URL": server.settings.resolved_database_url}
    args = ["docs", "transfer-act", str(rid), "--out", str(out)]
    return CliRunner().invoke(app, args, env=env)


def test_transfer_act_after_installation_on_a_named_token(
    server: RunningServer, tmp_path: Path
) -> None:
    add_stranger(server)
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
        rid = r.json()["id"]
        act_url = f"/api/v1/requests/{rid}/documents/transfer_act.pdf"
        cli_early = _cli_transfer_act(server, rid, tmp_path / "early.pdf")
        assert cli_early.exit_code == 1 and "после того, как сертификат выпущен" in cli_early.output
        assert not (tmp_path / "early.pdf").exists()
        early = c.get(act_url)
        assert early.status_code == 409, early.text
        assert early.json()["error"]["code"] == "TransferActUnavailable"
        assert "после того, как сертификат выпущен" in early.json()["error"]["message"]
        assert "transfer_act" not in {d["kind"] for d in r.json()["documents"]}

    _approve(server, rid)
    with server.as_user("accountant") as c:
        assert c.get(act_url).status_code == 409  # issued, not yet installed
        confirm = f"/api/v1/requests/{rid}/confirm-installation"
        half = c.post(confirm, json={"token_model": MODEL})
        assert half.status_code == 422
        assert "и модель, и серийный номер" in half.json()["error"]["message"]
        bad = c.post(confirm, json={"token_model": MODEL, "token_serial": "3220 000777"})
        assert bad.status_code == 422
        assert "Серийный номер ключевого носителя" in bad.json()["error"]["message"]
        assert c.get(f"/api/v1/requests/{rid}").json()["state"] == "issued"  # nothing changed

        done = c.post(confirm, json={"token_model": MODEL, "token_serial": SERIAL})
        assert done.status_code == 200, done.text
        view = done.json()
        assert (view["token_model"], view["token_serial"]) == (MODEL, SERIAL)
        (listed,) = [d for d in view["documents"] if d["kind"] == "transfer_act"]
        assert listed["pdf_url"] == act_url and listed["copies"] == 2
        assert listed["title"].startswith("Акт приема-передачи") and listed["printed_at"] is None

        act = c.get(act_url)
        assert act.status_code == 200 and act.headers["content-type"] == "application/pdf"
        assert c.get(act_url).content == act.content  # deterministic
        # The bank's copy from the CLI is the very same document.
        bank_copy = tmp_path / "transfer-act.pdf"
        assert _cli_transfer_act(server, rid, bank_copy).exit_code == 0
        assert bank_copy.read_bytes() == act.content
        cert_serial = view["certificate_serial"]
        text = pdf_words(act.content)
        assert "АКТ ПРИЕМА-ПЕРЕДАЧИ" in text and MODEL in text and SERIAL in text
        assert cert_serial.upper() in text.replace(" ", "")
        assert "Сидорова" in text

        printed = c.post(
            f"/api/v1/requests/{rid}/documents/transfer_act/printed", json={"copies": 2}
        )
        assert printed.status_code == 200, printed.text
        (doc,) = [d for d in printed.json()["documents"] if d["kind"] == "transfer_act"]
        assert doc["printed_at"] is not None and doc["copies"] == 2

    for other in ("director", "stranger"):  # same organization, another organization
        with server.as_user(other) as c:
            assert c.get(act_url).status_code == 404
            r = c.post(f"/api/v1/requests/{rid}/documents/transfer_act/printed", json={})
            assert r.status_code == 404

    with server.ctx.db.transaction() as session:
        events = {
            e.action: json.loads(e.details)
            for e in session.execute(select(AuditEvent).where(AuditEvent.request_id == rid))
            .scalars()
            .all()
        }
    assert events["confirm_installation"] == {"token_model": MODEL, "token_serial": SERIAL}
    assert events["record_printed"] == {"kind": "transfer_act", "copies": 2}


def test_no_transfer_act_without_the_token(server: RunningServer) -> None:
    with server.as_user("director") as c:
        (profile,) = c.get("/api/v1/profiles").json()
        signer_id = profile["signer_id"]
        fields = c.get(f"/api/v1/profiles/{signer_id}/subject-template").json()["fields"]
        _key, submission = renewal_submission(server, fields)
        r = c.post(f"/api/v1/profiles/{signer_id}/requests", json={"request": b64(submission)})
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
    _approve(server, rid)
    with server.as_user("director") as c:
        done = c.post(f"/api/v1/requests/{rid}/confirm-installation")  # no body: no token
        assert done.status_code == 200, done.text
        assert "transfer_act" not in {d["kind"] for d in done.json()["documents"]}
        act = c.get(f"/api/v1/requests/{rid}/documents/transfer_act.pdf")
        assert act.status_code == 409
        assert "модель и серийный номер" in act.json()["error"]["message"]
        r = c.post(f"/api/v1/requests/{rid}/documents/transfer_act/printed", json={"copies": 2})
        assert r.status_code == 409
