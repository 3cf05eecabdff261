"""Path validation for one bank CA: a client certificate directly under a trusted CA certificate.

Checks, each failing with its own :class:`~bankkeys.pki.errors.ValidationError`: the issuer
(names and key identifiers), the signature, validity at the given time (certificate and CA), the
CA's basicConstraints and keyUsage, the certificate's keyUsage / extendedKeyUsage for the purpose,
unhandled critical extensions, and revocation by a CRL (the CRL's own issuer, signature and dates
are checked first).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from bankkeys.pki._common import utc
from bankkeys.pki.certificates import Certificate, names_match, verify_certificate_signature
from bankkeys.pki.crls import Crl, verify_crl_signature
from bankkeys.pki.errors import (
    BadCertificateSignature,
    CrlInvalid,
    Expired,
    IssuerMismatch,
    KeyUsageNotAllowed,
    NotACertificateAuthority,
    NotYetValid,
    PkiError,
    Revoked,
    UnhandledCriticalExtension,
)


@dataclass(frozen=True)
class ValidatedPath:
    """What was established: this certificate, under this CA, was valid at this time."""

    certificate: Certificate
    ca: Certificate
    checked_at: datetime
    revocation_checked: bool


def validate_certificate(
    certificate: Certificate,
    ca: Certificate,
    *,
    at: datetime,
    crl: Crl | None = None,
    key_usage: frozenset[str] = frozenset({"digital_signature"}),
    extended_key_usage: str | None = None,
) -> ValidatedPath:
    """Validate ``certificate`` as issued by the trusted ``ca`` at time ``at``.

    Revocation is checked when a CRL is given: an entry dated at or before ``at`` fails with
    :class:`Revoked` (a later revocation does not undo a signature made before it).
    """
    at = utc(at)
    _check_ca(ca, at)
    if not names_match(certificate.issuer_der, ca.subject_der):
        raise IssuerMismatch("сертификат выдан не этим УЦ (имя издателя не совпадает)")
    if (
        certificate.authority_key_id is not None
        and ca.subject_key_id is not None
        and not hmac.compare_digest(certificate.authority_key_id, ca.subject_key_id)
    ):
        raise IssuerMismatch("сертификат выдан не этим ключом УЦ (идентификатор ключа)")
    try:
        verify_certificate_signature(certificate, ca.public_key_info)
    except PkiError as exc:
        raise BadCertificateSignature(f"подпись УЦ под сертификатом неверна: {exc}") from None
    _check_dates(certificate, at, "сертификат")
    if certificate.unknown_critical_extensions:
        raise UnhandledCriticalExtension(
            "сертификат содержит неизвестные критичные расширения: "
            + ", ".join(sorted(certificate.unknown_critical_extensions))
        )
    if certificate.key_usage is not None and not key_usage <= certificate.key_usage:
        missing = ", ".join(sorted(key_usage - certificate.key_usage))
        raise KeyUsageNotAllowed(f"назначение ключа не разрешает: {missing}")
    if (
        extended_key_usage is not None
        and certificate.extended_key_usage is not None
        and extended_key_usage not in certificate.extended_key_usage
        and "2.5.29.37.0" not in certificate.extended_key_usage
    ):
        raise KeyUsageNotAllowed(f"расширенное назначение ключа не разрешает {extended_key_usage}")
    if crl is not None:
        _check_crl(crl, ca, at)
        entry = crl.find(certificate.serial)
        if entry is not None and entry.reason != "remove_from_crl" and entry.revoked_at <= at:
            raise Revoked(
                f"сертификат отозван {entry.revoked_at:%d.%m.%Y %H:%M} UTC"
                + (f" (причина: {entry.reason})" if entry.reason else ""),
                revoked_at=entry.revoked_at,
                reason=entry.reason,
            )
    return ValidatedPath(certificate, ca, at, crl is not None)


def _check_ca(ca: Certificate, at: datetime) -> None:
    if not ca.is_ca:
        raise NotACertificateAuthority("сертификат издателя не является сертификатом УЦ")
    if ca.key_usage is not None and "key_cert_sign" not in ca.key_usage:
        raise KeyUsageNotAllowed("ключ УЦ не предназначен для подписи сертификатов")
    if ca.unknown_critical_extensions:
        raise UnhandledCriticalExtension("сертификат УЦ содержит неизвестные критичные расширения")
    _check_dates(ca, at, "сертификат УЦ")


def _check_dates(cert: Certificate, at: datetime, what: str) -> None:
    if at < cert.not_before:
        raise NotYetValid(f"{what} ещё не действует (с {cert.not_before:%d.%m.%Y %H:%M} UTC)")
    if at > cert.not_after:
        raise Expired(f"срок действия: {what} истёк {cert.not_after:%d.%m.%Y %H:%M} UTC")


def _check_crl(crl: Crl, ca: Certificate, at: datetime) -> None:
    if not names_match(crl.issuer_der, ca.subject_der):
        raise CrlInvalid("CRL выпущен другим УЦ")
    if ca.key_usage is not None and "crl_sign" not in ca.key_usage:
        raise CrlInvalid("ключ УЦ не предназначен для подписи CRL")
    try:
        verify_crl_signature(crl, ca.public_key_info)
    except PkiError as exc:
        raise CrlInvalid(f"подпись CRL неверна: {exc}") from None
    if crl.unknown_critical_extensions:
        raise CrlInvalid("CRL содержит неизвестные критичные расширения")
    if at < crl.this_update:
        raise CrlInvalid("CRL выпущен позже момента проверки")
    if crl.next_update is not None and at > crl.next_update:
        raise CrlInvalid(f"CRL устарел (nextUpdate {crl.next_update:%d.%m.%Y %H:%M} UTC)")
