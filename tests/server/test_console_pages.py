"""Console pages over HTTP: search by organization, INN, surname and serial; certificates
expiring within N days; the audit log; revocation reaches the CRL."""

from __future__ import annotations

from server_support import Console, RunningServer, db_kind, server, server_factory, templates

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
