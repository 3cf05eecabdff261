"""Sample input for the document tests and the tools they run (poppler, zbar)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

from asn1crypto import core

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
)
from bankkeys.gost.streebog import streebog512
from conftest import missing

# Not curve points: the documents print bytes and never do arithmetic on them.
KEY_256 = streebog512(b"bankkeys documents test key 256").digest()
KEY_512 = KEY_256 + streebog512(b"bankkeys documents test key 512").digest()


def _tlv(tag: int, body: bytes) -> bytes:
    size = len(body)
    length = bytes([size]) if size < 0x80 else bytes([0x81, size]) if size < 0x100 else b""
    assert length, "test SPKI too long"
    return bytes([tag]) + length + body


def gost_spki(key_oid: str, param_oid: str, raw: bytes) -> bytes:
    """DER SubjectPublicKeyInfo of a GOST key (RFC 9215 form), built here as test data."""
    oid = lambda dotted: core.ObjectIdentifier(dotted).dump()  # noqa: E731
    algorithm = _tlv(0x30, oid(key_oid) + _tlv(0x30, oid(param_oid)))
    return _tlv(0x30, algorithm + _tlv(0x03, b"\0" + core.OctetString(raw).dump()))


def gost_key(key_oid: str, param_name: str, param_oid: str, raw: bytes) -> PublicKeyDetails:
    return PublicKeyDetails(key_oid, param_name, param_oid, raw, gost_spki(key_oid, param_oid, raw))


BANK = BankDetails(
    name="АО «Тестовый Банк»",
    inn="7701234560",
    bic="044525999",
    address="119019, г. Москва, ул. Новый Арбат, д. 1",
)
ORGANIZATION = OrganizationDetails(
    name="ООО «Ромашка»",
    inn="5001122339",
    ogrn="1025001122332",
    kpp="500101001",
    address="143900, Московская обл., г. Балашиха, ул. Советская, д. 7, офис 12",
    head=PersonName("Петров", "Пётр", "Сергеевич"),
    head_position="Генеральный директор",
)
SIGNER = SignerDetails(
    name=PersonName("Иванова", "Мария", "Александровна"),
    position="Главный бухгалтер",
    snils="11223344595",
    email="m.ivanova@romashka.example",
    phone="+7 (495) 123-45-67",
    acts_on_basis="Доверенности № 15 от 10.01.2026",
    gender="female",
)
REQUEST = RequestDetails(number="2026-000123", date=date(2026, 11, 22))
KEY = gost_key(
    "1.2.643.7.1.1.1.1", "id-tc26-gost-3410-12-256-paramSetB", "1.2.643.7.1.2.1.1.2", KEY_256
)
KEY_512_DETAILS = gost_key(
    "1.2.643.7.1.1.1.2", "id-tc26-gost-3410-12-512-paramSetA", "1.2.643.7.1.2.1.2.1", KEY_512
)
CERTIFICATE = CertificateDetails(
    serial_number="01dc7a2e5f0b3c4d8e9fa1b2c3d4e5f6",
    not_before=date(2026, 11, 23),
    not_after=date(2027, 11, 23),
)
TOKEN = TokenDetails(model="Рутокен ЭЦП 3.0", serial="3220123456")

SAMPLE = KeyDocumentInput(BANK, ORGANIZATION, SIGNER, REQUEST, KEY)
ISSUED = replace(SAMPLE, certificate=CERTIFICATE)


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"{name} not installed (Debian: {package})")
    return path


def pdf_text(pdf: bytes, tmp_path: Path, name: str = "doc") -> list[str]:
    """pdftotext of every page (form feed separates pages), whitespace normalised."""
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    result = subprocess.run(
        [tool("pdftotext", "poppler-utils"), "-enc", "UTF-8", str(source), "-"],
        capture_output=True,
        check=True,
    )
    pages = result.stdout.decode("utf-8").split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return [normalise(page) for page in pages]


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def render_pages(pdf: bytes, tmp_path: Path, name: str = "doc", dpi: int = 150) -> list[Path]:
    """pdftoppm every page to PNG; returns the files in page order."""
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    prefix = tmp_path / f"{name}-page"
    subprocess.run(
        [tool("pdftoppm", "poppler-utils"), "-r", str(dpi), "-png", str(source), str(prefix)],
        capture_output=True,
        check=True,
    )
    return sorted(tmp_path.glob(f"{name}-page*.png"))


def decode_qr(png: Path) -> list[str]:
    """Every QR code zbarimg finds on a rendered page."""
    result = subprocess.run(
        [
            tool("zbarimg", "zbar-tools"),
            "--quiet",
            "--raw",
            "-Sdisable",
            "-Sqrcode.enable",
            str(png),
        ],
        capture_output=True,
        check=False,
    )
    if result.returncode not in (0, 4):  # 4: no code found
        raise AssertionError(f"zbarimg failed: {result.stderr.decode(errors='replace')}")
    return [line for line in result.stdout.decode("utf-8").splitlines() if line]
