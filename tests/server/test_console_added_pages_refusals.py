"""The console pages added for the transfer act, payment signing rights and TOTP re-enrolment refuse
everyone outside their roles, on SQLite and PostgreSQL: the anonymous caller goes to the login
page, client signers and other staff get 403, and none of them changes anything."""

from __future__ import annotations

from server_support import Console, RunningServer, db_kind, server, server_factory, templates
from sqlalchemy import func, select

from bankkeys.bank.payments_store import PaymentRight
from bankkeys.bank.store.models import AuditEvent, RekeyRequest, Signer
from bankkeys.server.store.models import Account

__all__ = ["db_kind", "server", "server_factory", "templates"]


def _ids(server: RunningServer) -> tuple[int, int, int]:
    with server.ctx.db.reading() as s:
        signer_id = s.execute(select(Signer.id).where(Signer.login == "director")).scalar_one()
        account_id = s.execute(select(Account.id).where(Account.login == "operator")).scalar_one()
        request_id = s.execute(select(func.max(RekeyRequest.id))).scalar_one() or 1
    return int(signer_id), int(account_id), int(request_id)


def _state(server: RunningServer) -> tuple[int, int, tuple[str, ...]]:
    with server.ctx.db.reading() as s:
        events = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        rights = s.execute(select(func.count()).select_from(PaymentRight)).scalar_one()
        secrets = tuple(s.execute(select(Account.totp_secret).order_by(Account.id)).scalars())
    return int(events), int(rights), secrets


def test_console_added_pages_refuse_other_roles(server: RunningServer) -> None:
    signer_id, account_id, rid = _ids(server)
    # (method, path, form, who may)
    endpoints = [
        ("GET", f"/console/requests/{rid}/documents/transfer_act.pdf", {}, {"operator", "officer"}),
        ("POST", f"/console/requests/{rid}/transfer-act/received", {}, {"operator"}),
        ("POST", f"/console/signers/{signer_id}/payment-right", {"right": "none"},
         {"operator", "officer"}),
        ("GET", f"/console/accounts/{account_id}/reset-totp", {}, {"admin"}),
        ("POST", f"/console/accounts/{account_id}/reset-totp", {"confirm": "yes"}, {"admin"}),
    ]  # fmt: skip
    consoles = {login: Console(server, login) for login in ("director", "operator", "officer",
                                                            "admin")}  # fmt: skip
    before = _state(server)
    wrong: list[str] = []
    with server.client() as anonymous:
        for method, path, form, allowed in endpoints:
            r = anonymous.request(method, path, data={"csrf_token": "x", **form} if form else None)
            if r.status_code != 303 or "/console/login" not in r.headers.get("location", ""):
                wrong.append(f"{method} {path} as anonymous: {r.status_code}")
            for login, console in consoles.items():
                if login in allowed:
                    continue
                data = {"csrf_token": console.csrf, **form} if method == "POST" else None
                r = console.http.request(method, path, data=data)
                if r.status_code != 403:
                    wrong.append(f"{method} {path} as {login}: {r.status_code}")
    assert not wrong, "\n".join(wrong)
    for console in consoles.values():
        console.close()
    events, rights, secrets = _state(server)
    assert (rights, secrets) == before[1:]  # no right set, no secret changed
    assert events == before[0]  # and nothing the log would show
