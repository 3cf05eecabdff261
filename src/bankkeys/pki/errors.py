"""The one error hierarchy of :mod:`bankkeys.pki`.

Every failure of this package is a :class:`PkiError`; nothing from the ASN.1 library or from
``cryptography`` leaks out. Validation failures name the check that failed.
"""

from __future__ import annotations

from datetime import datetime


class PkiError(ValueError):
    """Base class for every error of :mod:`bankkeys.pki`."""


class ParseError(PkiError):
    """The bytes are not a well-formed object of the expected kind (bad DER, wrong structure)."""


class UnsupportedAlgorithm(PkiError):
    """An algorithm, parameter set or OID that this package does not handle."""


class InvalidInput(PkiError):
    """A builder got an argument it cannot encode (bad length, wrong digits, empty name...)."""


class SignatureInvalid(PkiError):
    """A signature does not verify against the given key (or a signed digest does not match)."""


class ValidationError(PkiError):
    """A certificate failed one check of path validation; ``check`` names it."""

    check: str = "validation"


class IssuerMismatch(ValidationError):
    """The certificate was not issued by the given CA (names or key identifiers differ)."""

    check = "issuer"


class BadCertificateSignature(ValidationError):
    """The certificate's signature does not verify with the issuer's key."""

    check = "signature"


class NotYetValid(ValidationError):
    """The check time is before notBefore."""

    check = "not_before"


class Expired(ValidationError):
    """The check time is after notAfter."""

    check = "not_after"


class NotACertificateAuthority(ValidationError):
    """The issuer's basicConstraints do not allow it to issue certificates."""

    check = "basic_constraints"


class KeyUsageNotAllowed(ValidationError):
    """A keyUsage or extendedKeyUsage bit required for this use is missing."""

    check = "key_usage"


class UnhandledCriticalExtension(ValidationError):
    """The certificate carries a critical extension this package does not understand."""

    check = "critical_extension"


class CrlInvalid(ValidationError):
    """The CRL given for a revocation check cannot be trusted (signature, issuer, dates)."""

    check = "crl"


class Revoked(ValidationError):
    """The certificate is on the CRL."""

    check = "revocation"

    def __init__(self, message: str, *, revoked_at: datetime, reason: str | None) -> None:
        super().__init__(message)
        self.revoked_at = revoked_at
        self.reason = reason
