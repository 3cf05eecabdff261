"""«Заявление на изготовление сертификата ключа проверки электронной подписи».

One copy, filled from the request, with «действующий на основании …» in the genitive as seed 003
asks. The owner and the head sign, the organization stamps (seeds 000, 001).
"""

from __future__ import annotations

from bankkeys.bank.documents.layout import DocumentPdf
from bankkeys.bank.documents.model import KeyDocumentInput
from bankkeys.bank.documents.qr import DocumentKind
from bankkeys.bank.documents.sections import (
    key_block,
    organization_block,
    qr_payload,
    request_line,
)
from bankkeys.bank.documents.text import BLANK_DATE, NBSP, snils

TITLE = "Заявление на изготовление сертификата ключа проверки электронной подписи"


def render_certificate_application(doc: KeyDocumentInput) -> bytes:
    """The application as PDF bytes (one page); the same input always gives the same bytes."""
    pdf = DocumentPdf(
        title=TITLE,
        author=doc.bank.name,
        subject=f"Запрос №{NBSP}{doc.request.number}",
        created=doc.request.date,
    )
    signer = doc.signer
    org = doc.organization
    pdf.new_page(
        qr_payload=qr_payload(DocumentKind.CERTIFICATE_APPLICATION, doc),
        corner_note=f"В {doc.bank.name}\nИНН {doc.bank.inn}, БИК {doc.bank.bic}",
        title=(
            "ЗАЯВЛЕНИЕ",
            "на изготовление сертификата ключа проверки электронной подписи",
        ),
        subtitle=request_line(doc),
    )
    pdf.paragraph(
        f"Я, {signer.name.full}, {signer.position} ({org.name}), {signer.acting} на основании "
        f"{signer.acts_on_basis}, прошу изготовить сертификат ключа проверки электронной подписи "
        f"для работы в системе дистанционного банковского обслуживания {doc.bank.name} "
        f"{request_line(doc)} и включить в него следующие сведения."
    )
    organization_block(pdf, org, heading="Организация (владелец счёта)")
    pdf.section("Владелец сертификата ключа проверки ЭП")
    pdf.field("Фамилия, имя, отчество", signer.name.full)
    pdf.field("Должность", signer.position)
    pdf.field("СНИЛС", snils(signer.snils))
    pdf.field("Электронная почта", signer.email)
    pdf.field("Телефон", signer.phone)
    pdf.field(f"{signer.acting.capitalize()} на основании", signer.acts_on_basis)
    key_block(pdf, doc.key, doc.certificate)
    pdf.space(1.5)
    pdf.paragraph(
        "Подтверждаю достоверность сведений, указанных в настоящем заявлении. Даю согласие Банку "
        "на обработку моих персональных данных, указанных в заявлении, в целях изготовления и "
        "обслуживания сертификата (Федеральный закон от 27.07.2006 №\u00a0152-ФЗ «О персональных "
        "данных»).",
        size=8.5,
    )
    pdf.signature("Владелец сертификата ключа проверки ЭП", signer.name.initials_and_surname)
    pdf.signature(
        f"Руководитель организации: {org.head_position}",
        org.head.initials_and_surname,
        stamp=True,
    )
    pdf.paragraph(f"Дата: {BLANK_DATE}")
    pdf.boxed(
        "Отметки Банка",
        [
            f"Заявление принято: {BLANK_DATE}",
            "Полномочия и личность владельца проверены: ____________________",
            "Сотрудник Банка: _____________________  ______________ / ____________________ /",
        ],
    )
    return pdf.output()
