"""The authorization matrix: every endpoint called as every role, as another signer of the same
organization and as a signer of another organization; only the allowed cells get through.

A refused cell is 401 (API, anonymous), a redirect to the login page (console, anonymous), 403
(the role may not), or 404 (someone else's object: ids do not leak). State-changing endpoints
are called by every refused caller first, so a refusal that changed something would show up as a
failure of the allowed caller or of the state checks at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from server_support import (
    Console,
    RunningServer,
    b64,
    db_kind,
    renewal_submission,
    server,
    server_factory,
    templates,
)
from sqlalchemy import select

from bankkeys.bank.store.models import Organization
from bankkeys.bank.workflow import Actor, Role
from bankkeys.server import bootstrap

__all__ = ["db_kind", "server", "server_factory", "templates"]

SIGNERS = ("director", "accountant", "stranger")
STAFF = ("operator", "officer", "admin")
CALLERS = ("anonymous", *SIGNERS, *STAFF)


@dataclass(frozen=True)
class Endpoint:
    kind: str  # api or console
    method: str
    path: str
    allowed: frozenset[str]
    body: dict[str, Any] | None = None
    form: dict[str, Any] = field(default_factory=dict)


def add_stranger(server: RunningServer) -> None:
    """A signer of another organization, with an account."""
    wf = server.ctx.workflow
    org = wf.register_organization(
        Actor.operator("setup"), name="АО «Чужая организация»", inn="7702070139",
        ogrn="1027739609391", address="г. Москва, ул. Чужая, д. 2",
    )  # fmt: skip
    reg = wf.register_signer(
        Actor.operator("setup"), org, login="stranger", surname="Чужой",
        given_name="Пётр Ильич", position="Директор", snils=bootstrap._snils("334455667"),
        email="stranger@other.example", phone="+7 495 765-43-21", acting_on="Устава",
    )  # fmt: skip
    server.ctx.auth.create_account(
        login="stranger", password=bootstrap.DEMO_PASSWORD, role=Role.CLIENT_SIGNER,
        display_name="Чужой П. И.", signer_id=reg.signer_id, totp_secret=bootstrap.DEMO_TOTP_SEED,
    )  # fmt: skip


def outcome(kind: str, r: httpx.Response) -> str:
    if kind == "console" and r.status_code == 303 and "/console/login" in r.headers["location"]:
        return "login"
    if r.status_code in (401, 403, 404):
        return str(r.status_code)
    return "ok"


def test_authorization_matrix(server: RunningServer) -> None:
    add_stranger(server)
    with server.as_user("director") as c:
        (profile,) = c.get("/api/v1/profiles").json()
        signer_id = profile["signer_id"]
        old_serial = profile["current_certificate"]["serial"]
        fields = c.get(f"/api/v1/profiles/{signer_id}/subject-template").json()["fields"]
        _, submission = renewal_submission(server, fields)
        r = c.post(f"/api/v1/profiles/{signer_id}/requests", json={"request": b64(submission)})
        assert r.status_code == 201, r.text
        rid = r.json()["id"]

    me, signers, op_so = (
        frozenset({"director"}),
        frozenset(SIGNERS),
        frozenset({"operator", "officer"}),
    )
    op_admin = frozenset({"operator", "admin"})
    with server.ctx.db.reading() as session:
        org_id = session.execute(select(Organization.id)).scalars().first()
    everyone = frozenset(CALLERS) - {"anonymous"}
    paper = {"kinds": ["acceptance_act", "certificate_application"]}
    api = "/api/v1"
    endpoints = [
        Endpoint("api", "GET", f"{api}/me", everyone),
        Endpoint("api", "POST", f"{api}/auth/password", everyone,
                 body={"old_password": "x", "new_password": "weak-but-long"}),
        Endpoint("api", "GET", f"{api}/profiles", signers),
        Endpoint("api", "GET", f"{api}/profiles/{signer_id}", me),
        Endpoint("api", "GET", f"{api}/profiles/{signer_id}/subject-template", me),
        Endpoint("api", "POST", f"{api}/profiles/{signer_id}/requests", me,
                 body={"request": b64(submission)}),
        Endpoint("api", "GET", f"{api}/requests", signers),
        Endpoint("api", "GET", f"{api}/requests/{rid}", me),
        Endpoint("api", "GET", f"{api}/requests/{rid}/documents/acceptance_act.pdf", me),
        Endpoint("api", "GET", f"{api}/requests/{rid}/documents/certificate_application.pdf", me),
        Endpoint("api", "POST", f"{api}/requests/{rid}/documents/acceptance_act/printed", me,
                 body={"copies": 2}),
        Endpoint("api", "POST", f"{api}/requests/{rid}/documents/acceptance_act/signature", me,
                 body={"signature": b64(b"0")}),
        Endpoint("api", "GET", f"{api}/requests/{rid}/certificate", me),
        Endpoint("api", "GET", f"{api}/requests/{rid}/certificate.cer", me),
        Endpoint("api", "POST", f"{api}/requests/{rid}/confirm-installation", me),
        Endpoint("console", "GET", "/console/", op_so),
        Endpoint("console", "GET", f"/console/requests/{rid}", op_so),
        Endpoint("console", "GET", "/console/search?q=Ромашка", op_so),
        Endpoint("console", "GET", f"/console/signers/{signer_id}", op_so),
        Endpoint("console", "GET", "/console/expiring?days=30", op_so),
        Endpoint("console", "GET", "/console/audit", frozenset({"officer", "admin"})),
        Endpoint("console", "GET", "/console/accounts", frozenset({"admin"})),
        Endpoint("console", "POST", "/console/accounts", frozenset({"admin"}),
                 form={"login": "new-operator", "role": "operator", "display_name": "Новый"}),
        Endpoint("console", "GET", "/console/clients", op_admin),
        Endpoint("console", "POST", "/console/clients/organizations", op_admin,
                 form={"name": "ООО «Новая»", "inn": "7810001238", "ogrn": "1027700132195",
                       "address": "г. Санкт-Петербург"}),
        Endpoint("console", "POST", "/console/clients/signers", op_admin,
                 form={"organization_id": str(org_id), "login": "new-signer", "surname": "Новиков",
                       "given_name": "Олег Олегович", "position": "Бухгалтер",
                       "snils": "11223344595", "email": "n@example.ru", "phone": "1",
                       "acting_on": "Доверенности № 1"}),
        Endpoint("console", "GET", "/client/", signers),
        Endpoint("console", "GET", f"/client/requests/{rid}", me),
        Endpoint("console", "POST", f"/console/requests/{rid}/documents",
                 frozenset({"operator"}), form=paper),
        Endpoint("console", "POST", f"/console/requests/{rid}/reject", op_so, form={"reason": ""}),
        Endpoint("console", "POST", f"/console/requests/{rid}/approve", op_so),
        Endpoint("api", "POST", f"{api}/requests/{rid}/cancel", me),
        Endpoint("console", "POST", f"/console/certificates/{old_serial}/revoke", op_so,
                 form={"reason": "key_compromise"}),
    ]  # fmt: skip

    api_clients: dict[str, httpx.Client] = {"anonymous": server.client()}
    consoles: dict[str, Console] = {}
    anonymous_console = httpx.Client(base_url=server.url, timeout=30)
    for login in CALLERS[1:]:
        api_clients[login] = server.as_user(login)
        consoles[login] = Console(server, login)

    wrong: list[str] = []
    for ep in endpoints:
        order = sorted(CALLERS, key=lambda who: who in ep.allowed)  # refused callers first
        for who in order:
            if ep.kind == "api":
                r = api_clients[who].request(ep.method, ep.path, json=ep.body)
            else:
                http = anonymous_console if who == "anonymous" else consoles[who].http
                data = None
                if ep.method == "POST":
                    csrf = consoles[who].csrf if who != "anonymous" else "x"
                    data = {"csrf_token": csrf, **ep.form}
                r = http.request(ep.method, ep.path, data=data)
            got = outcome(ep.kind, r)
            if (got == "ok") != (who in ep.allowed):
                wrong.append(f"{ep.method} {ep.path} as {who}: {r.status_code} {r.text[:120]}")
            if who not in ep.allowed:
                expected = {
                    "api": "401" if who == "anonymous" else ("403" if who in STAFF else "404"),
                    "console": "login" if who == "anonymous" else None,
                }[ep.kind]
                if expected and got != expected:
                    wrong.append(f"{ep.method} {ep.path} as {who}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)

    # The allowed callers' actions took effect, the refused ones did not add any: documents were
    # received once, one approval (the operator's, first allowed), the certificate issued; the
    # cancel came too late; the old certificate was revoked once.
    history = server.ctx.workflow.history(rid)
    actions = [e["action"] for e in history]
    assert actions.count("receive_documents") == 1
    assert [e["actor"] for e in history if e["action"] == "approve"] == ["operator"]
    assert "issue" in actions and "cancel" not in actions


def test_console_forms_need_the_csrf_token(server: RunningServer) -> None:
    operator = Console(server, "operator")
    r = operator.http.post("/console/requests/1/approve", data={"csrf_token": "forged"})
    assert r.status_code == 403
    r = operator.http.post("/console/requests/1/approve", data={})
    assert r.status_code == 422
    cookie = operator.http.cookies.get("bk_session")
    assert cookie
    operator.close()
