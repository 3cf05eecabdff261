"""The act signed electronically (remote renewal): detached CMS over the deterministic PDF bytes."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from documents_support import ISSUED, KEY_512_DETAILS, SAMPLE

from bankkeys.bank.documents import (
    render_acceptance_act,
    sign_act,
    verify_act_signature,
    verify_signed_act,
)
from bankkeys.pki.certificates import CertificateTemplate, build_certificate, parse_certificate
from bankkeys.pki.cms import cms_to_pem
from bankkeys.pki.errors import ParseError, PkiError, SignatureInvalid
from bankkeys.pki.names import Name
from bankkeys.pki.signer import KeySpec
from bankkeys.pki.software import SoftwareSigner
from conftest import OpenSSL, missing

SPECS = [KeySpec("ecdsa-p256", "P-256"), KeySpec("gost2012-256", "tc26-256-B")]


class Holder:
    """The client's current (old) key and its certificate, which sign the act of the new key."""

    def __init__(self, spec: KeySpec) -> None:
        if (
            spec.family != "ecdsa-p256"
            and importlib.util.find_spec("bankkeys.gost.gost3410") is None
        ):
            missing("GOST core bankkeys.gost.gost3410 not available yet")
        self.signer = SoftwareSigner.generate(spec)
        now = datetime.now(UTC).replace(microsecond=0)
        template = CertificateTemplate(
            subject=Name(common_name="ООО «Ромашка»", surname="Иванова", country="RU"),
            not_before=now - timedelta(days=300),
            not_after=now + timedelta(days=65),
        )
        der = build_certificate(template, self.signer.public_key_info, self.signer)
        self.certificate = parse_certificate(der)


@pytest.fixture(params=SPECS, ids=lambda s: s.family)
def holder(request: pytest.FixtureRequest) -> Holder:
    return Holder(request.param)


def test_signed_act_verifies_and_says_who_signed(holder: Holder) -> None:
    pdf = render_acceptance_act(SAMPLE)
    moment = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
    cms = sign_act(pdf, holder.signer, holder.certificate, signing_time=moment)
    result = verify_act_signature(pdf, cms, holder.certificate)
    assert result.content == pdf
    assert result.signer.der == holder.certificate.der
    assert result.signing_time == moment
    assert result.signing_certificate_checked
    # The bank re-renders the act from its own record: same bytes, same verdict.
    assert verify_signed_act(SAMPLE, cms, holder.certificate).content == pdf


def test_signature_over_another_act_is_refused(holder: Holder) -> None:
    pdf = render_acceptance_act(SAMPLE)
    cms = sign_act(pdf, holder.signer, holder.certificate)
    other_key = replace(SAMPLE, key=KEY_512_DETAILS)
    for doc in (other_key, ISSUED, replace(SAMPLE, request=replace(SAMPLE.request, number="X1"))):
        with pytest.raises(SignatureInvalid):
            verify_signed_act(doc, cms, holder.certificate)
    tampered = bytearray(pdf)
    tampered[len(pdf) // 2] ^= 1
    with pytest.raises(SignatureInvalid):
        verify_act_signature(bytes(tampered), cms, holder.certificate)


def test_signature_by_someone_else_is_refused(holder: Holder) -> None:
    pdf = render_acceptance_act(SAMPLE)
    cms = sign_act(pdf, holder.signer, holder.certificate)
    stranger = Holder(KeySpec("ecdsa-p256", "P-256"))
    with pytest.raises(SignatureInvalid):
        verify_act_signature(pdf, cms, stranger.certificate)
    with pytest.raises(PkiError):
        sign_act(pdf, stranger.signer, holder.certificate)  # key and certificate disagree
    with pytest.raises(ParseError):
        verify_act_signature(pdf, b"not a CMS", holder.certificate)


@pytest.mark.openssl
def test_openssl_verifies_the_signed_act(holder: Holder, openssl: OpenSSL, tmp_path: Path) -> None:
    pdf = render_acceptance_act(SAMPLE)
    (tmp_path / "act.pdf").write_bytes(pdf)
    (tmp_path / "cert.pem").write_text(holder.certificate.to_pem())
    (tmp_path / "act.p7s").write_text(cms_to_pem(sign_act(pdf, holder.signer, holder.certificate)))
    args = ["cms", "-verify", "-binary", "-inform", "PEM", "-in", "act.p7s", "-CAfile", "cert.pem"]
    args += ["-purpose", "any", "-out", "/dev/null"]
    proc = openssl(*args, "-content", "act.pdf")
    assert b"Verification successful" in proc.stderr
    (tmp_path / "other.pdf").write_bytes(render_acceptance_act(ISSUED))
    assert openssl(*args, "-content", "other.pdf", check=False).returncode != 0
