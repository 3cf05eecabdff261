"""The QR payload format, its parser and the Streebog-256 fingerprint (checked against OpenSSL)."""

from __future__ import annotations

import pytest
from documents_support import KEY, KEY_512_DETAILS

from bankkeys.bank.documents import (
    DocumentKind,
    InvalidQrPayload,
    QrPayload,
    fingerprint_matches,
    parse_qr_payload,
    public_key_fingerprint,
)
from bankkeys.bank.documents.qr import qr_modules
from conftest import OpenSSL


@pytest.mark.openssl
def test_fingerprint_is_streebog256_of_the_spki_as_openssl_computes_it(
    openssl: OpenSSL,
) -> None:
    for key in (KEY.public_key_info, KEY_512_DETAILS.public_key_info):
        out = openssl("dgst", "-md_gost12_256", "-r", input=key).stdout.decode()
        assert public_key_fingerprint(key) == out.split()[0].lower()
    # The DER is what is hashed, as the bank's store does; the raw key gives another value.
    assert public_key_fingerprint(KEY.public_key) != public_key_fingerprint(KEY.public_key_info)


def test_fingerprint_known_answer() -> None:
    # Streebog-256 of RFC 6986's M1 as `openssl dgst -md_gost12_256` prints it.
    m1 = b"012345678901234567890123456789012345678901234567890123456789012"
    fp = "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"
    assert public_key_fingerprint(m1) == fp
    assert fingerprint_matches(fp.upper(), m1)
    assert not fingerprint_matches(fp, m1 + b"3")


def test_payload_round_trip_for_every_document_kind() -> None:
    fp = public_key_fingerprint(KEY.public_key_info)
    for kind in DocumentKind:
        payload = QrPayload(kind, "2026-000123", fp)
        text = payload.encode()
        assert text == f"BANKKEYS:V=1;DOC={kind.value};REQ=2026-000123;FP={fp}"
        parsed = parse_qr_payload(text + "\n")
        assert parsed == payload
        assert parsed.matches_key(KEY.public_key_info)
        assert not parsed.matches_key(KEY_512_DETAILS.public_key_info)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "https://example.org/",
        "BANKKEYS:",
        "BANKKEYS:V=2;DOC=ACT;REQ=1;FP=" + "0" * 64,
        "BANKKEYS:V=1;DOC=XYZ;REQ=1;FP=" + "0" * 64,
        "BANKKEYS:V=1;DOC=ACT;REQ=1;FP=" + "0" * 63,
        "BANKKEYS:V=1;DOC=ACT;REQ=1;FP=" + "A" * 64,
        "BANKKEYS:V=1;DOC=ACT;REQ=;FP=" + "0" * 64,
        "BANKKEYS:V=1;REQ=1;DOC=ACT;FP=" + "0" * 64,
        "BANKKEYS:V=1;DOC=ACT;REQ=1;FP=" + "0" * 64 + ";X=1",
    ],
)
def test_parser_refuses_anything_else(text: str) -> None:
    with pytest.raises(InvalidQrPayload):
        parse_qr_payload(text)


def test_qr_matrix_is_square_and_deterministic() -> None:
    payload = QrPayload(DocumentKind.ACCEPTANCE_ACT, "2026-000123", "0" * 64).encode()
    modules = qr_modules(payload)
    assert len(modules) >= 21 and all(len(row) == len(modules) for row in modules)
    # Finder pattern: the top-left 7x7 has a dark border.
    assert all(modules[0][:7]) and all(row[0] for row in modules[:7])
    assert qr_modules(payload) == modules
    assert qr_modules(payload.replace("ACT", "APP")) != modules
