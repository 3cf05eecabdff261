"""The blocks of fields that several documents print the same way."""

from __future__ import annotations

from bankkeys.bank.documents.fingerprint import public_key_fingerprint
from bankkeys.bank.documents.layout import DocumentPdf
from bankkeys.bank.documents.model import (
    BankDetails,
    CertificateDetails,
    KeyDocumentInput,
    OrganizationDetails,
    PublicKeyDetails,
    SignerDetails,
)
from bankkeys.bank.documents.qr import DocumentKind, QrPayload
from bankkeys.bank.documents.text import NBSP, count_bytes, hex_groups, russian_date, snils


def qr_payload(kind: DocumentKind, doc: KeyDocumentInput) -> str:
    """The QR payload of ``kind`` for this request and key."""
    return QrPayload(
        kind, doc.request.number, public_key_fingerprint(doc.key.public_key_info)
    ).encode()


def request_line(doc: KeyDocumentInput) -> str:
    """«по запросу № 2026-000123 от «22» ноября 2026 г.»"""
    return f"по запросу №{NBSP}{doc.request.number} от {russian_date(doc.request.date)}"


def bank_block(pdf: DocumentPdf, bank: BankDetails, heading: str = "Банк") -> None:
    pdf.section(heading)
    pdf.field("Наименование, реквизиты", f"{bank.name}, ИНН {bank.inn}, БИК {bank.bic}")
    pdf.field("Адрес", bank.address)


def organization_block(pdf: DocumentPdf, org: OrganizationDetails, heading: str = "Клиент") -> None:
    pdf.section(heading)
    pdf.field("Наименование", org.name)
    ids = f"ИНН {org.inn}"
    if org.kpp is not None:
        ids += f", КПП {org.kpp}"
    ids += f", {'ОГРН' if len(org.ogrn) == 13 else 'ОГРНИП'} {org.ogrn}"
    pdf.field("Реквизиты", ids)
    pdf.field("Адрес", org.address)


def signer_block(
    pdf: DocumentPdf, signer: SignerDetails, heading: str = "Владелец сертификата ключа проверки ЭП"
) -> None:
    pdf.section(heading)
    pdf.field("Фамилия, имя, отчество", signer.name.full)
    pdf.field("Должность", signer.position)
    pdf.field("СНИЛС", snils(signer.snils))
    pdf.field("Электронная почта / телефон", f"{signer.email} / {signer.phone}")
    pdf.field(f"{signer.acting.capitalize()} на основании", signer.acts_on_basis)


def key_block(
    pdf: DocumentPdf,
    key: PublicKeyDetails,
    certificate: CertificateDetails | None,
    heading: str = "Ключ проверки электронной подписи (открытый ключ)",
) -> None:
    pdf.section(heading)
    pdf.field("Алгоритм", f"{key.algorithm.title} ({key.algorithm_oid})")
    pdf.field("Параметры", f"{key.parameter_set_name} ({key.parameter_set_oid})")
    pdf.mono_lines(
        f"Открытый ключ, {count_bytes(len(key.public_key))} (hex)", hex_groups(key.public_key)
    )
    fingerprint = bytes.fromhex(public_key_fingerprint(key.public_key_info))
    pdf.mono_lines(
        "Отпечаток ключа: ГОСТ Р 34.11-2012 (256 бит) от SubjectPublicKeyInfo",
        hex_groups(fingerprint),
    )
    pdf.field("Срок действия сертификата", validity(certificate))


def validity(certificate: CertificateDetails | None) -> str:
    if certificate is None:
        return "определяется Банком при изготовлении сертификата"
    return f"с {russian_date(certificate.not_before)} по {russian_date(certificate.not_after)}"
