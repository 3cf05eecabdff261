"""The public key's fingerprint: Streebog-256 (GOST R 34.11-2012) of the raw key bytes.

It is taken over exactly the bytes the act prints in hex (X||Y for GOST, 04||X||Y for ECDSA), so
an operator can recompute it from the paper alone; the hex is the digest as ``openssl dgst
-md_gost12_256`` prints it.
"""

from __future__ import annotations

import hmac

from bankkeys.gost.streebog import streebog256


def public_key_fingerprint(public_key: bytes) -> str:
    """Lower-case hex Streebog-256 of ``public_key`` (64 hex digits)."""
    return streebog256(public_key).hexdigest()


def fingerprint_matches(fingerprint: str, public_key: bytes) -> bool:
    """Whether a fingerprint (any hex case) is the one of ``public_key``."""
    return hmac.compare_digest(fingerprint.lower(), public_key_fingerprint(public_key))
