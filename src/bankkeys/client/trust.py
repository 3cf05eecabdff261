"""The bank's CA certificate: pinned on first use (or given), then required to stay the same.

The pin guards what the client accepts as "issued by the bank": a certificate downloaded for the
token is checked against the pinned CA, never against whatever the server sends along with it.
"""

from __future__ import annotations

import hashlib
import hmac

from bankkeys.client.errors import CaMismatch, CertificateRefused
from bankkeys.pki.certificates import Certificate, parse_certificate
from bankkeys.pki.errors import PkiError


def fingerprint(der: bytes) -> str:
    """SHA-256 of the certificate, as browsers and ``openssl x509 -fingerprint`` show it."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def parse_ca(pem_or_der: bytes | str) -> Certificate:
    try:
        ca = parse_certificate(pem_or_der)
    except PkiError as exc:
        raise CertificateRefused(f"Сертификат УЦ банка не разобран: {exc}") from exc
    if not ca.is_ca:
        raise CertificateRefused("Присланный сертификат не является сертификатом УЦ")
    return ca


def check_pinned(pinned_der: bytes, presented_der: bytes) -> None:
    """Refuse a CA other than the pinned one (constant-time comparison of the DER)."""
    if not hmac.compare_digest(pinned_der, presented_der):
        raise CaMismatch(
            "Сертификат УЦ банка не совпадает с сохранённым ранее "
            f"(сохранён {fingerprint(pinned_der)}, получен {fingerprint(presented_der)}). "
            "Работа остановлена: возможна подмена сервера. Обратитесь в банк"
        )
