"""The public key's fingerprint: Streebog-256 (GOST R 34.11-2012) of its DER SubjectPublicKeyInfo.

The same definition as ``bankkeys.bank.workflow.fingerprint`` and the store's ``key_fingerprint``,
so the operator's console can look a scanned code up directly; the hex is the digest as ``openssl
dgst -md_gost12_256`` prints it.
"""

from __future__ import annotations

import hmac

from bankkeys.gost.streebog import streebog256


def public_key_fingerprint(public_key_info: bytes) -> str:
    """Lower-case hex Streebog-256 of a DER SubjectPublicKeyInfo (64 hex digits)."""
    return streebog256(public_key_info).hexdigest()


def fingerprint_matches(fingerprint: str, public_key_info: bytes) -> bool:
    """Whether a fingerprint (any hex case) is the one of ``public_key_info``."""
    return hmac.compare_digest(fingerprint.lower(), public_key_fingerprint(public_key_info))
