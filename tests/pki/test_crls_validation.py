"""CRLs and path validation under one bank CA; OpenSSL `verify -crl_check` as the judge."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pki_support import NOW, client_template, make_ca, make_pki, spec

from bankkeys.pki.certificates import EKU_CLIENT_AUTH, build_certificate, parse_certificate
from bankkeys.pki.crls import RevokedEntry, build_crl, parse_crl, verify_crl_signature
from bankkeys.pki.errors import (
    BadCertificateSignature,
    CrlInvalid,
    Expired,
    InvalidInput,
    IssuerMismatch,
    KeyUsageNotAllowed,
    NotACertificateAuthority,
    NotYetValid,
    ParseError,
    Revoked,
    SignatureInvalid,
    ValidationError,
)
from bankkeys.pki.signer import KeySpec
from bankkeys.pki.software import SoftwareSigner
from bankkeys.pki.validation import validate_certificate

__all__ = ["spec"]  # fixture

ECDSA = KeySpec("ecdsa-p256", "P-256")


def _crl(pki, entries, *, this_update=None, next_update=None, number=7):  # type: ignore[no-untyped-def]
    start = this_update or NOW - timedelta(hours=1)
    return parse_crl(
        build_crl(
            pki.ca_signer,
            pki.ca,
            entries,
            this_update=start,
            next_update=next_update or start + timedelta(days=7),
            crl_number=number,
        )
    )


def test_crl_round_trip(spec: KeySpec) -> None:
    pki = make_pki(spec)
    entries = [
        RevokedEntry(pki.client.serial, NOW - timedelta(minutes=30), "superseded"),
        RevokedEntry(12345, NOW - timedelta(days=2), "key_compromise"),
        RevokedEntry(777, NOW - timedelta(days=3)),
    ]
    crl = _crl(pki, entries)
    assert crl.entries == tuple(entries)
    assert crl.crl_number == 7
    assert crl.issuer == pki.ca.subject
    assert crl.authority_key_id == pki.ca.subject_key_id
    assert crl.next_update == NOW - timedelta(hours=1) + timedelta(days=7)
    assert crl.find(12345) == entries[1] and crl.find(1) is None
    verify_crl_signature(crl, pki.ca.public_key_info)
    with pytest.raises(SignatureInvalid):
        verify_crl_signature(crl, pki.client.public_key_info)
    assert parse_crl(crl.to_pem()) == crl
    empty = _crl(pki, [])
    assert empty.entries == ()


def test_validation_passes_and_each_check_fails(spec: KeySpec) -> None:
    pki = make_pki(spec)
    path = validate_certificate(pki.client, pki.ca, at=NOW, extended_key_usage=EKU_CLIENT_AUTH)
    assert path.certificate == pki.client and not path.revocation_checked

    with pytest.raises(NotYetValid):
        validate_certificate(pki.client, pki.ca, at=NOW - timedelta(days=1, minutes=-30))
    with pytest.raises(Expired):
        validate_certificate(pki.client, pki.ca, at=NOW + timedelta(days=400))
    with pytest.raises(KeyUsageNotAllowed):
        validate_certificate(pki.client, pki.ca, at=NOW, key_usage=frozenset({"key_encipherment"}))
    with pytest.raises(KeyUsageNotAllowed):
        validate_certificate(pki.client, pki.ca, at=NOW, extended_key_usage="1.3.6.1.5.5.7.3.1")
    with pytest.raises(NotACertificateAuthority):
        validate_certificate(pki.client, pki.client, at=NOW)
    other_signer, other_ca = make_ca(spec)  # same name, other key
    with pytest.raises(IssuerMismatch):
        validate_certificate(pki.client, other_ca, at=NOW)
    # Same name and no key identifiers to tell them apart: only the signature can.
    forged = parse_certificate(
        build_certificate(client_template(), pki.client.public_key_info, other_signer, other_ca)
    )
    forged_like = type(forged)(**{**forged.__dict__, "authority_key_id": None})
    with pytest.raises(BadCertificateSignature):
        validate_certificate(forged_like, pki.ca, at=NOW)

    revoked = _crl(
        pki, [RevokedEntry(pki.client.serial, NOW - timedelta(minutes=10), "superseded")]
    )
    with pytest.raises(Revoked) as caught:
        validate_certificate(pki.client, pki.ca, at=NOW, crl=revoked)
    assert caught.value.reason == "superseded" and caught.value.check == "revocation"
    # Signed before the revocation: still valid then.
    validate_certificate(pki.client, pki.ca, at=NOW - timedelta(minutes=20), crl=revoked)
    clean = _crl(pki, [RevokedEntry(999, NOW - timedelta(days=1), "key_compromise")])
    assert validate_certificate(pki.client, pki.ca, at=NOW, crl=clean).revocation_checked
    stale = _crl(pki, [], this_update=NOW - timedelta(days=10), next_update=NOW - timedelta(days=3))
    with pytest.raises(CrlInvalid):
        validate_certificate(pki.client, pki.ca, at=NOW, crl=stale)
    foreign = parse_crl(
        build_crl(other_signer, other_ca, [], this_update=NOW - timedelta(hours=1),
                  next_update=NOW + timedelta(days=1), crl_number=1)
    )  # fmt: skip
    with pytest.raises(CrlInvalid):
        validate_certificate(pki.client, pki.ca, at=NOW, crl=foreign)
    for error in (NotYetValid, Expired, Revoked, CrlInvalid, IssuerMismatch):
        assert issubclass(error, ValidationError)


def test_crl_builder_refuses_bad_input() -> None:
    pki = make_pki(ECDSA)
    with pytest.raises(InvalidInput):
        _crl(pki, [RevokedEntry(5, NOW), RevokedEntry(5, NOW)])
    with pytest.raises(InvalidInput):
        _crl(pki, [RevokedEntry(5, NOW, "because")])
    with pytest.raises(InvalidInput):
        _crl(pki, [], next_update=NOW - timedelta(days=1))
    with pytest.raises(InvalidInput):
        build_crl(pki.client_signer, pki.client, [], this_update=NOW,
                  next_update=NOW + timedelta(days=1), crl_number=1)  # fmt: skip
    good = _crl(pki, []).der
    for bad in (good[:-1], good + b"\x00", pki.client.der):
        with pytest.raises(ParseError):
            parse_crl(bad)


@pytest.mark.openssl
def test_openssl_checks_our_crl(openssl, tmp_path: Path, spec: KeySpec) -> None:
    pki = make_pki(spec)
    signer2 = SoftwareSigner.generate(spec)
    second = parse_certificate(
        build_certificate(client_template(), signer2.public_key_info, pki.ca_signer, pki.ca)
    )
    crl = _crl(pki, [RevokedEntry(second.serial, NOW - timedelta(minutes=5), "key_compromise")])
    for name, pem in (("ca.pem", pki.ca.to_pem()), ("good.pem", pki.client.to_pem()),
                      ("bad.pem", second.to_pem()), ("crl.pem", crl.to_pem())):  # fmt: skip
        (tmp_path / name).write_text(pem)
    text = openssl("crl", "-in", "crl.pem", "-noout", "-text").stdout.decode()
    assert "Key Compromise" in text and "X509v3 CRL Number" in text
    openssl("crl", "-in", "crl.pem", "-CAfile", "ca.pem", "-noout")
    base = ["verify", "-CAfile", "ca.pem", "-crl_check", "-CRLfile", "crl.pem"]
    assert openssl(*base, "good.pem").stdout.decode().strip().endswith("OK")
    proc = openssl(*base, "bad.pem", check=False)
    assert proc.returncode != 0 and b"revoked" in proc.stdout + proc.stderr
    validate_certificate(pki.client, pki.ca, at=NOW, crl=crl)
    with pytest.raises(Revoked):
        validate_certificate(second, pki.ca, at=NOW, crl=crl)
