"""«Акт признания открытого ключа (сертификата ключа проверки электронной подписи)».

Two copies, one page each, identical apart from the copy label: the client signs (owner and
head), stamps and brings both; one stays at the bank, one comes back (seeds 000-002, 004).
"""

from __future__ import annotations

from bankkeys.bank.documents.layout import DocumentPdf
from bankkeys.bank.documents.model import KeyDocumentInput
from bankkeys.bank.documents.qr import DocumentKind
from bankkeys.bank.documents.sections import (
    bank_block,
    key_block,
    organization_block,
    qr_payload,
    request_line,
    signer_block,
)
from bankkeys.bank.documents.text import BLANK_DATE, NBSP

TITLE = "Акт признания открытого ключа (сертификата ключа проверки электронной подписи)"
COPY_LABELS = ("Экземпляр № 1 — для Банка", "Экземпляр № 2 — для Клиента")


def render_acceptance_act(doc: KeyDocumentInput) -> bytes:
    """The act as PDF bytes: the same input always gives the same bytes."""
    pdf = DocumentPdf(
        title=TITLE,
        author=doc.bank.name,
        subject=f"Запрос №{NBSP}{doc.request.number}",
        created=doc.request.date,
    )
    payload = qr_payload(DocumentKind.ACCEPTANCE_ACT, doc)
    for label in COPY_LABELS:
        pdf.new_page(
            qr_payload=payload,
            corner_note=label.replace("№ ", f"№{NBSP}"),
            title=(
                "АКТ ПРИЗНАНИЯ ОТКРЫТОГО КЛЮЧА",
                "(сертификата ключа проверки электронной подписи)",
            ),
            subtitle=request_line(doc),
        )
        _act_page(pdf, doc)
    return pdf.output()


def _act_page(pdf: DocumentPdf, doc: KeyDocumentInput) -> None:
    pdf.paragraph(
        f"{doc.bank.name} (далее — Банк) и {doc.organization.name} (далее — Клиент) признают, "
        "что открытый ключ (ключ проверки электронной подписи), приведённый в настоящем акте, "
        "принадлежит указанному ниже владельцу сертификата и служит для проверки его электронной "
        "подписи в системе дистанционного банковского обслуживания."
    )
    bank_block(pdf, doc.bank)
    organization_block(pdf, doc.organization)
    signer_block(pdf, doc.signer)
    key_block(pdf, doc.key, doc.certificate)
    org = doc.organization
    pdf.signature("Владелец сертификата ключа проверки ЭП", doc.signer.name.initials_and_surname)
    pdf.signature(
        f"Руководитель организации: {org.head_position}",
        org.head.initials_and_surname,
        stamp=True,
    )
    pdf.paragraph(f"Дата подписания: {BLANK_DATE}")
    cert = doc.certificate
    serial = cert.serial_number.upper() if cert is not None else "______________________________"
    pdf.boxed(
        "Отметки Банка",
        [
            f"Акт получен: {BLANK_DATE}",
            "Подписи и оттиск печати сверены с образцами: ____________________",
            f"Сертификат изготовлен, серийный №{NBSP}{serial}",
            "Сотрудник Банка: _____________________  ______________ / ____________________ /",
        ],
    )
