"""GOST R 34.10-2012 keys in the software container, judged by the GOST core and by OpenSSL's
gost-engine (signature ``s || r`` big-endian over Streebog, key in an RFC 9215 SPKI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from token_support import ADMIN_PIN, TEST_KDF, USER_PIN

from bankkeys.gost.errors import InvalidSignature as GostInvalidSignature
from bankkeys.pki.keys import decode_public_key_info, pem_encode
from bankkeys.pki.signer import KeySpec
from bankkeys.tokens import SoftwareContainer
from bankkeys.tokens.policy import DEFAULT_ADMIN_PIN, DEFAULT_USER_PIN
from conftest import missing

try:
    from bankkeys.gost import gost3410, params
except ImportError:  # the EC core is built by the package build; under CI=true its absence fails
    gost3410 = params = None  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def _gost_core() -> None:
    if gost3410 is None:
        missing("bankkeys.gost.gost3410 (the GOST EC core) is not built")


SPECS = [
    KeySpec("gost2012-256", "tc26-256-A"),
    KeySpec("gost2012-256", "cryptopro-A"),
    KeySpec("gost2012-512", "tc26-512-A"),
]


@pytest.fixture()
def container(tmp_path: Path) -> SoftwareContainer:
    token = SoftwareContainer.create(tmp_path / "G.000", "gost", kdf=TEST_KDF)
    token.change_user_pin(DEFAULT_USER_PIN, USER_PIN)
    token.change_admin_pin(DEFAULT_ADMIN_PIN, ADMIN_PIN)
    token.login(USER_PIN)
    return token


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.curve)
def test_gost_sign_verify_with_core(container: SoftwareContainer, spec: KeySpec) -> None:
    key = container.generate_key(spec, "ГОСТ")
    assert [k.spec for k in container.key_pairs()] == [spec]
    decoded_spec, public = decode_public_key_info(key.public_key_info)
    assert decoded_spec == spec
    curve = params.get_curve(spec.curve)
    data = "Платёжное поручение № 7".encode()
    signature = container.signer(key.id).sign(data)
    assert len(signature) == 2 * curve.size
    gost3410.verify(curve, public, data, signature)
    with pytest.raises(GostInvalidSignature):
        gost3410.verify(curve, public, data + b".", signature)


@pytest.mark.openssl
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.curve)
def test_gost_signature_verified_by_openssl(
    container: SoftwareContainer, spec: KeySpec, openssl, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    key = container.generate_key(spec, "ГОСТ")
    data = "Акт признания открытого ключа".encode()
    (tmp_path / "data.bin").write_bytes(data)
    (tmp_path / "sig.bin").write_bytes(container.signer(key.id).sign(data))
    (tmp_path / "pub.pem").write_text(pem_encode("PUBLIC KEY", key.public_key_info))
    md = "-md_gost12_256" if spec.family == "gost2012-256" else "-md_gost12_512"
    ok = openssl("dgst", md, "-verify", "pub.pem", "-signature", "sig.bin", "data.bin")
    assert b"Verified OK" in ok.stdout
    (tmp_path / "data.bin").write_bytes(data + b"!")
    bad = openssl(
        "dgst", md, "-verify", "pub.pem", "-signature", "sig.bin", "data.bin", check=False
    )
    assert bad.returncode != 0


@pytest.mark.openssl
def test_gost_certificate_made_with_container_key(
    container: SoftwareContainer, openssl, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from bankkeys.pki.certificates import CertificateTemplate, build_certificate
    from bankkeys.pki.names import Name

    key = container.generate_key(KeySpec("gost2012-256", "tc26-256-A"), "Директор")
    now = datetime.now(UTC)
    template = CertificateTemplate(
        subject=Name(common_name="ООО Ромашка", surname="Иванов", country="RU"),
        not_before=now,
        not_after=now + timedelta(days=365),
        is_ca=True,
        key_usage=frozenset({"digital_signature", "key_cert_sign"}),
    )
    der = build_certificate(template, key.public_key_info, container.signer(key.id))
    (tmp_path / "c.pem").write_text(pem_encode("CERTIFICATE", der))
    openssl("verify", "-CAfile", "c.pem", "c.pem")
    stored = container.import_certificate(der)
    assert stored.id == key.id
    assert [c.der for c in container.certificates()] == [der]
