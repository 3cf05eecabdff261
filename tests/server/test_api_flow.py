"""The client API over real HTTP on SQLite and PostgreSQL: first key, renewal, documents,
certificates, e-mails received by a real SMTP server and their links followed."""

from __future__ import annotations

import base64
import email
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from server_support import (
    Console,
    RunningServer,
    ServerFactory,
    b64,
    db_kind,
    free_port,
    new_key_request,
    renewal_submission,
    server,
    server_factory,
    templates,
)

from bankkeys.pki.certificates import parse_certificate
from bankkeys.pki.crls import parse_crl, verify_crl_signature
from bankkeys.pki.validation import validate_certificate

__all__ = ["db_kind", "server", "server_factory", "templates"]


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, subject_part: str, timeout: float = 20) -> Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.messages:
                if subject_part in str(
                    email.header.make_header(email.header.decode_header(m["Subject"]))
                ):
                    return m
            time.sleep(0.1)
        subjects = [
            str(email.header.make_header(email.header.decode_header(m["Subject"])))
            for m in self.messages
        ]
        raise AssertionError(f"no mail with «{subject_part}»; got {subjects}")


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


@pytest.fixture()
def mailbox() -> Iterator[tuple[str, Mailbox]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}", box
    controller.stop()


def wait_status(
    running: RunningServer, token_login: str, code: str, timeout: float = 10
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with running.as_user(token_login) as c:
        while True:
            (profile,) = c.get("/api/v1/profiles").json()
            if profile["status"]["code"] == code or time.monotonic() > deadline:
                assert profile["status"]["code"] == code, profile
                return dict(profile)
            time.sleep(0.1)


def test_first_key_with_activation_code(server: RunningServer) -> None:
    with server.as_user("accountant") as c:
        (profile,) = c.get("/api/v1/profiles").json()
        assert profile["status"]["code"] == "INITIAL_GENERATION_REQUIRED"
        assert profile["status"]["text"] == "Необходима начальная генерация"
        assert profile["next_action"]["code"] == "generate_first_key"
        signer_id = profile["signer_id"]
        fields = c.get(f"/api/v1/profiles/{signer_id}/subject-template").json()["fields"]
        assert fields["surname"] == "Сидорова"
        key, pkcs10 = new_key_request(fields)

        wrong = c.post(
            f"/api/v1/profiles/{signer_id}/requests",
            json={"request": b64(pkcs10), "activation_code": "AAAA-BBBB-CCCC-DDDD"},
        )
        assert wrong.status_code == 422
        assert wrong.json()["error"]["code"] == "ActivationCodeInvalid"

        r = c.post(
            f"/api/v1/profiles/{signer_id}/requests",
            json={"request": b64(pkcs10), "activation_code": server.template.activation_code},
        )
        assert r.status_code == 201, r.text
        req = r.json()
        assert req["kind"] == "initial" and req["status"]["text"] == "Принят банком"
        assert {d["kind"] for d in req["documents"]} == {
            "acceptance_act",
            "certificate_application",
        }
        rid = req["id"]

        act = c.get(f"/api/v1/requests/{rid}/documents/acceptance_act.pdf")
        assert act.status_code == 200 and act.headers["content-type"] == "application/pdf"
        assert act.content.startswith(b"%PDF")
        again = c.get(f"/api/v1/requests/{rid}/documents/acceptance_act.pdf")
        assert again.content == act.content  # the same request renders the same bytes
        app = c.get(f"/api/v1/requests/{rid}/documents/certificate_application.pdf")
        assert app.content.startswith(b"%PDF") and app.content != act.content
        printed = c.post(
            f"/api/v1/requests/{rid}/documents/acceptance_act/printed", json={"copies": 2}
        )
        assert printed.status_code == 200
        (doc,) = [d for d in printed.json()["documents"] if d["kind"] == "acceptance_act"]
        assert doc["printed_at"] is not None

        not_yet = c.get(f"/api/v1/requests/{rid}/certificate")
        assert not_yet.status_code == 409

    operator = Console(server, "operator")
    assert operator.receive_documents(rid).status_code == 303
    wait_status(server, "accountant", "DOCUMENTS_RECEIVED")
    assert operator.approve(rid).status_code == 303
    operator.close()

    with server.as_user("accountant") as c:
        profile = wait_status(server, "accountant", "ISSUED")
        assert profile["next_action"]["code"] == "install_certificate"
        cert = c.get(f"/api/v1/requests/{rid}/certificate").json()
        der = base64.b64decode(cert["certificate"])
        assert c.get(f"/api/v1/requests/{rid}/certificate.cer").content == der
        issued = parse_certificate(der)
        assert issued.public_key_info == key.public_key_info
        ca = parse_certificate(c.get("/ca/ca.cer").content)
        validate_certificate(issued, ca, at=server.clock())
        assert cert["chain"][0].startswith("-----BEGIN CERTIFICATE-----")
        assert c.post(f"/api/v1/requests/{rid}/confirm-installation").status_code == 200
        profile = wait_status(server, "accountant", "ACTIVE")
        assert profile["current_certificate"]["serial"] == cert["serial"]
        again = c.post(f"/api/v1/requests/{rid}/confirm-installation")
        assert again.status_code == 409 and again.json()["error"]["current_status"]


def test_renewal_mails_and_download_link(
    server_factory: ServerFactory, mailbox: tuple[str, Mailbox]
) -> None:
    smtp_url, box = mailbox
    server = server_factory(smtp_url=smtp_url)
    profile = wait_status(server, "director", "RENEWAL_REQUIRED")
    assert profile["next_action"]["code"] == "renew"
    old_serial = profile["current_certificate"]["serial"]
    window = box.wait_for("Необходима плановая замена сертификата")
    assert "director@romashka.example" in window["To"]

    with server.as_user("director") as c:
        signer_id = profile["signer_id"]
        fields = c.get(f"/api/v1/profiles/{signer_id}/subject-template").json()["fields"]
        key, submission = renewal_submission(server, fields)
        r = c.post(f"/api/v1/profiles/{signer_id}/requests", json={"request": b64(submission)})
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        assert r.json()["kind"] == "renewal"
        dup = c.post(f"/api/v1/profiles/{signer_id}/requests", json={"request": b64(submission)})
        assert dup.status_code == 409
    accepted = box.wait_for(f"Запрос № {rid} принят банком")
    assert f"/client/requests/{rid}" in body_of(accepted)

    operator = Console(server, "operator")
    operator.receive_documents(rid)
    operator.approve(rid)
    operator.close()

    issued = box.wait_for("Получен новый сертификат")
    link = re.search(r"(http://\S+/client/requests/\d+)", body_of(issued))
    assert link, body_of(issued)
    import httpx

    with httpx.Client(timeout=30) as browser:
        r = browser.get(link.group(1))
        assert r.status_code == 303 and "/console/login" in r.headers["location"]
    director = Console(server, "director")
    page = director.http.get(link.group(1).replace(server.url, ""))
    assert page.status_code == 200 and "Получить сертификат" in page.text
    download = re.search(r'id="get-certificate" href="([^"]+)"', page.text)
    assert download
    der = director.http.get(download.group(1)).content
    director.close()
    assert parse_certificate(der).public_key_info == key.public_key_info

    with server.as_user("director") as c:
        assert c.post(f"/api/v1/requests/{rid}/confirm-installation").status_code == 200
        profile = wait_status(server, "director", "SWITCHED")
    # After the grace period the scheduler retires the old certificate and tells the client.
    server.clock.advance(days=15)
    retired = box.wait_for("Старый сертификат выведен из действия")
    assert old_serial in body_of(retired)
    server.sign_in("director")  # the token expired with the days that passed
    wait_status(server, "director", "ACTIVE")
    crl = parse_crl(server.client().get("/ca/crl.crl").content)
    ca = parse_certificate(server.client().get("/ca/ca.cer").content)
    verify_crl_signature(crl, ca.public_key_info)
    assert crl.find(int(old_serial, 16)) is not None


def test_reject_and_cancel(server_factory: ServerFactory, mailbox: tuple[str, Mailbox]) -> None:
    smtp_url, box = mailbox
    server = server_factory(smtp_url=smtp_url)
    with server.as_user("director") as c:
        (profile,) = c.get("/api/v1/profiles").json()
        signer_id = profile["signer_id"]
        fields = c.get(f"/api/v1/profiles/{signer_id}/subject-template").json()["fields"]
        _, submission = renewal_submission(server, fields)
        rid = c.post(
            f"/api/v1/profiles/{signer_id}/requests", json={"request": b64(submission)}
        ).json()["id"]
    operator = Console(server, "operator")
    operator.reject(rid, "подпись на акте не совпадает с образцом")
    operator.close()
    rejected = box.wait_for(f"Запрос № {rid} отклонён банком")
    assert "подпись на акте не совпадает с образцом" in body_of(rejected)
    with server.as_user("director") as c:
        (profile,) = c.get("/api/v1/profiles").json()
        assert profile["status"]["code"] == "REJECTED"
        assert "подпись на акте" in profile["status"]["text"]
        assert profile["next_action"]["code"] == "renew"
        cancel = c.post(f"/api/v1/requests/{rid}/cancel")
        assert cancel.status_code == 409
        _, submission = renewal_submission(server, fields)
        rid2 = c.post(
            f"/api/v1/profiles/{signer_id}/requests", json={"request": b64(submission)}
        ).json()["id"]
        cancelled = c.post(f"/api/v1/requests/{rid2}/cancel")
        assert cancelled.status_code == 200
        assert cancelled.json()["status"]["code"] == "CANCELLED"


def test_refused_requests_say_why(server: RunningServer) -> None:
    with server.as_user("director") as c:
        (profile,) = c.get("/api/v1/profiles").json()
        signer_id = profile["signer_id"]
        fields = c.get(f"/api/v1/profiles/{signer_id}/subject-template").json()["fields"]
        url = f"/api/v1/profiles/{signer_id}/requests"
        r = c.post(url, json={"request": "не base64!"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "RequestInvalid"
        r = c.post(url, json={"request": b64(b"\x30\x03\x02\x01\x00")})
        assert r.status_code == 422
        assert r.json()["error"]["code"] in ("MalformedRequest", "SignatureInvalid")
        _, bare = new_key_request(fields)  # a renewal must be signed with the current key
        r = c.post(url, json={"request": b64(bare)})
        assert r.status_code == 422 and r.json()["error"]["code"] == "SignatureInvalid"
        _, wrong_name = renewal_submission(server, {**fields, "surname": "Иванов"})
        r = c.post(url, json={"request": b64(wrong_name)})
        assert r.status_code == 422 and r.json()["error"]["code"] == "SubjectMismatch"
        assert "фамилия" in r.json()["error"]["message"]
        r = c.post(url, json={"request": b64(bare), "extra": 1})
        assert r.status_code == 422
        (after,) = c.get("/api/v1/profiles").json()
        assert after["status"]["code"] == "RENEWAL_REQUIRED"  # nothing was stored


def test_public_endpoints_and_operations(server: RunningServer) -> None:
    with server.client() as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["ca_key_open"] is True
        ca = parse_certificate(c.get("/ca/ca.cer").content)
        crl = c.get("/ca/crl.crl")
        assert crl.headers["content-type"] == "application/pkix-crl"
        verify_crl_signature(parse_crl(crl.content), ca.public_key_info)
        chain = c.get("/api/v1/ca/chain").json()
        assert chain["crl_url"] == f"{server.url}/ca/crl.crl"
        metrics = c.get("/metrics").text
        assert "bankkeys_http_requests_total" in metrics
        assert 'bankkeys_certificates_expiring{days="30"} 1.0' in metrics
        r = c.get("/api/v1/profiles")
        for header in ("x-content-type-options", "content-security-policy", "x-frame-options"):
            assert header in r.headers
        big = c.post("/api/v1/auth/login", content=b"x" * (3 * 1024 * 1024),
                     headers={"content-type": "application/json"})  # fmt: skip
        assert big.status_code == 413


def test_issued_certificate_names_the_crl_url(server: RunningServer) -> None:
    with server.as_user("accountant") as c:
        (profile,) = c.get("/api/v1/profiles").json()
        fields = c.get(f"/api/v1/profiles/{profile['signer_id']}/subject-template").json()["fields"]
        _, pkcs10 = new_key_request(fields)
        rid = c.post(
            f"/api/v1/profiles/{profile['signer_id']}/requests",
            json={"request": b64(pkcs10), "activation_code": server.template.activation_code},
        ).json()["id"]
    operator = Console(server, "operator")
    operator.receive_documents(rid)
    operator.approve(rid)
    operator.close()
    with server.as_user("accountant") as c:
        der = c.get(f"/api/v1/requests/{rid}/certificate.cer").content
    assert f"{server.url}/ca/crl.crl".encode() in der
    assert (
        timedelta(days=364)
        < parse_certificate(der).not_after - server.clock()
        < timedelta(days=366)
    )


def test_remote_renewal_signs_the_act_electronically(server_factory: ServerFactory) -> None:
    from server_support import director_token

    from bankkeys.bank.documents import sign_act

    server = server_factory(renewal_path="remote-signed-act")
    with server.as_user("director") as c:
        (profile,) = c.get("/api/v1/profiles").json()
        signer_id = profile["signer_id"]
        fields = c.get(f"/api/v1/profiles/{signer_id}/subject-template").json()["fields"]
        _, submission = renewal_submission(server, fields)
        r = c.post(f"/api/v1/profiles/{signer_id}/requests", json={"request": b64(submission)})
        assert r.status_code == 201, r.text
        req = r.json()
        assert req["path"] == "remote-signed-act"
        assert [d["kind"] for d in req["documents"]] == ["acceptance_act"]
        (profile,) = c.get("/api/v1/profiles").json()
        assert profile["next_action"]["code"] == "sign_act_electronically"
        rid = req["id"]
        act = c.get(f"/api/v1/requests/{rid}/documents/acceptance_act.pdf").content
        token = director_token(server)
        (key_info,) = token.key_pairs()
        (cert_info,) = token.certificates()
        certificate = parse_certificate(cert_info.der)
        url = f"/api/v1/requests/{rid}/documents/acceptance_act/signature"
        forged = sign_act(act + b"%", token.signer(key_info.id), certificate)
        bad = c.post(url, json={"signature": b64(forged)})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "SignatureInvalid"
        signature = sign_act(act, token.signer(key_info.id), certificate)
        ok = c.post(url, json={"signature": b64(signature)})
        assert ok.status_code == 200, ok.text
        assert ok.json()["status"]["code"] == "DOCUMENTS_RECEIVED"
        assert ok.json()["documents"][0]["signed_electronically"] is True
    operator = Console(server, "operator")
    assert operator.approve(rid).status_code == 303
    operator.close()
    wait_status(server, "director", "ISSUED")
