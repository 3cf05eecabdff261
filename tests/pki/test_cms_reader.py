"""verify_cms reads the DER itself (pki/_der_read.py): the SignerInfo shapes RFC 5652 allows
are read, and each field it reads is checked as strictly as a full parse would."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from pki_support import ECDSA, GOST_SPECS, gost_available, make_pki

from bankkeys.pki import _der_read as der_read
from bankkeys.pki.cms import parse_cms, sign_cms, verify_cms
from bankkeys.pki.errors import ParseError, SignatureInvalid
from bankkeys.pki.keys import private_key_to_pem

DATA = b"payment order"


def _signed(**changes: object) -> tuple[bytes, object]:
    """Our CMS re-encoded with some SignerInfo fields changed (asn1crypto builds the variant)."""
    pki = make_pki(ECDSA)
    der = sign_cms(DATA, pki.client_signer, pki.client, detached=False)
    info = asn1_cms.ContentInfo.load(der)
    signer_info = info["content"]["signer_infos"][0]
    for name, value in changes.items():
        signer_info[name] = value
    return info.dump(force=True), pki.client


def test_a_subject_key_identifier_sid_is_read() -> None:
    pki = make_pki(ECDSA)
    der = sign_cms(DATA, pki.client_signer, pki.client, detached=False)
    info = asn1_cms.ContentInfo.load(der)
    signer_info = info["content"]["signer_infos"][0]
    assert pki.client.subject_key_id is not None
    signer_info["sid"] = asn1_cms.SignerIdentifier(
        name="subject_key_identifier", value=pki.client.subject_key_id
    )
    signer_info["version"] = "v3"
    result = verify_cms(info.dump(force=True), pki.client)
    assert result.content == DATA and result.signer == pki.client
    other = make_pki(ECDSA).client
    with pytest.raises(SignatureInvalid, match="нет владельца"):
        verify_cms(info.dump(force=True), other)


def test_unsigned_attributes_are_allowed() -> None:
    when = asn1_cms.Time(name="utc_time", value=datetime(2026, 1, 1, tzinfo=UTC))
    der, cert = _signed(unsigned_attrs=[{"type": "signing_time", "values": [when]}])
    assert verify_cms(der, cert).content == DATA  # type: ignore[arg-type]


def test_a_repeated_signed_attribute_is_refused() -> None:
    pki = make_pki(ECDSA)
    der = sign_cms(DATA, pki.client_signer, pki.client, detached=False)
    info = asn1_cms.ContentInfo.load(der)
    attrs = info["content"]["signer_infos"][0]["signed_attrs"]
    attrs.append(attrs[1].copy())  # messageDigest twice
    with pytest.raises(SignatureInvalid, match="повторяется"):
        verify_cms(info.dump(force=True), pki.client)


def test_a_wrong_content_type_attribute_is_refused() -> None:
    pki = make_pki(ECDSA)
    der = sign_cms(DATA, pki.client_signer, pki.client, detached=False)
    info = asn1_cms.ContentInfo.load(der)
    attrs = info["content"]["signer_infos"][0]["signed_attrs"]
    attrs[0] = {"type": "content_type", "values": ["signed_data"]}
    with pytest.raises(SignatureInvalid, match="contentType"):
        verify_cms(info.dump(force=True), pki.client)


@pytest.mark.parametrize(
    ("der", "reader", "fragment"),
    [
        (b"\x02\x02\x00\x01", "integer", "не минимально"),
        (b"\x02\x02\xff\x80", "integer", "не минимально"),
        (b"\x02\x00", "integer", "пустой"),
        (b"\x06\x02\x80\x01", "oid", "не минимально"),
        (b"\x06\x01\x81", "oid", "повреждённый"),
        (b"\x06\x00", "oid", "повреждённый"),
        (b"\x04\x01\x05", "integer", "ожидался тег"),
    ],
)
def test_primitive_fields_are_read_strictly(der: bytes, reader: str, fragment: str) -> None:
    tlv = der_read.read(der, 0, len(der), "x")
    with pytest.raises(ParseError, match=fragment):
        getattr(der_read, reader)(der, tlv, "x")


def test_primitive_fields_decode() -> None:
    for der, value in [(b"\x02\x01\x7f", 127), (b"\x02\x02\x00\x80", 128),
                       (b"\x02\x01\x80", -128), (b"\x02\x02\xff\x7f", -129)]:  # fmt: skip
        assert der_read.integer(der, der_read.read(der, 0, len(der), "x"), "x") == value
    oid = bytes.fromhex("06082a850307010102 02".replace(" ", ""))
    assert der_read.oid(oid, der_read.read(oid, 0, len(oid), "x"), "x") == "1.2.643.7.1.1.2.2"
    joint = bytes.fromhex("0603883703")  # 2.999.3: a first arc over 80
    assert der_read.oid(joint, der_read.read(joint, 0, len(joint), "x"), "x") == "2.999.3"


def test_a_signature_by_the_wrong_key_type_is_refused() -> None:
    pki = make_pki(ECDSA)
    der = sign_cms(DATA, pki.client_signer, pki.client, detached=False)
    info = asn1_cms.ContentInfo.load(der)
    info["content"]["signer_infos"][0]["digest_algorithm"] = {"algorithm": "sha512"}
    with pytest.raises((SignatureInvalid, ParseError)):
        verify_cms(info.dump(force=True), pki.client)


@pytest.mark.openssl
def test_openssl_keyid_signatures_are_read(openssl, tmp_path: Path) -> None:
    spec = GOST_SPECS[0] if gost_available() else ECDSA
    pki = make_pki(spec)
    (tmp_path / "c.pem").write_text(pki.client.to_pem())
    (tmp_path / "k.pem").write_text(private_key_to_pem(spec, pki.client_signer.private_bytes()))
    (tmp_path / "data").write_bytes(DATA)
    openssl("cms", "-sign", "-binary", "-keyid", "-in", "data", "-signer", "c.pem",
            "-inkey", "k.pem", "-outform", "DER", "-out", "sig.der")  # fmt: skip
    der = (tmp_path / "sig.der").read_bytes()
    assert parse_cms(der).signers[0].key_id == pki.client.subject_key_id
    result = verify_cms(der, pki.client, DATA)
    assert result.content == DATA and result.has_signed_attributes


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 22, 15, 4, 5, tzinfo=UTC),  # UTCTime
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),  # UTCTime, 19xx
        datetime(2051, 2, 3, 4, 5, 6, tzinfo=UTC),  # GeneralizedTime from 2050
    ],
)
def test_signing_time_is_read_in_both_der_forms(moment: datetime) -> None:
    pki = make_pki(ECDSA)
    der = sign_cms(DATA, pki.client_signer, pki.client, detached=False, signing_time=moment)
    assert verify_cms(der, pki.client).signing_time == moment
