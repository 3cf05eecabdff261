"""Every transition and every refusal of the re-key workflow, on SQLite and PostgreSQL, with real
PKCS#10, CMS and certificates from the PKI layer."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from bank_support import (
    ADMIN,
    OFFICER,
    OPERATOR,
    OPERATOR2,
    PAPER,
    SYSTEM,
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
from bankkeys.bank.ca import RevocationReason
from bankkeys.bank.errors import (
    ActivationCodeInvalid,
    InvalidTransition,
    KeyReused,
    MalformedRequest,
    NotAllowed,
    OpenRequestExists,
    PathNotAllowed,
    ProofOfPossessionFailed,
    SignatureInvalid,
    SubjectMismatch,
    ValidationError,
)
from bankkeys.bank.policy import RenewalPathName
from bankkeys.bank.store.models import (
    AuditEvent,
    Certificate,
    Notification,
    PrintedDocument,
    RekeyRequest,
)
from bankkeys.bank.workflow import Actor, DocumentKind, RequestState, Status
from bankkeys.pki.certificates import parse_certificate

__all__ = ["bank", "clock", "db", "db_url", "pg_worker_database", "sqlite_template"]


def states(bank: Bank, rid: int) -> str:
    with bank.db.transaction() as s:
        return s.execute(select(RekeyRequest.state).where(RekeyRequest.id == rid)).scalar_one()


def test_initial_generation_walks_every_status(bank: Bank) -> None:
    wf, client = bank.workflow, bank.new_client()
    assert wf.status(client.signer_id).status is Status.INITIAL_GENERATION_REQUIRED

    key, pkcs10 = client.new_request()
    rid = wf.submit_request(
        client.actor, client.signer_id, pkcs10, activation_code=client.activation_code
    )
    assert wf.status(client.signer_id).status is Status.ACCEPTED
    assert wf.status(client.signer_id).text == "Принят банком"

    wf.record_printed(client.actor, rid, DocumentKind.ACCEPTANCE_ACT, content=b"%PDF act", copies=2)
    assert wf.receive_documents(OPERATOR, rid, [DocumentKind.ACCEPTANCE_ACT]) is (
        RequestState.ACCEPTED
    )  # the application is still missing
    assert wf.receive_documents(OPERATOR, rid, [DocumentKind.CERTIFICATE_APPLICATION]) is (
        RequestState.DOCUMENTS_RECEIVED
    )
    assert wf.status(client.signer_id).status is Status.DOCUMENTS_RECEIVED

    outcome = wf.approve(OPERATOR, rid)
    assert outcome.certificate_serial is not None
    assert wf.status(client.signer_id).status is Status.ISSUED
    assert wf.status(client.signer_id).text == "Получен новый сертификат"

    der = bank.certificate_of(outcome.certificate_serial)
    cert = parse_certificate(der)
    assert cert.public_key_info == key.public_key_info
    assert cert.subject.surname == client.surname and cert.subject.snils == client.snils
    assert format(cert.serial, "x") == outcome.certificate_serial
    assert cert.not_after - cert.not_before == timedelta(days=365)
    assert cert.issuer_der == bank.ca.certificate.subject_der

    wf.confirm_installation(client.actor, rid)
    status = wf.status(client.signer_id)
    assert status.status is Status.ACTIVE  # a first key: nothing to retire
    assert status.certificate_serial == outcome.certificate_serial

    bank.clock.now = cert.not_after - timedelta(days=29)
    renewal = wf.status(client.signer_id)
    assert renewal.status is Status.RENEWAL_REQUIRED
    assert renewal.text == "Необходима плановая замена сертификата: осталось дней: 29"

    bank.clock.now = cert.not_after + timedelta(seconds=1)
    expired = wf.status(client.signer_id)
    assert expired.status is Status.EXPIRED and expired.text.startswith("Срок действия истёк")

    with bank.db.transaction() as s:
        assert audit.verify(s) == []
        actions = [e.action for e in audit.events_for_request(s, rid)]
    assert actions == [
        "submit_request", "record_printed", "receive_documents", "receive_documents",
        "approve", "issue", "confirm_installation",
    ]  # fmt: skip


def test_planned_renewal_switches_and_retires_the_old_key(bank: Bank) -> None:
    wf, client = bank.workflow, bank.new_client()
    old_serial = bank.first_key(client)
    bank.clock.advance(days=340)
    assert wf.status(client.signer_id).status is Status.RENEWAL_REQUIRED

    _key, pkcs10 = client.new_request()
    rid = wf.submit_request(client.actor, client.signer_id, client.signed(pkcs10))
    with bank.db.transaction() as s:
        req = s.get(RekeyRequest, rid)
        assert req is not None and req.path == "old-key" and req.kind == "renewal"
    wf.receive_documents(OPERATOR, rid, PAPER)
    new_serial = wf.approve(OFFICER, rid).certificate_serial
    assert new_serial is not None
    # Until installed, the old key stays the working one.
    assert wf.status(client.signer_id).certificate_serial == old_serial
    wf.confirm_installation(client.actor, rid)
    switched = wf.status(client.signer_id)
    assert switched.status is Status.SWITCHED
    assert switched.text == "Вы переведены на работу с новым комплектом ключей"
    assert switched.certificate_serial == new_serial

    assert wf.record_payment_with_new_key(SYSTEM, new_serial) == old_serial
    assert wf.record_payment_with_new_key(SYSTEM, new_serial) is None  # once only
    assert wf.status(client.signer_id).status is Status.ACTIVE
    with bank.db.transaction() as s:
        old = s.execute(select(Certificate).where(Certificate.serial == old_serial)).scalar_one()
        assert old.revocation_reason == "superseded" and old.revoked_at == bank.clock.now
        kinds = set(s.execute(select(Notification.kind)).scalars())
        assert {"request-accepted", "certificate-issued", "old-key-retired"} <= kinds


def test_remote_renewal_with_an_electronically_signed_act(bank: Bank) -> None:
    bank.with_policy(renewal_path=RenewalPathName.REMOTE_SIGNED_ACT)
    wf, client = bank.workflow, bank.new_client()
    bank.first_key(client)
    _key, pkcs10 = client.new_request()
    rid = wf.submit_request(client.actor, client.signer_id, client.signed(pkcs10))
    with pytest.raises(InvalidTransition, match="бумажные документы не нужны"):
        wf.receive_documents(OPERATOR, rid, [DocumentKind.ACCEPTANCE_ACT])
    act = "Акт признания открытого ключа № 1".encode()
    wf.record_printed(client.actor, rid, DocumentKind.ACCEPTANCE_ACT, content=act)
    other_act = "другой акт".encode()
    with pytest.raises(SignatureInvalid, match="не тот акт"):
        wf.sign_act_electronically(
            client.actor, rid, act=other_act, signature=client.signed(other_act)
        )
    # Signed by someone else's valid key: refused.
    stranger = bank.new_client("Петров")
    bank.first_key(stranger)
    with pytest.raises(SignatureInvalid):
        wf.sign_act_electronically(client.actor, rid, act=act, signature=stranger.signed(act))
    wf.sign_act_electronically(client.actor, rid, act=act, signature=client.signed(act))
    assert wf.status(client.signer_id).status is Status.DOCUMENTS_RECEIVED
    assert wf.approve(OPERATOR, rid).certificate_serial is not None


def test_remote_act_is_refused_on_the_paper_path(bank: Bank) -> None:
    wf, client = bank.workflow, bank.new_client()
    bank.first_key(client)
    _key, pkcs10 = client.new_request()
    rid = wf.submit_request(client.actor, client.signer_id, client.signed(pkcs10))
    with pytest.raises(PathNotAllowed):
        wf.sign_act_electronically(client.actor, rid, act=b"act", signature=client.signed(b"act"))


def test_four_eyes_needs_two_distinct_employees(bank: Bank) -> None:
    bank.with_policy(four_eyes=True)
    wf, client = bank.workflow, bank.new_client()
    _key, pkcs10 = client.new_request()
    rid = wf.submit_request(client.actor, client.signer_id, pkcs10,
                            activation_code=client.activation_code)  # fmt: skip
    wf.receive_documents(OPERATOR, rid, PAPER)
    first = wf.approve(OPERATOR, rid)
    assert (first.approvals, first.required, first.certificate_serial) == (1, 2, None)
    assert wf.status(client.signer_id).status is Status.AWAITING_SECOND_APPROVAL
    with pytest.raises(InvalidTransition, match="уже одобрили"):
        wf.approve(OPERATOR, rid)
    second = wf.approve(OPERATOR2, rid)
    assert second.certificate_serial is not None
    with pytest.raises(InvalidTransition, match="Получен новый сертификат") as err:
        wf.approve(OFFICER, rid)
    assert err.value.current == "Получен новый сертификат"


def test_approval_without_a_ca_waits_then_issue_completes(bank: Bank) -> None:
    from dataclasses import replace

    wf, client = bank.workflow, bank.new_client()
    _key, pkcs10 = client.new_request()
    rid = wf.submit_request(client.actor, client.signer_id, pkcs10,
                            activation_code=client.activation_code)  # fmt: skip
    wf.receive_documents(OPERATOR, rid, PAPER)
    offline = replace(wf, ca=None)
    assert offline.approve(OPERATOR, rid).certificate_serial is None
    assert wf.status(client.signer_id).status is Status.APPROVED
    with pytest.raises(NotAllowed):
        wf.issue(client.actor, rid)
    serial = wf.issue(SYSTEM, rid)
    assert wf.status(client.signer_id).certificate_serial is None  # not installed yet
    with pytest.raises(InvalidTransition):
        wf.issue(SYSTEM, rid)
    assert len(serial) > 0


def test_reject_with_reason_and_refusals_after(bank: Bank) -> None:
    wf, client = bank.workflow, bank.new_client()
    _key, pkcs10 = client.new_request()
    rid = wf.submit_request(client.actor, client.signer_id, pkcs10,
                            activation_code=client.activation_code)  # fmt: skip
    with pytest.raises(ValidationError):
        wf.reject(OPERATOR, rid, "   ")
    wf.reject(OPERATOR, rid, "подпись на акте не совпадает с образцом")
    status = wf.status(client.signer_id)
    assert status.status is Status.REJECTED
    assert status.text == "Запрос отклонён банком: подпись на акте не совпадает с образцом"
    with pytest.raises(InvalidTransition, match="Запрос отклонён банком"):
        wf.approve(OPERATOR, rid)
    with pytest.raises(InvalidTransition):
        wf.cancel(client.actor, rid)


def test_cancel_by_the_client_only(bank: Bank) -> None:
    wf, client = bank.workflow, bank.new_client()
    other = bank.new_client("Петров")
    bank.first_key(client)
    _key, pkcs10 = client.new_request()
    rid = wf.submit_request(client.actor, client.signer_id, client.signed(pkcs10))
    with pytest.raises(NotAllowed, match="только самому владельцу"):
        wf.cancel(other.actor, rid)
    with pytest.raises(NotAllowed):
        wf.cancel(OPERATOR, rid)
    wf.cancel(client.actor, rid)
    assert wf.status(client.signer_id).status is Status.CANCELLED
    # After a cancellation a new request is possible, but not with the same key.
    with pytest.raises(KeyReused):
        wf.submit_request(client.actor, client.signer_id, client.signed(pkcs10))
    _key2, pkcs10b = client.new_request()
    wf.submit_request(client.actor, client.signer_id, client.signed(pkcs10b))
    assert wf.status(client.signer_id).status is Status.ACCEPTED


def test_request_acceptance_checks(bank: Bank) -> None:
    wf, client = bank.workflow, bank.new_client()
    other = bank.new_client("Петров")
    _k, pkcs10 = client.new_request()
    submit = wf.submit_request

    with pytest.raises(MalformedRequest):
        submit(client.actor, client.signer_id, b"\x30\x03\x02\x01\x00", activation_code="x")
    broken = bytearray(pkcs10)
    broken[-3] ^= 0x01  # inside the signature
    with pytest.raises(ProofOfPossessionFailed):
        submit(client.actor, client.signer_id, bytes(broken),
               activation_code=client.activation_code)  # fmt: skip
    with pytest.raises(ActivationCodeInvalid):
        submit(client.actor, client.signer_id, pkcs10, activation_code="AAAA-BBBB-CCCC-DDDD")
    with pytest.raises(ActivationCodeInvalid):  # another signer's code
        submit(client.actor, client.signer_id, pkcs10, activation_code=other.activation_code)
    with pytest.raises(PathNotAllowed, match="код активации"):
        submit(client.actor, client.signer_id, pkcs10)  # no certificate, no code
    _k2, wrong_person = client.new_request(surname="Сидоров", snils=other.snils)
    with pytest.raises(SubjectMismatch, match=r"фамилия.*СНИЛС"):
        submit(client.actor, client.signer_id, wrong_person,
               activation_code=client.activation_code)  # fmt: skip
    with pytest.raises(NotAllowed):
        submit(other.actor, client.signer_id, pkcs10, activation_code=client.activation_code)
    # None of the refusals used the code up.
    rid = submit(client.actor, client.signer_id, pkcs10,
                 activation_code=client.activation_code.lower())  # fmt: skip
    with pytest.raises(OpenRequestExists):
        _k3, again = client.new_request()
        submit(client.actor, client.signer_id, again, activation_code=client.activation_code)
    wf.cancel(client.actor, rid)
    _k4, later = client.new_request()
    with pytest.raises(ActivationCodeInvalid):  # one-time
        submit(client.actor, client.signer_id, later, activation_code=client.activation_code)
    with bank.db.transaction() as s:
        refused = (
            s.execute(select(AuditEvent.action).where(AuditEvent.action.like("refused:%")))
            .scalars()
            .all()
        )
        assert len(refused) >= 8
        assert audit.verify(s) == []


def test_renewal_must_be_signed_by_the_signers_own_current_certificate(bank: Bank) -> None:
    wf, client = bank.workflow, bank.new_client()
    stranger = bank.new_client("Петров")
    bank.first_key(client)
    bank.first_key(stranger)
    _k, pkcs10 = client.new_request()
    with pytest.raises(SignatureInvalid, match="не действующим сертификатом"):
        wf.submit_request(client.actor, client.signer_id, stranger.signed(pkcs10))
    # A CMS whose content was swapped after signing fails verification.
    signed = bytearray(client.signed(pkcs10))
    at = bytes(signed).find(pkcs10[-40:])
    signed[at + 5] ^= 0xFF
    with pytest.raises((SignatureInvalid, MalformedRequest)):
        wf.submit_request(client.actor, client.signer_id, bytes(signed))


def test_expired_certificate_needs_an_in_person_application(bank: Bank) -> None:
    wf, client = bank.workflow, bank.new_client()
    serial = bank.first_key(client)
    cert = parse_certificate(bank.certificate_of(serial))
    bank.clock.now = cert.not_after + timedelta(days=1)
    assert wf.status(client.signer_id).status is Status.EXPIRED
    _k, pkcs10 = client.new_request()
    with pytest.raises(PathNotAllowed, match="лично"):
        wf.submit_request(client.actor, client.signer_id, client.signed(pkcs10))
    code = wf.issue_activation_code(OPERATOR, client.signer_id)
    assert wf.status(client.signer_id).status is Status.INITIAL_GENERATION_REQUIRED
    wf.submit_request(client.actor, client.signer_id, pkcs10, activation_code=code)
    assert wf.status(client.signer_id).status is Status.ACCEPTED


def test_activation_code_expires(bank: Bank) -> None:
    wf, client = bank.workflow, bank.new_client()
    bank.clock.advance(days=31)
    assert wf.status(client.signer_id).text == (
        "Необходима начальная генерация: получите в банке код активации"
    )
    _k, pkcs10 = client.new_request()
    with pytest.raises(ActivationCodeInvalid):
        wf.submit_request(client.actor, client.signer_id, pkcs10,
                          activation_code=client.activation_code)  # fmt: skip


def test_revocation_by_the_bank(bank: Bank) -> None:
    wf, client = bank.workflow, bank.new_client()
    serial = bank.first_key(client)
    with pytest.raises(NotAllowed):
        wf.revoke(client.actor, serial, RevocationReason.KEY_COMPROMISE)
    wf.revoke(OFFICER, serial, RevocationReason.KEY_COMPROMISE)
    assert wf.status(client.signer_id).status is Status.REVOKED
    with pytest.raises(InvalidTransition, match="уже отозван"):
        wf.revoke(OFFICER, serial, RevocationReason.KEY_COMPROMISE)


@pytest.mark.parametrize(
    ("actor", "call"),
    [
        (OPERATOR, "submit"),
        (ADMIN, "approve"),
        (Actor.client(1, "x"), "approve"),
        (Actor.client(1, "x"), "receive"),
        (OPERATOR, "confirm"),
        (SYSTEM, "reject"),
        (OPERATOR, "register_org_by_client"),
    ],
)
def test_roles_are_enforced(bank: Bank, actor: Actor, call: str) -> None:
    wf, client = bank.workflow, bank.new_client()
    _k, pkcs10 = client.new_request()
    rid = wf.submit_request(client.actor, client.signer_id, pkcs10,
                            activation_code=client.activation_code)  # fmt: skip
    wf.receive_documents(OPERATOR, rid, PAPER)
    before = wf.status(client.signer_id)
    with pytest.raises(NotAllowed):
        if call == "submit":
            wf.submit_request(actor, client.signer_id, pkcs10)
        elif call == "approve":
            wf.approve(actor, rid)
        elif call == "receive":
            wf.receive_documents(actor, rid, PAPER)
        elif call == "confirm":
            wf.confirm_installation(actor, rid)
        elif call == "reject":
            wf.reject(actor, rid, "нет")
        else:
            wf.register_organization(client.actor, name="x", inn="7707083893", ogrn="1027700132195",
                                     address="x")  # fmt: skip
    assert wf.status(client.signer_id) == before


def test_registration_data_is_validated(bank: Bank) -> None:
    wf = bank.workflow
    with pytest.raises(ValidationError, match="ИНН"):
        wf.register_organization(OPERATOR, name="x", inn="7707083894", ogrn="1027700132195",
                                 address="x")  # fmt: skip
    with pytest.raises(ValidationError, match="ОГРН"):
        wf.register_organization(OPERATOR, name="x", inn="500100732259", ogrn="1027700132196",
                                 address="x")  # fmt: skip
    with pytest.raises(ValidationError, match="уже зарегистрирована"):
        wf.register_organization(OPERATOR, name="x", inn="7707083893", ogrn="1027700132195",
                                 address="x")  # fmt: skip
    with pytest.raises(ValidationError, match="СНИЛС"):
        wf.register_signer(OPERATOR, bank.org_id, login="z", surname="Z", given_name="Z",
                           position="Z", snils="11223344596", email="z@example.ru", phone="1",
                           acting_on="Устава")  # fmt: skip


def test_installation_and_payment_refusals(bank: Bank) -> None:
    wf, client = bank.workflow, bank.new_client()
    _k, pkcs10 = client.new_request()
    rid = wf.submit_request(client.actor, client.signer_id, pkcs10,
                            activation_code=client.activation_code)  # fmt: skip
    with pytest.raises(InvalidTransition, match="Принят банком"):
        wf.confirm_installation(client.actor, rid)
    with pytest.raises(InvalidTransition, match="Принят банком"):
        wf.approve(OPERATOR, rid)
    wf.receive_documents(OPERATOR, rid, PAPER)
    serial = wf.approve(OPERATOR, rid).certificate_serial
    assert serial is not None
    with pytest.raises(InvalidTransition, match="Получен новый сертификат"):
        wf.record_payment_with_new_key(SYSTEM, serial)
    with pytest.raises(InvalidTransition, match="Получен новый сертификат"):
        wf.cancel(client.actor, rid)


def test_history_lists_the_requests_events(bank: Bank) -> None:
    client = bank.new_client()
    bank.first_key(client)
    rid = bank.workflow.status(client.signer_id).request_id
    assert rid is None  # first key installed: no open request
    with bank.db.transaction() as s:
        rid = s.execute(select(RekeyRequest.id)).scalar_one()
    history = bank.workflow.history(rid)
    assert next(h["action"] for h in history) == "submit_request"
    assert json.dumps([h["details"] for h in history], ensure_ascii=False).count("path") == 1


def test_transfer_act_is_printed_only_after_installation_on_a_named_token(bank: Bank) -> None:
    wf = bank.workflow
    act = DocumentKind.TRANSFER_ACT
    for token in (None, ("Рутокен ЭЦП 3.0", "3220000777")):
        client = bank.new_client()
        _k, pkcs10 = client.new_request()
        rid = wf.submit_request(client.actor, client.signer_id, pkcs10,
                                activation_code=client.activation_code)  # fmt: skip
        with pytest.raises(InvalidTransition, match="после того, как сертификат выпущен"):
            wf.record_printed(client.actor, rid, act, content=b"%PDF act", copies=2)
        wf.receive_documents(OPERATOR, rid, PAPER)
        assert wf.approve(OPERATOR, rid).certificate_serial is not None
        with pytest.raises(InvalidTransition, match="Получен новый сертификат"):
            wf.record_printed(client.actor, rid, act, content=b"%PDF act", copies=2)
        model, serial = token if token is not None else (None, None)
        wf.confirm_installation(client.actor, rid, token_model=model, token_serial=serial)
        # The acts of the request itself are printed before approval, never after.
        with pytest.raises(InvalidTransition):
            wf.record_printed(client.actor, rid, DocumentKind.ACCEPTANCE_ACT, content=b"%PDF")
        with pytest.raises(NotAllowed):
            wf.record_printed(OPERATOR, rid, act, content=b"%PDF act", copies=2)
        if token is None:
            with pytest.raises(InvalidTransition, match="модель и серийный номер"):
                wf.record_printed(client.actor, rid, act, content=b"%PDF act", copies=2)
            continue
        wf.record_printed(client.actor, rid, act, content=b"%PDF act", copies=2)
        with bank.db.transaction() as s:
            events = [(e.action, json.loads(e.details)) for e in audit.events_for_request(s, rid)]
            doc = s.execute(
                select(PrintedDocument).where(
                    PrintedDocument.request_id == rid, PrintedDocument.kind == "transfer_act"
                )
            ).scalar_one()
            assert doc.copies == 2 and doc.printed_at is not None and doc.content_hash
        assert events[-1] == ("record_printed", {"kind": "transfer_act", "copies": 2})
