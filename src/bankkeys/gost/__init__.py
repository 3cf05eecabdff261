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

Parameter sets (:mod:`bankkeys.gost.params`): tc26-256-A/B/C/D, tc26-512-A/B/C, the standard's
two test curves (cryptopro-test = Appendix A.1, tc26-512-test = Appendix A.2) and the CryptoPro
names A/B/C/XchA/XchB, which are tc26-256-B/C/D/B/D under their own OIDs.

Signatures (:mod:`bankkeys.gost.gost3410`): ``e`` as above; ``k`` uniform in [1, q-1] from the OS;
``r = x(kP) mod q``, ``s = (r d + k e) mod q``; verification recomputes ``x(s/e P - r/e Q) mod q``.
Public keys are checked to lie on the curve and, on the cofactor-4 curves tc26-256-A and
tc26-512-C, in the subgroup of order q.
"""

from bankkeys.gost.errors import (
    GostError,
    InvalidLength,
    InvalidPrivateKey,
    InvalidPublicKey,
    InvalidSignature,
    UnknownParameterSet,
)
from bankkeys.gost.gost3410 import (
    PrivateKey,
    PublicKey,
    check_public_key,
    digest_to_int,
    generate_private_key,
    public_key,
    sign,
    sign_digest,
    verify,
    verify_digest,
)
from bankkeys.gost.params import CURVES, Curve, get_curve

__all__ = [
    "CURVES",
    "Curve",
    "GostError",
    "InvalidLength",
    "InvalidPrivateKey",
    "InvalidPublicKey",
    "InvalidSignature",
    "PrivateKey",
    "PublicKey",
    "UnknownParameterSet",
    "check_public_key",
    "digest_to_int",
    "generate_private_key",
    "get_curve",
    "public_key",
    "sign",
    "sign_digest",
    "verify",
    "verify_digest",
]
