"""«Акт приема-передачи» of a certificate written to a new key carrier (seed 003).

Printed in two copies after the certificate has been saved on the new token; the owner signs both
and brings the original to the bank. It needs the issued certificate (serial, validity) and the
token (model, printed serial).
"""

from __future__ import annotations

from bankkeys.bank.documents.errors import InvalidDocumentInput
from bankkeys.bank.documents.layout import DocumentPdf
from bankkeys.bank.documents.model import KeyDocumentInput, TokenDetails
from bankkeys.bank.documents.qr import DocumentKind
from bankkeys.bank.documents.sections import (
    key_block,
    organization_block,
    qr_payload,
    request_line,
    signer_block,
)
from bankkeys.bank.documents.text import BLANK_DATE, NBSP

TITLE = "Акт приема-передачи сертификата ключа проверки электронной подписи"
COPY_LABELS = ("Экземпляр № 1 — для Банка", "Экземпляр № 2 — для Клиента")


def render_transfer_act(doc: KeyDocumentInput, token: TokenDetails) -> bytes:
    """The acceptance-transfer act as PDF bytes, two copies; needs ``doc.certificate``."""
    certificate = doc.certificate
    if certificate is None:
        raise InvalidDocumentInput(
            "Сертификат", "акт приема-передачи составляется только на изготовленный сертификат"
        )
    pdf = DocumentPdf(
        title=TITLE,
        author=doc.bank.name,
        subject=f"Запрос №{NBSP}{doc.request.number}",
        created=doc.request.date,
    )
    payload = qr_payload(DocumentKind.TRANSFER_ACT, doc)
    serial = certificate.serial_number.upper()
    for label in COPY_LABELS:
        pdf.new_page(
            qr_payload=payload,
            corner_note=label.replace("№ ", f"№{NBSP}"),
            title=("АКТ ПРИЕМА-ПЕРЕДАЧИ", "сертификата ключа проверки электронной подписи"),
            subtitle=request_line(doc),
        )
        pdf.paragraph(
            f"{doc.bank.name} (далее — Банк) передал, а владелец сертификата, указанный ниже, "
            "принял сертификат ключа проверки электронной подписи, изготовленный "
            f"{request_line(doc)} и записанный на ключевой носитель {token.model}."
        )
        organization_block(pdf, doc.organization)
        signer_block(pdf, doc.signer)
        pdf.section("Сертификат и ключевой носитель")
        pdf.field("Серийный номер сертификата", serial)
        pdf.field("Ключевой носитель", token.model)
        pdf.field("Серийный номер носителя", token.serial)
        key_block(pdf, doc.key, certificate, heading="Ключ проверки электронной подписи")
        pdf.space(1.5)
        pdf.paragraph(
            "Сертификат сохранён на ключевом носителе, его данные проверены владельцем, претензий "
            "нет. Прежний ключевой носитель уничтожается после того, как Банк примет первое "
            "платёжное поручение, подписанное новым ключом.",
            size=8.5,
        )
        pdf.signature("Передал: сотрудник Банка", "____________________")
        pdf.signature(
            "Принял: владелец сертификата ключа проверки ЭП", doc.signer.name.initials_and_surname
        )
        pdf.paragraph(f"Дата: {BLANK_DATE}")
    return pdf.output()
