"""The PDFs as a person and the bank's tools see them: pdftotext, pdftoppm pages, QR via zbar.

Golden tests compare the extracted text with whitespace normalised, never the PDF bytes; the
goldens live in golden/*.txt (rewrite them with BANKKEYS_UPDATE_GOLDEN=1 and review the diff).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from documents_support import (
    ISSUED,
    KEY_512,
    KEY_512_DETAILS,
    SAMPLE,
    TOKEN,
    decode_qr,
    pdf_text,
    render_pages,
)

from bankkeys.bank.documents import (
    DocumentError,
    DocumentKind,
    InvalidDocumentInput,
    KeyDocumentInput,
    parse_qr_payload,
    public_key_fingerprint,
    render_acceptance_act,
    render_certificate_application,
    render_transfer_act,
)

GOLDEN = Path(__file__).parent / "golden"

Render = Callable[[KeyDocumentInput], bytes]


def transfer(doc: KeyDocumentInput) -> bytes:
    return render_transfer_act(doc, TOKEN)


DOCUMENTS: dict[str, tuple[Render, DocumentKind, int]] = {
    "acceptance_act": (render_acceptance_act, DocumentKind.ACCEPTANCE_ACT, 2),
    "certificate_application": (
        render_certificate_application,
        DocumentKind.CERTIFICATE_APPLICATION,
        1,
    ),
    "transfer_act": (transfer, DocumentKind.TRANSFER_ACT, 2),
}


def squeeze(text: str) -> str:
    return "".join(text.split())


def expected_fields(doc: KeyDocumentInput) -> list[str]:
    """Every value of the input as the forms print it."""
    org, signer = doc.organization, doc.signer
    fields = [
        org.name,
        org.inn,
        org.ogrn,
        org.address,
        signer.name.full,
        signer.position,
        "112-233-445 95",
        signer.email,
        signer.phone,
        f"{signer.acting} на основании",
        signer.acts_on_basis,
        doc.request.number,
        "«22» ноября 2026 г.",
        doc.key.algorithm_oid,
        doc.key.parameter_set_name,
        doc.key.parameter_set_oid,
    ]
    if org.kpp is not None:
        fields.append(org.kpp)
    return fields


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_text_has_every_field_the_full_key_and_fingerprint(name: str, tmp_path: Path) -> None:
    render, _, page_count = DOCUMENTS[name]
    doc = ISSUED
    pages = pdf_text(render(doc), tmp_path)
    assert len(pages) == page_count
    for page in pages:
        lowered = page.lower()
        for field in expected_fields(doc):
            assert field.lower() in lowered, (name, field)
        assert doc.key.public_key.hex().upper() in squeeze(page)
        assert public_key_fingerprint(doc.key.public_key_info).upper() in squeeze(page)
        assert "«23» ноября 2026 г." in page and "«23» ноября 2027 г." in page


def test_bank_details_and_signature_places(tmp_path: Path) -> None:
    act = pdf_text(render_acceptance_act(SAMPLE), tmp_path, "act")
    app = pdf_text(render_certificate_application(SAMPLE), tmp_path, "app")
    for page in [*act, *app]:
        for value in (SAMPLE.bank.name, SAMPLE.bank.inn, SAMPLE.bank.bic):
            assert value in page
        assert "/ М. А. Иванова /" in page
        assert "/ П. С. Петров /" in page
        assert "М.П." in page
        assert "Отметки Банка" in page
        assert "Генеральный директор" in page
    for page in act:
        assert SAMPLE.bank.address in page
        # Before issuance the validity is left to the bank.
        assert "определяется Банком при изготовлении сертификата" in page


def test_application_sentence_names_the_basis_in_the_genitive(tmp_path: Path) -> None:
    (page,) = pdf_text(render_certificate_application(SAMPLE), tmp_path)
    assert (
        "Я, Иванова Мария Александровна, Главный бухгалтер (ООО «Ромашка»), действующая на "
        "основании Доверенности № 15 от 10.01.2026, прошу изготовить сертификат ключа проверки "
        "электронной подписи"
    ) in page
    male = replace(SAMPLE, signer=replace(SAMPLE.signer, gender="male", acts_on_basis="Устава"))
    (page,) = pdf_text(render_certificate_application(male), tmp_path, "male")
    assert "действующий на основании Устава, прошу" in page


def test_transfer_act_names_the_token_and_the_certificate(tmp_path: Path) -> None:
    pages = pdf_text(render_transfer_act(ISSUED, TOKEN), tmp_path)
    assert ISSUED.certificate is not None
    for page in pages:
        assert "АКТ ПРИЕМА-ПЕРЕДАЧИ" in page
        assert "Рутокен ЭЦП 3.0" in page and "3220123456" in page
        assert ISSUED.certificate.serial_number.upper() in page


def test_transfer_act_needs_an_issued_certificate() -> None:
    with pytest.raises(InvalidDocumentInput, match="Сертификат"):
        render_transfer_act(SAMPLE, TOKEN)


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_golden_text(name: str, tmp_path: Path) -> None:
    render, _, _ = DOCUMENTS[name]
    text = "\n\f\n".join(pdf_text(render(ISSUED), tmp_path)) + "\n"
    golden = GOLDEN / f"{name}.txt"
    if os.environ.get("BANKKEYS_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("doc", [SAMPLE, ISSUED], ids=["requested", "issued"])
def test_act_has_two_identical_copies_apart_from_the_label(
    doc: KeyDocumentInput, tmp_path: Path
) -> None:
    first, second = pdf_text(render_acceptance_act(doc), tmp_path)
    assert first.startswith("Экземпляр № 1 — для Банка ")
    assert second.startswith("Экземпляр № 2 — для Клиента ")
    assert first.removeprefix("Экземпляр № 1 — для Банка ") == second.removeprefix(
        "Экземпляр № 2 — для Клиента "
    )


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_every_page_renders_and_its_qr_names_the_request_and_key(name: str, tmp_path: Path) -> None:
    render, kind, page_count = DOCUMENTS[name]
    pngs = render_pages(render(ISSUED), tmp_path)
    assert len(pngs) == page_count
    for png in pngs:
        assert png.stat().st_size > 10_000
        codes = decode_qr(png)
        assert len(codes) == 1, codes
        payload = parse_qr_payload(codes[0])
        assert payload.kind is kind
        assert payload.request_number == ISSUED.request.number
        assert payload.fingerprint == public_key_fingerprint(ISSUED.key.public_key_info)
        assert payload.matches_key(ISSUED.key.public_key_info)
        assert not payload.matches_key(KEY_512_DETAILS.public_key_info)


def test_512_bit_key_fits_and_is_printed_whole(tmp_path: Path) -> None:
    doc = replace(ISSUED, key=KEY_512_DETAILS)
    for render, _, page_count in DOCUMENTS.values():
        pdf = render(doc)
        pages = pdf_text(pdf, tmp_path)
        assert len(pages) == page_count
        assert all(KEY_512.hex().upper() in squeeze(page) for page in pages)
        assert "ключ 512 бит" in pages[0] and "128 байт" in pages[0]
    (png, *_) = render_pages(render_acceptance_act(doc), tmp_path, "k512")
    assert parse_qr_payload(decode_qr(png)[0]).matches_key(KEY_512_DETAILS.public_key_info)


def test_a_document_that_would_overflow_the_page_is_refused() -> None:
    long_address = ", ".join(["ул. Очень Длинная Улица Имени Кого-то Известного, д. 100"] * 12)
    doc = replace(SAMPLE, organization=replace(SAMPLE.organization, address=long_address))
    with pytest.raises(DocumentError, match="не помещается"):
        render_acceptance_act(doc)


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_same_input_gives_the_same_bytes(name: str) -> None:
    render, _, _ = DOCUMENTS[name]
    first = render(ISSUED)
    assert first.startswith(b"%PDF-")
    assert render(ISSUED) == first
    assert render(replace(ISSUED, request=replace(ISSUED.request, number="2026-000124"))) != first


_RENDER_IN_CHILD = """
import sys
sys.path[:0] = sys.argv[1:3]
from documents_support import ISSUED
from bankkeys.bank.documents import render_acceptance_act
sys.stdout.buffer.write(render_acceptance_act(ISSUED))
"""


def test_same_bytes_across_processes_and_hash_seeds() -> None:
    here = Path(__file__).parent
    outputs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        child = subprocess.run(
            [sys.executable, "-c", _RENDER_IN_CHILD, str(here.parent), str(here)],
            env=env,
            capture_output=True,
            check=True,
        )
        outputs.append(child.stdout)
    assert outputs[0] == outputs[1] == render_acceptance_act(ISSUED)
