"""CMS SignedData: our signatures verified by `openssl cms -verify`, OpenSSL's verified by us."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pki_support import NOW, make_pki, require_gost, spec

from bankkeys.pki import algorithms
from bankkeys.pki.certificates import parse_certificate
from bankkeys.pki.cms import cms_to_pem, parse_cms, sign_cms, verify_cms
from bankkeys.pki.errors import InvalidInput, ParseError, PkiError, SignatureInvalid
from bankkeys.pki.keys import private_key_to_pem
from bankkeys.pki.signer import KeySpec

__all__ = ["spec"]  # fixture

PAYMENT = "Платёжное поручение № 42 на 1 000 000 руб.".encode()


@pytest.mark.parametrize("detached", [True, False])
def test_sign_and_verify(spec: KeySpec, detached: bool) -> None:
    pki = make_pki(spec)
    when = NOW - timedelta(minutes=5)
    der = sign_cms(PAYMENT, pki.client_signer, pki.client, detached=detached, signing_time=when)
    parsed = parse_cms(der)
    assert parsed.content == (None if detached else PAYMENT)
    assert parsed.certificates == (pki.client,)
    assert parsed.signers[0].matches(pki.client)
    result = verify_cms(der, pki.client, PAYMENT if detached else None)
    assert result.signer == pki.client
    assert result.content == PAYMENT
    assert result.signing_time == when
    assert result.signing_certificate_checked
    alg = algorithms.check_key_spec(spec)
    assert result.digest_algorithm_oid == alg.digest_oid
    expected_sig_oid = alg.signature_oid if spec.family == "ecdsa-p256" else alg.key_oid
    assert result.signature_algorithm_oid == expected_sig_oid
    with pytest.raises(SignatureInvalid):
        verify_cms(der, pki.client, PAYMENT + b" ") if detached else verify_cms(der, pki.ca)
    with pytest.raises(SignatureInvalid):  # someone else's certificate
        verify_cms(der, pki.ca, PAYMENT)


def test_detached_needs_content() -> None:
    pki = make_pki(KeySpec("ecdsa-p256", "P-256"))
    der = sign_cms(PAYMENT, pki.client_signer, pki.client)
    with pytest.raises(InvalidInput):
        verify_cms(der, pki.client)
    with pytest.raises(InvalidInput):
        sign_cms(PAYMENT, pki.ca_signer, pki.client)


def test_tampered_signature_is_rejected(spec: KeySpec) -> None:
    pki = make_pki(spec)
    der = bytearray(sign_cms(PAYMENT, pki.client_signer, pki.client, detached=False))
    where = der.find(PAYMENT)
    der[where] ^= 1
    with pytest.raises(SignatureInvalid):
        verify_cms(bytes(der), pki.client)
    der[where] ^= 1
    der[-3] ^= 1  # inside the signature value
    with pytest.raises(PkiError):
        verify_cms(bytes(der), pki.client)


@pytest.mark.openssl
@pytest.mark.parametrize("detached", [True, False])
def test_openssl_verifies_our_cms(openssl, tmp_path: Path, spec: KeySpec, detached: bool) -> None:
    pki = make_pki(spec)
    (tmp_path / "ca.pem").write_text(pki.ca.to_pem())
    (tmp_path / "data").write_bytes(PAYMENT)
    der = sign_cms(PAYMENT, pki.client_signer, pki.client, detached=detached)
    (tmp_path / "sig.pem").write_text(cms_to_pem(der))
    args = ["cms", "-verify", "-binary", "-inform", "PEM", "-in", "sig.pem", "-CAfile", "ca.pem"]
    args += ["-purpose", "any", "-out", "out"]
    if detached:
        args += ["-content", "data"]
    proc = openssl(*args)
    assert b"Verification successful" in proc.stderr
    assert (tmp_path / "out").read_bytes() == PAYMENT
    openssl("cms", "-cmsout", "-print", "-inform", "PEM", "-in", "sig.pem")
    (tmp_path / "other").write_bytes(PAYMENT + b"!")
    bad = ["cms", "-verify", "-binary", "-inform", "PEM", "-in", "sig.pem", "-CAfile", "ca.pem"]
    bad += ["-purpose", "any", "-content", "other"]
    if detached:
        assert openssl(*bad, check=False).returncode != 0


@pytest.mark.openssl
@pytest.mark.parametrize("detached", [True, False])
def test_we_verify_openssl_cms(openssl, tmp_path: Path, spec: KeySpec, detached: bool) -> None:
    pki = make_pki(spec)
    (tmp_path / "c.pem").write_text(pki.client.to_pem())
    (tmp_path / "k.pem").write_text(private_key_to_pem(spec, pki.client_signer.private_bytes()))
    (tmp_path / "data").write_bytes(PAYMENT)
    args = ["cms", "-sign", "-binary", "-in", "data", "-signer", "c.pem", "-inkey", "k.pem"]
    args += ["-outform", "DER", "-out", "sig.der"]
    if not detached:
        args.append("-nodetach")
    openssl(*args)
    der = (tmp_path / "sig.der").read_bytes()
    result = verify_cms(der, pki.client, PAYMENT if detached else None)
    assert result.content == PAYMENT
    assert result.signing_time is not None
    assert abs(result.signing_time - NOW) < timedelta(hours=2)
    with pytest.raises(SignatureInvalid):
        verify_cms(der, pki.client, PAYMENT + b"x") if detached else verify_cms(der, pki.ca)


@pytest.mark.openssl
@pytest.mark.parametrize(
    ("algo", "paramset", "md", "spec_"),
    [
        ("gost2012_256", "A", "-md_gost12_256", KeySpec("gost2012-256", "cryptopro-A")),
        ("gost2012_512", "A", "-md_gost12_512", KeySpec("gost2012-512", "tc26-512-A")),
    ],
)
def test_we_verify_cms_from_openssl_made_gost_certificates(
    openssl, tmp_path: Path, algo: str, paramset: str, md: str, spec_: KeySpec
) -> None:
    require_gost(spec_)
    openssl("genpkey", "-algorithm", algo, "-pkeyopt", f"paramset:{paramset}", "-out", "k.pem")
    openssl("req", "-new", "-x509", "-key", "k.pem", md, "-subj", "/CN=Signer", "-out", "c.pem")
    (tmp_path / "data").write_bytes(PAYMENT)
    for extra in ([], ["-noattr"]):
        openssl(
            "cms", "-sign", "-binary", "-in", "data", "-signer", "c.pem", "-inkey", "k.pem",
            "-md", md[1:], "-outform", "DER", "-out", "sig.der", *extra,
        )  # fmt: skip
        cert = parse_certificate((tmp_path / "c.pem").read_bytes())
        result = verify_cms((tmp_path / "sig.der").read_bytes(), cert, PAYMENT)
        assert result.has_signed_attributes is (not extra)
        assert result.signer.key_spec == spec_


def test_garbage_is_a_parse_error() -> None:
    pki = make_pki(KeySpec("ecdsa-p256", "P-256"))
    der = sign_cms(PAYMENT, pki.client_signer, pki.client)
    for bad in (der[:-1], der + b"\x00", pki.client.der):
        with pytest.raises(ParseError):
            parse_cms(bad)
        with pytest.raises(ParseError):
            verify_cms(bad, pki.client, PAYMENT)
