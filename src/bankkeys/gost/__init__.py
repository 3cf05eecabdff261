"""GOST R 34.11-2012 (Streebog) and GOST R 34.10-2012 signatures on a native C core.

Wire forms (what the PKI layer puts into ASN.1, identical to RFC 9215 / RFC 4491 and gost-engine):

* Digest: the Streebog output bytes exactly as ``openssl dgst -md_gost12_256`` prints them
  (the standard's own printouts are byte-reversed).
* Digest to integer: those bytes read as a *little-endian* integer, ``e = int mod q``, ``e = 1``
  when that is zero.
* Private key: the scalar ``d`` as ``curve.size`` bytes little-endian (the PKCS#8 form of
  gost-engine), ``0 < d < q``.
* Public key: ``X || Y``, each coordinate ``curve.size`` bytes little-endian (64 or 128 bytes).
* Signature: ``s || r``, each ``curve.size`` bytes big-endian, zero-padded (64 or 128 bytes).

Hash choice: 256-bit curves sign Streebog-256 digests, 512-bit curves Streebog-512.
"""

from bankkeys.gost.errors import (
    GostError,
    InvalidLength,
    InvalidPrivateKey,
    InvalidPublicKey,
    InvalidSignature,
    UnknownParameterSet,
)

__all__ = [
    "GostError",
    "InvalidLength",
    "InvalidPrivateKey",
    "InvalidPublicKey",
    "InvalidSignature",
    "UnknownParameterSet",
]
