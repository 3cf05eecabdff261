"""The printed documents of a request: store records mapped onto :mod:`bankkeys.bank.documents`.

The store lacks a few things the forms print; they are derived here, and named so:

* the bank's details come from the configuration (``bank_name``, ``bank_inn``, …);
* the organization's head is the organization's signer whose position names a head
  («директор», «руководитель», «председатель», «управляющий»), else the signer themself;
* the signer's gender (for «действующий/действующая») is read from the patronymic ending
  (-вич/-ич → male, -вна/-чна/-кызы → female), else left unknown («действующий(-ая)»);
* the request number is the request's id;
* the «Акт приема-передачи» (seed 003) names the token the client reported when it confirmed the
  installation; without that report (or before it) there is no act.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankkeys.bank.documents import (
    BankDetails,
    CertificateDetails,
    KeyDocumentInput,
    OrganizationDetails,
    PersonName,
    PublicKeyDetails,
    RequestDetails,
    SignerDetails,
    TokenDetails,
    render_acceptance_act,
    render_certificate_application,
    render_transfer_act,
)
from bankkeys.bank.documents.model import Gender
from bankkeys.bank.store.models import Certificate, RekeyRequest
from bankkeys.bank.store.models import Signer as SignerRow
from bankkeys.bank.workflow import (
    DocumentKind,
    RequestState,
    subject_from_json,
)
from bankkeys.server.config import Settings
from bankkeys.server.errors import ApiError

TRANSFER_ACT = "transfer_act"
TRANSFER_ACT_TITLE = "Акт приема-передачи сертификата ключа проверки ЭП"

_HEAD_WORDS = ("директор", "руководитель", "председатель", "управляющий", "президент")


def person_name(surname: str, given_name: str) -> PersonName:
    parts = given_name.split()
    given = parts[0] if parts else given_name
    patronymic = " ".join(parts[1:]) or None
    return PersonName(surname, given, patronymic)


def gender_of(given_name: str) -> Gender | None:
    parts = given_name.split()
    if len(parts) < 2:
        return None
    patronymic = parts[-1].lower()
    if patronymic.endswith(("вич", "ич", "оглы", "улы")):
        return "male"
    if patronymic.endswith(("вна", "чна", "кызы", "қызы")):
        return "female"
    return None


def _head(session: Session, signer: SignerRow) -> SignerRow:
    colleagues = (
        session.execute(
            select(SignerRow)
            .where(SignerRow.organization_id == signer.organization_id)
            .order_by(SignerRow.id)
        )
        .scalars()
        .all()
    )
    for candidate in colleagues:
        if any(word in candidate.position.lower() for word in _HEAD_WORDS):
            return candidate
    return signer


def document_input(session: Session, settings: Settings, req: RekeyRequest) -> KeyDocumentInput:
    signer = session.get(SignerRow, req.signer_id)
    assert signer is not None
    org = signer.organization
    head = _head(session, signer)
    subject = subject_from_json(req.subject_json)
    # The request as the client confirmed it: position and e-mail from the PKCS#10 subject.
    return KeyDocumentInput(
        bank=BankDetails(
            name=settings.bank_name,
            inn=settings.bank_inn,
            bic=settings.bank_bic,
            address=settings.bank_address,
        ),
        organization=OrganizationDetails(
            name=org.name,
            inn=org.inn,
            ogrn=org.ogrn,
            address=org.address,
            head=person_name(head.surname, head.given_name),
            head_position=head.position,
            kpp=org.kpp,
        ),
        signer=SignerDetails(
            name=person_name(signer.surname, signer.given_name),
            position=subject.title or signer.position,
            snils=signer.snils,
            email=subject.email or signer.email,
            phone=signer.phone,
            acts_on_basis=signer.acting_on,
            gender=gender_of(signer.given_name),
        ),
        request=RequestDetails(number=str(req.id), date=req.accepted_at.date()),
        key=PublicKeyDetails.from_public_key_info(req.public_key_info),
    )


def installed_certificate(session: Session, req: RekeyRequest) -> Certificate | None:
    """The request's certificate once the client confirmed writing it to a named token."""
    if req.state != RequestState.INSTALLED or not (req.token_model and req.token_serial):
        return None
    return session.execute(
        select(Certificate).where(Certificate.request_id == req.id)
    ).scalar_one_or_none()


def transfer_act_available(session: Session, req: RekeyRequest) -> bool:
    return installed_certificate(session, req) is not None


def _transfer_act_refusal(req: RekeyRequest) -> ApiError:
    if req.state != RequestState.INSTALLED:
        return ApiError(
            409,
            "TransferActUnavailable",
            "Акт приема-передачи формируется после того, как сертификат выпущен и записан на "
            "ключевой носитель, а запись подтверждена («Получить сертификат»)",
        )
    return ApiError(
        409,
        "TransferActUnavailable",
        "Акт приема-передачи не сформировать: при подтверждении записи сертификата не были "
        "указаны модель и серийный номер ключевого носителя",
    )


def render_transfer(session: Session, settings: Settings, req: RekeyRequest) -> bytes:
    """«Акт приема-передачи» (seed 003, step 21): the certificate and the token it is on."""
    cert = installed_certificate(session, req)
    if cert is None or req.token_model is None or req.token_serial is None:
        raise _transfer_act_refusal(req)
    doc = dataclasses.replace(
        document_input(session, settings, req),
        certificate=CertificateDetails(cert.serial, cert.not_before.date(), cert.not_after.date()),
    )
    return render_transfer_act(doc, TokenDetails(req.token_model, req.token_serial))


def render(session: Session, settings: Settings, req: RekeyRequest, kind: str) -> bytes:
    """The document ``kind`` (a :class:`DocumentKind` or ``transfer_act``) as PDF bytes."""
    if kind == TRANSFER_ACT:
        return render_transfer(session, settings, req)
    doc = document_input(session, settings, req)
    if kind == DocumentKind.ACCEPTANCE_ACT:
        return render_acceptance_act(doc)
    return render_certificate_application(doc)
