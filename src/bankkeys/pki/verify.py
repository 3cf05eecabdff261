"""Verifying one signature with a SubjectPublicKeyInfo: the primitive under certificates, CRLs,
requests and CMS."""

from __future__ import annotations

import hmac

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from bankkeys.pki.algorithms import ECDSA_P256, Algorithm, by_signature_oid, digest
from bankkeys.pki.errors import SignatureInvalid, UnsupportedAlgorithm
from bankkeys.pki.keys import decode_public_key_info
from bankkeys.pki.signer import KeySpec


def verify_signature(
    spki_der: bytes, data: bytes, signature: bytes, signature_algorithm_oid: str
) -> None:
    """Check ``signature`` over ``data`` with the key in ``spki_der``; SignatureInvalid if not.

    ``signature_algorithm_oid`` must belong to the key's family (GOST signature-with-digest OID or
    the bare GOST key OID as in CMS; ecdsa-with-SHA256).
    """
    spec, public = decode_public_key_info(spki_der)
    verify_with_key(spec, public, data, signature, signature_algorithm_oid)


def verify_with_key(
    spec: KeySpec,
    public: bytes,
    data: bytes,
    signature: bytes,
    signature_algorithm_oid: str,
    *,
    key_checked: bool = False,
) -> None:
    """Like :func:`verify_signature` for a key already decoded. ``key_checked``: see
    :func:`verify_digest_with_key`."""
    alg = _matching(spec, signature_algorithm_oid)
    verify_digest_with_key(
        spec, public, digest(alg.digest_name, bytes(data)), signature, key_checked=key_checked
    )


def verify_digest_with_key(
    spec: KeySpec, public: bytes, hashed: bytes, signature: bytes, *, key_checked: bool = False
) -> None:
    """Check a signature over an already computed digest of the family's hash.

    ``key_checked``: ``public`` was validated when it was read (a parsed certificate's key: see
    :func:`bankkeys.pki.keys.public_key_from_asn1`), so the GOST core skips its subgroup check,
    which on the cofactor-4 curves costs about as much as the verification itself."""
    if spec.family == "ecdsa-p256":
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
        from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

        try:
            key.verify(bytes(signature), hashed, ec.ECDSA(Prehashed(hashes.SHA256())))
        except (_CryptoInvalidSignature, ValueError):
            raise SignatureInvalid("подпись ECDSA неверна") from None
        return
    from bankkeys.gost import GostError, gost3410, params

    try:
        gost3410.verify_digest(
            params.get_curve(spec.curve), public, hashed, bytes(signature), key_checked=key_checked
        )
    except GostError:
        raise SignatureInvalid("подпись ГОСТ Р 34.10-2012 неверна") from None


def _matching(spec: KeySpec, signature_algorithm_oid: str) -> Algorithm:
    alg = by_signature_oid(signature_algorithm_oid)
    if alg.family != spec.family:
        raise UnsupportedAlgorithm(
            f"алгоритм подписи {signature_algorithm_oid} не подходит для ключа {spec.family}"
        )
    return alg


def digests_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a, b)


__all__ = ["ECDSA_P256", "verify_digest_with_key", "verify_signature", "verify_with_key"]
