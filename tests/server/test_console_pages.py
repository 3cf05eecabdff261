"""Console pages over HTTP: search by organization, INN, surname and serial; certificates
expiring within N days; the audit log; revocation reaches the CRL; clients registered from the
«Клиенты» page."""

from __future__ import annotations

import re

from server_support import Console, RunningServer, db_kind, server, server_factory, templates
from sqlalchemy import func, select

from bankkeys.bank import activation
from bankkeys.bank.store.models import ActivationCode, Organization, Signer
from bankkeys.pki.certificates import parse_certificate
from bankkeys.pki.crls import parse_crl, verify_crl_signature

__all__ = ["db_kind", "server", "server_factory", "templates"]


def test_search_expiring_audit_and_revoke(server: RunningServer) -> None:
    with server.as_user("director") as c:
        (profile,) = c.get("/api/v1/profiles").json()
    serial = profile["current_certificate"]["serial"]
    signer_link = f'href="/console/signers/{profile["signer_id"]}"'
    officer = Console(server, "officer")
    for query in ("Ромашка", "ромашка", "7707083893", "Петров", "director", serial[:12]):
        page = officer.http.get("/console/search", params={"q": query})
        assert page.status_code == 200 and signer_link in page.text, query
    nothing = officer.http.get("/console/search", params={"q": "Несуществующая"})
    assert signer_link not in nothing.text and "Не найдено" in nothing.text

    assert serial in officer.http.get("/console/expiring", params={"days": 30}).text
    assert serial not in officer.http.get("/console/expiring", params={"days": 10}).text

    r = officer.post(f"/console/certificates/{serial}/revoke", reason="key_compromise")
    assert r.status_code == 303
    page = officer.http.get(r.headers["location"])
    assert "Сертификат отозван" in page.text and "компрометация ключа" in page.text
    again = officer.post(f"/console/certificates/{serial}/revoke", reason="key_compromise")
    assert "уже отозван" in officer.http.get(again.headers["location"]).text

    audit = officer.http.get("/console/audit").text
    assert "отозвать сертификат" in audit and serial in audit
    officer.close()

    with server.client() as c:
        ca = parse_certificate(c.get("/ca/ca.cer").content)
        crl = parse_crl(c.get("/ca/crl.crl").content)
    verify_crl_signature(crl, ca.public_key_info)
    entry = crl.find(int(serial, 16))
    assert entry is not None
    with server.as_user("director") as c:
        (profile,) = c.get("/api/v1/profiles").json()
    assert profile["status"]["code"] == "REVOKED"
    assert profile["next_action"]["code"] == "visit_bank"


ORG = {"name": "ООО «Вектор»", "inn": "5001007329", "ogrn": "1035000001233",
       "address": "г. Балашиха, ул. Новая, д. 1", "kpp": ""}  # fmt: skip
SIGNER = {"login": "vector-director", "surname": "Волков", "given_name": "Иван Петрович",
          "position": "Генеральный директор", "snils": "11223344595",
          "email": "volkov@vector.example", "phone": "+7 495 111-22-33",
          "acting_on": "Устава"}  # fmt: skip


def _organizations(server: RunningServer) -> int:
    with server.ctx.db.reading() as s:
        return int(s.execute(select(func.count()).select_from(Organization)).scalar_one())


def test_clients_page_registers_an_organization_and_its_owner(server: RunningServer) -> None:
    operator = Console(server, "operator")
    page = operator.http.get("/console/clients")
    assert page.status_code == 200 and 'href="/console/clients"' in page.text
    assert "Ромашка" in page.text and "7707083893" in page.text
    before = _organizations(server)

    bad = operator.post("/console/clients/organizations", **{**ORG, "inn": "5001007320"})
    assert bad.status_code == 422 and "ИНН" in bad.text
    assert _organizations(server) == before  # nothing written

    done = operator.post("/console/clients/organizations", **ORG)
    assert done.status_code == 303 and done.headers["location"] == "/console/clients"
    assert _organizations(server) == before + 1
    again = operator.post("/console/clients/organizations", **ORG)
    assert again.status_code == 422 and "уже зарегистрирована" in again.text

    with server.ctx.db.reading() as s:
        org_id = s.execute(
            select(Organization.id).where(Organization.inn == ORG["inn"])
        ).scalar_one()
    wrong = operator.post("/console/clients/signers", organization_id=org_id,
                          **{**SIGNER, "snils": "11223344596"})  # fmt: skip
    assert wrong.status_code == 422 and "СНИЛС" in wrong.text
    made = operator.post("/console/clients/signers", organization_id=org_id, **SIGNER)
    assert made.status_code == 200, made.text
    assert made.headers["cache-control"] == "no-store"
    shown = re.search(r'id="created".*?<code>([^<]+)</code>', made.text, re.S)
    assert shown, made.text
    code = shown.group(1)
    with server.ctx.db.reading() as s:
        signer = s.execute(select(Signer).where(Signer.login == SIGNER["login"])).scalar_one()
        signer_id = signer.id
        assert signer.organization_id == org_id and signer.surname == "Волков"
        stored = s.execute(select(ActivationCode).where(ActivationCode.signer_id == signer_id))
        (record,) = stored.scalars().all()
        assert activation.matches(code, record.salt, record.code_hash)  # the code shown works
        assert code not in (record.code_hash, record.salt)  # and is kept only as a hash
    listed = operator.http.get("/console/clients").text
    assert f'href="/console/signers/{signer_id}"' in listed and code not in listed  # shown once
    card = operator.http.get(f"/console/signers/{signer_id}").text
    assert "Необходима начальная генерация" in card

    taken = operator.post("/console/clients/signers", organization_id=org_id, **SIGNER)
    assert taken.status_code == 422 and "уже занят" in taken.text
    nowhere = operator.post("/console/clients/signers", organization_id=999999,
                            **{**SIGNER, "login": "someone-else"})  # fmt: skip
    assert nowhere.status_code == 422 and "не найдена" in nowhere.text
    operator.close()

    audit = Console(server, "officer")
    log = audit.http.get("/console/audit").text
    assert "зарегистрировать организацию" in log and "зарегистрировать владельца" in log
    audit.close()
