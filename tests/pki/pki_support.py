"""Shared helpers and fixtures of the PKI tests: key specs, signers, the GOST core if present."""

from __future__ import annotations

import importlib.util

import pytest

from bankkeys.pki.signer import KeySpec
from bankkeys.pki.software import SoftwareSigner
from conftest import missing

ECDSA = KeySpec("ecdsa-p256", "P-256")
GOST_SPECS = [
    KeySpec("gost2012-256", "cryptopro-A"),
    KeySpec("gost2012-256", "tc26-256-A"),
    KeySpec("gost2012-256", "tc26-256-B"),
    KeySpec("gost2012-512", "tc26-512-A"),
    KeySpec("gost2012-512", "tc26-512-C"),
]
ALL_SPECS = [ECDSA, *GOST_SPECS]


def gost_available() -> bool:
    return importlib.util.find_spec("bankkeys.gost.gost3410") is not None


def require_gost(spec: KeySpec) -> None:
    if spec.family != "ecdsa-p256" and not gost_available():
        missing("GOST core bankkeys.gost.gost3410 not available yet")


@pytest.fixture(params=ALL_SPECS, ids=lambda s: f"{s.family}:{s.curve}")
def spec(request: pytest.FixtureRequest) -> KeySpec:
    value: KeySpec = request.param
    require_gost(value)
    return value


@pytest.fixture()
def signer(spec: KeySpec) -> SoftwareSigner:
    return SoftwareSigner.generate(spec)


# --- a small bank PKI for the tests -------------------------------------------------------

from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from bankkeys.pki.certificates import (  # noqa: E402
    EKU_CLIENT_AUTH,
    EKU_EMAIL_PROTECTION,
    POLICY_KC1,
    Certificate,
    CertificateTemplate,
    IssuerSignTool,
    build_certificate,
    parse_certificate,
)
from bankkeys.pki.names import Name  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)

CA_NAME = Name(
    common_name="Тестовый УЦ Банка",
    organization="АО «Банк»",
    country="RU",
    locality="Москва",
    street="ул. Тверская, д. 1",
    email="ca@bank.example",
    ogrn="1027700132195",
    innle="7702070139",
)
CLIENT_NAME = Name(
    common_name="ООО «Ромашка»",
    surname="Иванов",
    given_name="Иван Иванович",
    title="Генеральный директор",
    organization="ООО «Ромашка»",
    country="RU",
    locality="Москва",
    street="ул. Ленина, д. 5",
    email="ivanov@romashka.example",
    inn="771234567890",
    innle="7712345678",
    ogrn="1027700000000",
    snils="12345678901",
)
TOOLS = IssuerSignTool(
    sign_tool="СКЗИ «Тест» версии 1.0",
    ca_tool="ПАК «УЦ Тест»",
    sign_tool_cert="Сертификат соответствия № СФ/124-0000",
    ca_tool_cert="Сертификат соответствия № СФ/128-0000",
)


@dataclass
class Pki:
    ca_signer: SoftwareSigner
    ca: Certificate
    client_signer: SoftwareSigner
    client: Certificate


def make_ca(
    spec: KeySpec, not_before: datetime | None = None
) -> tuple[SoftwareSigner, Certificate]:
    signer = SoftwareSigner.generate(spec)
    start = not_before or NOW - timedelta(days=1)
    template = CertificateTemplate(
        subject=CA_NAME,
        not_before=start,
        not_after=start + timedelta(days=3650),
        is_ca=True,
        key_usage=frozenset({"key_cert_sign", "crl_sign", "digital_signature"}),
        subject_sign_tool="ПАК «УЦ Тест»",
    )
    der = build_certificate(template, signer.public_key_info, signer)
    return signer, parse_certificate(der)


def client_template(**overrides: object) -> CertificateTemplate:
    fields: dict[str, object] = {
        "subject": CLIENT_NAME,
        "not_before": NOW - timedelta(hours=1),
        "not_after": NOW + timedelta(days=365),
        "extended_key_usage": (EKU_CLIENT_AUTH, EKU_EMAIL_PROTECTION),
        "policies": (POLICY_KC1,),
        "crl_urls": ("http://ca.bank.example/crl/bank.crl",),
        "ocsp_urls": ("http://ca.bank.example/ocsp",),
        "ca_issuer_urls": ("http://ca.bank.example/ca.crt",),
        "subject_sign_tool": "СКЗИ «Тест» версии 1.0",
        "issuer_sign_tool": TOOLS,
        "private_key_usage_period": (NOW - timedelta(hours=1), NOW + timedelta(days=365)),
    }
    fields.update(overrides)
    return CertificateTemplate(**fields)  # type: ignore[arg-type]


def make_pki(spec: KeySpec, client_spec: KeySpec | None = None) -> Pki:
    ca_signer, ca = make_ca(spec)
    client_signer = SoftwareSigner.generate(client_spec or spec)
    der = build_certificate(client_template(), client_signer.public_key_info, ca_signer, ca)
    return Pki(ca_signer, ca, client_signer, parse_certificate(der))
