"""Token signers used by the PKI layer: a self-signed certificate made with the key on the token,
checked by OpenSSL, then stored back next to its key (ECDSA on both backends)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from token_support import Fixture, fresh, ready, softhsm_env  # noqa: F401

from bankkeys.pki.certificates import CertificateTemplate, build_certificate, parse_certificate
from bankkeys.pki.keys import pem_encode
from bankkeys.pki.names import Name
from bankkeys.pki.signer import KeySpec


@pytest.mark.openssl
def test_self_signed_certificate_from_token_key(
    ready: Fixture,  # noqa: F811
    openssl_gost_env: dict[str, str],
    tmp_path: Path,
) -> None:
    token = ready.token
    key = token.generate_key(KeySpec("ecdsa-p256", "P-256"), "УЦ")
    signer = token.signer(key.id)
    now = datetime.now(UTC)
    template = CertificateTemplate(
        subject=Name(common_name="ООО Ромашка", country="RU"),
        not_before=now,
        not_after=now + timedelta(days=30),
        is_ca=True,
        key_usage=frozenset({"digital_signature", "key_cert_sign", "crl_sign"}),
    )
    der = build_certificate(template, key.public_key_info, signer)
    assert parse_certificate(der).public_key_info == key.public_key_info
    pem = tmp_path / "cert.pem"
    pem.write_text(pem_encode("CERTIFICATE", der))
    verdict = subprocess.run(
        ["openssl", "verify", "-CAfile", str(pem), str(pem)],
        env=openssl_gost_env,
        capture_output=True,
        check=False,
    )
    assert verdict.returncode == 0, verdict.stderr.decode()
    stored = token.import_certificate(der)
    assert stored.id == key.id
