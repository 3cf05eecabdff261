"""The typed records the certificate and request readers return (:mod:`bankkeys.pki._x509_read`
fills them straight from DER; :mod:`bankkeys.pki.certificates` and :mod:`bankkeys.pki.requests`
are where callers find them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from bankkeys.pki import _asn1
from bankkeys.pki._asn1 import x509
from bankkeys.pki.keys import pem_encode
from bankkeys.pki.names import Name
from bankkeys.pki.signer import KeySpec

# keyUsage's named bits (RFC 5280 4.2.1.3), in bit order: bit n is KEY_USAGE_BITS[n].
KEY_USAGE_BITS: Final = (
    "digital_signature",
    "non_repudiation",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)

# The extensions parse_certificate understands (criticality of anything else is reported).
KNOWN_EXTENSIONS: Final = frozenset(
    {
        "2.5.29.14",  # subjectKeyIdentifier
        "2.5.29.15",  # keyUsage
        "2.5.29.16",  # privateKeyUsagePeriod
        "2.5.29.19",  # basicConstraints
        "2.5.29.31",  # cRLDistributionPoints
        "2.5.29.32",  # certificatePolicies
        "2.5.29.35",  # authorityKeyIdentifier
        "2.5.29.37",  # extendedKeyUsage
        "2.5.29.17",  # subjectAltName
        "1.3.6.1.5.5.7.1.1",  # authorityInfoAccess
        _asn1.SUBJECT_SIGN_TOOL,
        _asn1.ISSUER_SIGN_TOOL,
        _asn1.IDENTIFICATION_KIND,
    }
)


@dataclass(frozen=True)
class IssuerSignTool:
    """Extension issuerSignTool: the certified tools of the CA and their conformity documents."""

    sign_tool: str
    ca_tool: str
    sign_tool_cert: str
    ca_tool_cert: str


@dataclass(frozen=True)
class Certificate:
    """A parsed certificate. ``der`` is the exact input; everything else is read from it."""

    der: bytes
    version: int
    serial: int
    signature_algorithm_oid: str
    issuer: Name
    subject: Name
    not_before: datetime
    not_after: datetime
    key_spec: KeySpec
    public_key: bytes
    public_key_info: bytes
    is_ca: bool
    path_length: int | None
    has_basic_constraints: bool
    key_usage: frozenset[str] | None  # None: no keyUsage extension
    extended_key_usage: tuple[str, ...] | None
    subject_key_id: bytes | None
    authority_key_id: bytes | None
    policies: tuple[str, ...]
    crl_urls: tuple[str, ...]
    ocsp_urls: tuple[str, ...]
    ca_issuer_urls: tuple[str, ...]
    subject_sign_tool: str | None
    issuer_sign_tool: IssuerSignTool | None
    private_key_usage_period: tuple[datetime | None, datetime | None] | None
    alt_emails: tuple[str, ...]
    critical_extensions: frozenset[str]
    unknown_critical_extensions: frozenset[str]
    tbs: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    issuer_der: bytes = field(repr=False)
    subject_der: bytes = field(repr=False)

    @property
    def is_self_issued(self) -> bool:
        return names_match(self.issuer_der, self.subject_der)

    def to_pem(self) -> str:
        return pem_encode("CERTIFICATE", self.der)


@dataclass(frozen=True)
class CertificationRequest:
    """A parsed PKCS#10 request; ``der`` is the exact input. The signature is not yet checked:
    call :func:`verify_request`."""

    der: bytes
    subject: Name
    key_spec: KeySpec
    public_key: bytes
    public_key_info: bytes
    signature_algorithm_oid: str
    key_usage: frozenset[str] | None
    extended_key_usage: tuple[str, ...] | None
    subject_sign_tool: str | None
    alt_emails: tuple[str, ...]
    policies: tuple[str, ...]
    requested_extensions: frozenset[str]  # dotted OIDs of every extension asked for
    tbs: bytes = field(repr=False)
    signature: bytes = field(repr=False)

    def to_pem(self) -> str:
        return pem_encode("CERTIFICATE REQUEST", self.der)


def names_match(a_der: bytes, b_der: bytes) -> bool:
    """RFC 5280 7.1 name comparison (after string preparation) of two DER names."""
    if a_der == b_der:
        return True
    with _asn1.guarded("имя"):
        result = x509.Name.load(a_der) == x509.Name.load(b_der)
    return bool(result)
