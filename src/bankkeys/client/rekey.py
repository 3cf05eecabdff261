"""The cryptographic steps of the re-key wizard, each on an opened, logged-in token.

* the new key pair is generated **on the token** (GOST R 34.10-2012 256 where the token can, else
  ECDSA P-256 — SoftHSM2 has no GOST 2012);
* the PKCS#10 request (RFC 2986) is signed by the new key (proof of possession);
* for a renewal it travels inside CMS SignedData (RFC 5652) signed by the **current** key, whose
  certificate is embedded; for a first key the bare PKCS#10 goes with the activation code;
* the remote-renewal act is a detached CMS signature over the exact PDF the bank rendered;
* an issued certificate is accepted only if it carries the key on the token and validates under
  the pinned bank CA.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from bankkeys.client.errors import CertificateRefused, WizardError
from bankkeys.pki.certificates import Certificate, parse_certificate
from bankkeys.pki.cms import sign_cms
from bankkeys.pki.errors import PkiError
from bankkeys.pki.names import Name
from bankkeys.pki.requests import build_request
from bankkeys.pki.signer import KeySpec
from bankkeys.pki.validation import validate_certificate
from bankkeys.tokens import CertificateInfo, KeyInfo, Token, UnsupportedKeySpec

KEY_SPECS: tuple[KeySpec, ...] = (
    KeySpec("gost2012-256", "tc26-256-A"),
    KeySpec("ecdsa-p256", "P-256"),
)


def generate_key(token: Token, label: str) -> KeyInfo:
    """A new non-exportable key pair on the token, in the first algorithm the token supports."""
    for spec in KEY_SPECS:
        try:
            return token.generate_key(spec, label)
        except UnsupportedKeySpec:
            continue
    raise UnsupportedKeySpec()


def build_pkcs10(token: Token, key_id: bytes, subject: Name) -> bytes:
    try:
        return build_request(subject, token.signer(key_id))
    except PkiError as exc:
        raise WizardError(f"Запрос на сертификат не сформирован: {exc}") from exc


def find_certificate(token: Token, serial_hex: str) -> tuple[CertificateInfo, Certificate]:
    """The certificate with this serial on the token (the current one, to sign with)."""
    for info in token.certificates():
        try:
            cert = parse_certificate(info.der)
        except PkiError:
            continue
        if format(cert.serial, "x") == serial_hex.lower():
            return info, cert
    raise WizardError(f"На ключевом носителе нет действующего сертификата № {serial_hex}")


def wrap_with_current_key(token: Token, current_serial: str, pkcs10: bytes) -> bytes:
    """CMS SignedData (attached) over the PKCS#10, signed with the current key (MS-WCCE style)."""
    info, cert = find_certificate(token, current_serial)
    return sign_cms(pkcs10, token.signer(info.id), cert, detached=False)


def sign_document(token: Token, current_serial: str, document: bytes) -> bytes:
    """A detached CMS signature over ``document`` with the current key (remote renewal)."""
    info, cert = find_certificate(token, current_serial)
    return sign_cms(document, token.signer(info.id), cert, detached=True)


def check_issued(der: bytes, key: KeyInfo, ca: Certificate, now: datetime) -> Certificate:
    """Accept the certificate only for this key and from the pinned CA (typed refusals)."""
    try:
        cert = parse_certificate(der)
    except PkiError as exc:
        raise CertificateRefused(f"Файл от банка не является сертификатом: {exc}") from exc
    if not hmac.compare_digest(cert.public_key_info, key.public_key_info):
        raise CertificateRefused(
            "Сертификат не соответствует ключу на ключевом носителе: он не будет записан"
        )
    try:
        validate_certificate(cert, ca, at=now)
    except PkiError as exc:
        raise CertificateRefused(f"Сертификат не выдан УЦ банка: {exc}") from exc
    return cert
