"""PKCS#10 requests: build, proof of possession, fields back; OpenSSL as judge."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pki_support import CLIENT_NAME, NOW, make_ca, require_gost, signer, spec

from bankkeys.pki import algorithms
from bankkeys.pki.certificates import (
    EKU_CLIENT_AUTH,
    POLICY_KC2,
    CertificateTemplate,
    build_certificate,
    parse_certificate,
)
from bankkeys.pki.errors import InvalidInput, ParseError, SignatureInvalid
from bankkeys.pki.names import Name
from bankkeys.pki.requests import build_request, parse_request, verify_request
from bankkeys.pki.signer import KeySpec
from bankkeys.pki.software import SoftwareSigner

__all__ = ["signer", "spec"]  # fixtures


def _request(signer_: SoftwareSigner) -> bytes:
    return build_request(
        CLIENT_NAME,
        signer_,
        extended_key_usage=(EKU_CLIENT_AUTH,),
        subject_sign_tool="СКЗИ «Тест»",
        policies=(POLICY_KC2,),
    )


def test_request_round_trip(signer: SoftwareSigner, spec: KeySpec) -> None:
    request = parse_request(_request(signer))
    verify_request(request)
    assert request.subject == CLIENT_NAME
    assert request.key_spec == spec
    assert request.public_key_info == signer.public_key_info
    assert request.key_usage == {"digital_signature", "non_repudiation"}
    assert request.extended_key_usage == (EKU_CLIENT_AUTH,)
    assert request.subject_sign_tool == "СКЗИ «Тест»"
    assert request.alt_emails == (CLIENT_NAME.email,)
    assert request.policies == (POLICY_KC2,)
    assert request.signature_algorithm_oid == algorithms.check_key_spec(spec).signature_oid
    assert parse_request(request.to_pem()) == request


def test_proof_of_possession_fails_for_a_foreign_signature(spec: KeySpec) -> None:
    mine = SoftwareSigner.generate(spec)
    request = parse_request(_request(mine))
    forged = parse_request(_request(SoftwareSigner.generate(spec)))
    # The other key's signature, presented with my key: must not verify.
    tampered = type(request)(**{**request.__dict__, "signature": forged.signature})
    with pytest.raises(SignatureInvalid):
        verify_request(tampered)


def test_ca_issues_from_request(spec: KeySpec) -> None:
    ca_signer, ca = make_ca(spec)
    request = parse_request(_request(SoftwareSigner.generate(spec)))
    verify_request(request)
    template = CertificateTemplate(
        subject=request.subject,
        not_before=NOW,
        not_after=NOW + timedelta(days=365),
        extended_key_usage=request.extended_key_usage or (),
        subject_sign_tool=request.subject_sign_tool,
    )
    cert = parse_certificate(build_certificate(template, request.public_key_info, ca_signer, ca))
    assert cert.public_key == request.public_key and cert.subject == request.subject


@pytest.mark.openssl
def test_openssl_verifies_our_requests(openssl, tmp_path: Path, spec: KeySpec) -> None:
    signer_ = SoftwareSigner.generate(spec)
    request = parse_request(_request(signer_))
    (tmp_path / "r.pem").write_text(request.to_pem())
    out = openssl("req", "-in", "r.pem", "-verify", "-noout", "-text")
    text = out.stdout.decode() + out.stderr.decode()
    assert "verify OK" in text and "failure" not in text
    assert "SNILS" in text and "Digital Signature" in text
    bad = bytearray(request.der)
    bad[-3] ^= 0x40
    (tmp_path / "bad.der").write_bytes(bytes(bad))
    proc = openssl("req", "-inform", "DER", "-in", "bad.der", "-verify", "-noout", check=False)
    # openssl req -verify exits 0 on a bad signature; its message is the verdict.
    assert proc.returncode != 0 or b"verify failure" in proc.stderr
    assert b"verify OK" not in proc.stderr + proc.stdout


@pytest.mark.openssl
@pytest.mark.parametrize(
    ("algo", "paramset", "md", "spec_"),
    [
        ("gost2012_256", "A", "-md_gost12_256", KeySpec("gost2012-256", "cryptopro-A")),
        ("gost2012_512", "A", "-md_gost12_512", KeySpec("gost2012-512", "tc26-512-A")),
        ("ec", "", "-sha256", KeySpec("ecdsa-p256", "P-256")),
    ],
)
def test_we_verify_openssl_requests(
    openssl, tmp_path: Path, algo: str, paramset: str, md: str, spec_: KeySpec
) -> None:
    require_gost(spec_)
    opt = f"paramset:{paramset}" if paramset else "ec_paramgen_curve:P-256"
    openssl("genpkey", "-algorithm", algo, "-pkeyopt", opt, "-out", "k.pem")
    openssl(
        "req", "-new", "-key", "k.pem", md, "-out", "r.pem", "-utf8",
        "-subj", "/CN=Иванов Иван/OGRN=1027700132195/INN=771234567890",
        "-addext", "keyUsage=critical,digitalSignature",
    )  # fmt: skip
    request = parse_request((tmp_path / "r.pem").read_bytes())
    verify_request(request)
    assert request.key_spec == spec_
    assert request.subject.ogrn == "1027700132195" and request.subject.inn == "771234567890"
    assert request.key_usage == {"digital_signature"}


def test_bad_requests() -> None:
    spec_ = KeySpec("ecdsa-p256", "P-256")
    good = _request(SoftwareSigner.generate(spec_))
    for bad in (good[:-2], good + b"\x00", b"\x30\x00"):
        with pytest.raises(ParseError):
            parse_request(bad)
    with pytest.raises(InvalidInput):
        build_request(Name(), SoftwareSigner.generate(spec_))
    with pytest.raises(InvalidInput):
        build_request(CLIENT_NAME, SoftwareSigner.generate(spec_), key_usage=frozenset({"x"}))
