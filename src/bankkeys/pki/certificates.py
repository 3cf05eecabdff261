"""X.509 v3 certificates (RFC 5280, GOST per RFC 9215): build through a Signer, parse to a
typed record.

A certificate is built from a :class:`CertificateTemplate` (what the CA decides) and the subject's
SubjectPublicKeyInfo (what the subject proved to hold), and signed by the issuer's
:class:`~bankkeys.pki.signer.Signer` — a key in memory or on a token, alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bankkeys.pki import _asn1, _x509_read
from bankkeys.pki import _der_write as _der
from bankkeys.pki._asn1 import x509
from bankkeys.pki._common import (
    check_serial,
    key_identifier,
    random_serial,
    signature_algorithm_der,
    uri_der,
    utc,
)
from bankkeys.pki.errors import InvalidInput
from bankkeys.pki.keys import (
    decode_public_key_info,
    is_pem,
    pem_decode,
    pem_encode,
)
from bankkeys.pki.names import Name, email_octets, name_to_der
from bankkeys.pki.signer import Signer
from bankkeys.pki.verify import verify_with_key
from bankkeys.pki.x509_records import (
    KEY_USAGE_BITS,
    KNOWN_EXTENSIONS,
    Certificate,
    IssuerSignTool,
    names_match,
)

__all__ = [
    "KNOWN_EXTENSIONS",
    "Certificate",
    "CertificateTemplate",
    "IssuerSignTool",
    "build_certificate",
    "certificate_to_pem",
    "load_der",
    "names_match",
    "parse_certificate",
    "verify_certificate_signature",
]

KEY_USAGES: Final = frozenset(KEY_USAGE_BITS)

# Extended key usages by friendly name (anything else: a dotted OID).
EKU_CLIENT_AUTH: Final = "1.3.6.1.5.5.7.3.2"
EKU_EMAIL_PROTECTION: Final = "1.3.6.1.5.5.7.3.4"

# Signing-tool class policies (1.2.643.100.113.x).
POLICY_KC1: Final = "1.2.643.100.113.1"
POLICY_KC2: Final = "1.2.643.100.113.2"
POLICY_KC3: Final = "1.2.643.100.113.3"


@dataclass(frozen=True)
class CertificateTemplate:
    """What goes into a certificate besides the subject's key and the issuer's identity."""

    subject: Name
    not_before: datetime
    not_after: datetime
    serial: int | None = None  # None: 128 random bits
    is_ca: bool = False
    path_length: int | None = None
    key_usage: frozenset[str] = frozenset({"digital_signature", "non_repudiation"})
    extended_key_usage: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    crl_urls: tuple[str, ...] = ()
    ocsp_urls: tuple[str, ...] = ()
    ca_issuer_urls: tuple[str, ...] = ()
    subject_sign_tool: str | None = None
    issuer_sign_tool: IssuerSignTool | None = None
    private_key_usage_period: tuple[datetime, datetime] | None = None


# --- building ------------------------------------------------------------------------------
#
# The DER is written directly (pki._der_write), field by field in RFC 5280 order; nothing is
# built as asn1crypto objects. The bytes are those the asn1crypto-based builder wrote
# (tests/pki/test_certificate_builder.py keeps it as the oracle).

_VERSION_3: Final = _der.explicit(0, _der.integer(2))

_KEY_USAGE_BIT: Final = {name: bit for bit, name in enumerate(KEY_USAGE_BITS)}
# asn1crypto's names of key purposes and policies ("client_auth", "any_policy") are accepted
# beside dotted OIDs, as they were when asn1crypto encoded the extensions.
_KEY_PURPOSES: Final = {name: oid for oid, name in x509.KeyPurposeId._map.items()}
_POLICIES: Final = {name: oid for oid, name in x509.PolicyIdentifier._map.items()}

_SUBJECT_KEY_ID: Final = _der.oid("2.5.29.14")
_KEY_USAGE: Final = _der.oid("2.5.29.15")
_PRIVATE_KEY_USAGE_PERIOD: Final = _der.oid("2.5.29.16")
_SUBJECT_ALT_NAME: Final = _der.oid("2.5.29.17")
_BASIC_CONSTRAINTS: Final = _der.oid("2.5.29.19")
_CRL_DISTRIBUTION_POINTS: Final = _der.oid("2.5.29.31")
_CERTIFICATE_POLICIES: Final = _der.oid("2.5.29.32")
_AUTHORITY_KEY_ID: Final = _der.oid("2.5.29.35")
_EXTENDED_KEY_USAGE: Final = _der.oid("2.5.29.37")
_AUTHORITY_INFO_ACCESS: Final = _der.oid("1.3.6.1.5.5.7.1.1")
_OCSP: Final = _der.oid("1.3.6.1.5.5.7.48.1")
_CA_ISSUERS: Final = _der.oid("1.3.6.1.5.5.7.48.2")
_SUBJECT_SIGN_TOOL: Final = _der.oid(_asn1.SUBJECT_SIGN_TOOL)
_ISSUER_SIGN_TOOL: Final = _der.oid(_asn1.ISSUER_SIGN_TOOL)


def build_certificate(
    template: CertificateTemplate,
    subject_public_key_info: bytes,
    issuer_signer: Signer,
    issuer_certificate: Certificate | None = None,
) -> bytes:
    """Build and sign a certificate; DER.

    Without ``issuer_certificate`` the certificate is self-signed: the issuer is the subject, and
    ``subject_public_key_info`` must be the signer's own key.
    """
    decode_public_key_info(subject_public_key_info)  # validates the key before it is certified
    spki = bytes(subject_public_key_info)
    if issuer_certificate is None:
        if spki != issuer_signer.public_key_info:
            raise InvalidInput(
                "самоподписанный сертификат: ключ субъекта не совпадает с ключом подписи"
            )
        issuer_name = name_to_der(template.subject)
        authority_key_id = key_identifier(spki)
    else:
        if issuer_certificate.public_key_info != issuer_signer.public_key_info:
            raise InvalidInput("ключ подписи не соответствует сертификату издателя")
        issuer_name = issuer_certificate.subject_der  # copied as it is: RFC 5280 7.1 matching
        authority_key_id = issuer_certificate.subject_key_id or key_identifier(
            issuer_certificate.public_key_info
        )
    if template.subject.is_empty:
        raise InvalidInput("пустое имя субъекта")
    not_before, not_after = utc(template.not_before), utc(template.not_after)
    if not_after <= not_before:
        raise InvalidInput("срок действия: notAfter должен быть позже notBefore")
    serial = check_serial(template.serial if template.serial is not None else random_serial())
    algorithm = signature_algorithm_der(issuer_signer)
    validity = _der.sequence(_der.x509_time(not_before), _der.x509_time(not_after))
    tbs = _der.sequence(
        _VERSION_3,
        _der.integer(serial),
        algorithm,
        issuer_name,
        validity,
        name_to_der(template.subject),
        spki,
        _der.explicit(3, _extensions(template, spki, authority_key_id)),
    )
    signature = issuer_signer.sign(tbs)
    return _der.sequence(tbs, algorithm, _der.bit_string(signature))


def _extension(extn_id: bytes, value: bytes, *, critical: bool = False) -> bytes:
    # critical is DEFAULT FALSE: DER leaves it out unless it is TRUE.
    if critical:
        return _der.sequence(extn_id, _der.boolean(True), _der.octet_string(value))
    return _der.sequence(extn_id, _der.octet_string(value))


def _extensions(template: CertificateTemplate, spki: bytes, authority_key_id: bytes) -> bytes:
    """The Extensions SEQUENCE OF, checking the template as it goes."""
    unknown = template.key_usage - KEY_USAGES
    if unknown:
        raise InvalidInput(f"неизвестные назначения ключа: {sorted(unknown)}")
    if template.is_ca and "key_cert_sign" not in template.key_usage:
        raise InvalidInput("сертификат УЦ должен разрешать keyCertSign")
    if not template.is_ca and template.key_usage & {"key_cert_sign"}:
        raise InvalidInput("keyCertSign разрешён только сертификату УЦ")
    if template.path_length is not None and (not template.is_ca or template.path_length < 0):
        raise InvalidInput("pathLenConstraint допустим только для УЦ и не меньше нуля")
    result = [
        _extension(_SUBJECT_KEY_ID, _der.octet_string(key_identifier(spki))),
        _extension(
            _AUTHORITY_KEY_ID, _der.sequence(_der.implicit(0, _der.octet_string(authority_key_id)))
        ),
    ]
    if template.is_ca:
        constraints = [_der.boolean(True)]
        if template.path_length is not None:
            constraints.append(_der.integer(template.path_length))
        result.append(_extension(_BASIC_CONSTRAINTS, _der.sequence(*constraints), critical=True))
    if template.key_usage:
        bits = _der.named_bits(_KEY_USAGE_BIT[usage] for usage in template.key_usage)
        result.append(_extension(_KEY_USAGE, bits, critical=True))
    if template.extended_key_usage:
        purposes = (_der.oid(_KEY_PURPOSES.get(p, p)) for p in template.extended_key_usage)
        result.append(_extension(_EXTENDED_KEY_USAGE, _der.sequence_of(purposes)))
    if template.subject.email is not None:
        # RFC 5280 4.1.2.6: an e-mail address in the subject MUST also be an rfc822Name in SAN.
        email = _der.implicit(1, _der.ia5_string(email_octets(template.subject.email)))
        result.append(_extension(_SUBJECT_ALT_NAME, _der.sequence(email)))
    if template.policies:
        policies = (_der.sequence(_der.oid(_POLICIES.get(p, p))) for p in template.policies)
        result.append(_extension(_CERTIFICATE_POLICIES, _der.sequence_of(policies)))
    if template.crl_urls:
        # DistributionPoint { distributionPoint [0] { fullName [0] GeneralNames } }: the outer
        # tag is explicit (DistributionPointName is a CHOICE), the inner one implicit.
        points = [
            _der.sequence(_der.explicit(0, _der.implicit(0, _der.sequence(uri_der(u)))))
            for u in template.crl_urls
        ]
        result.append(_extension(_CRL_DISTRIBUTION_POINTS, _der.sequence_of(points)))
    access = [_der.sequence(_OCSP, uri_der(u)) for u in template.ocsp_urls]
    access += [_der.sequence(_CA_ISSUERS, uri_der(u)) for u in template.ca_issuer_urls]
    if access:
        result.append(_extension(_AUTHORITY_INFO_ACCESS, _der.sequence_of(access)))
    if template.subject_sign_tool is not None:
        if not 1 <= len(template.subject_sign_tool) <= 200:
            raise InvalidInput("subjectSignTool: от 1 до 200 символов")
        result.append(_extension(_SUBJECT_SIGN_TOOL, _der.utf8_string(template.subject_sign_tool)))
    if template.issuer_sign_tool is not None:
        tool = template.issuer_sign_tool
        limits = (
            (tool.sign_tool, 200),
            (tool.ca_tool, 200),
            (tool.sign_tool_cert, 100),
            (tool.ca_tool_cert, 100),
        )
        if any(not 1 <= len(text) <= limit for text, limit in limits):
            raise InvalidInput("issuerSignTool: строки от 1 до 200 (сертификаты — до 100) символов")
        value = _der.sequence(*(_der.utf8_string(text) for text, _limit in limits))
        result.append(_extension(_ISSUER_SIGN_TOOL, value))
    if template.private_key_usage_period is not None:
        start, end = (utc(t) for t in template.private_key_usage_period)
        if end <= start:
            raise InvalidInput("privateKeyUsagePeriod: конец раньше начала")
        period = _der.sequence(
            _der.implicit(0, _der.generalized_time(start)),
            _der.implicit(1, _der.generalized_time(end)),
        )
        result.append(_extension(_PRIVATE_KEY_USAGE_PERIOD, period))
    return _der.sequence_of(result)


# --- parsing -------------------------------------------------------------------------------


def load_der(data: bytes | str, label: str) -> bytes:
    """DER bytes of DER or PEM input."""
    if isinstance(data, str) or is_pem(data):
        return pem_decode(data, label)
    return bytes(data)


def parse_certificate(data: bytes | str) -> Certificate:
    """Parse a certificate (DER or PEM); any defect is a ParseError. Signature not checked.

    Read straight from the DER (:mod:`bankkeys.pki._x509_read`): the bank parses one with every
    re-key request.
    """
    return _x509_read.read_certificate(load_der(data, "CERTIFICATE"))


def verify_certificate_signature(cert: Certificate, issuer_public_key_info: bytes) -> None:
    """Check the certificate's signature with the issuer's key; SignatureInvalid if it fails."""
    spec, public = decode_public_key_info(issuer_public_key_info)  # validates the key
    verify_with_key(spec, public, cert.tbs, cert.signature, cert.signature_algorithm_oid,
                    key_checked=True)  # fmt: skip


def certificate_to_pem(der: bytes) -> str:
    return pem_encode("CERTIFICATE", der)
