"""Key arithmetic for the software container: generate, derive the public key, sign a digest.

GOST through :mod:`bankkeys.gost.gost3410`, ECDSA P-256 through ``cryptography``. Private keys
arrive and leave as ``bytearray`` so the caller can wipe them; copies made inside the libraries
(Python ints, immutable bytes) are beyond reach and are dropped as soon as possible.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bankkeys.pki import algorithms
from bankkeys.pki.errors import PkiError
from bankkeys.pki.keys import encode_public_key_info
from bankkeys.pki.signer import KeySpec
from bankkeys.tokens.errors import UnsupportedKeySpec


def wipe(buffer: bytearray) -> None:
    """Overwrite in place (slice assignment of equal length does not reallocate)."""
    buffer[:] = bytes(len(buffer))


def check(spec: KeySpec) -> algorithms.Algorithm:
    try:
        return algorithms.check_key_spec(spec)
    except PkiError as exc:
        raise UnsupportedKeySpec(f"Неподдерживаемый ключ: {exc}") from exc


def spki(spec: KeySpec, public: bytes) -> bytes:
    """DER SubjectPublicKeyInfo of a raw public key (the PKI layer's encoding)."""
    return encode_public_key_info(spec, public)


def digest(spec: KeySpec, data: bytes) -> bytes:
    """The family's hash: Streebog-256/512 for GOST, SHA-256 for ECDSA P-256."""
    return algorithms.digest(check(spec).digest_name, data)


def generate(spec: KeySpec) -> tuple[bytearray, bytes]:
    """A new private key (GOST: little-endian scalar; ECDSA: big-endian scalar) and the raw public
    key (GOST: X||Y little-endian; ECDSA: 04||X||Y)."""
    check(spec)
    if spec.family == "ecdsa-p256":
        key = ec.generate_private_key(ec.SECP256R1())
        private = bytearray(key.private_numbers().private_value.to_bytes(32, "big"))
        return private, _ec_public(key)
    from bankkeys.gost import gost3410, params

    curve = params.get_curve(spec.curve)
    private = bytearray(gost3410.generate_private_key(curve))
    return private, bytes(gost3410.public_key(curve, private))


def sign_digest(spec: KeySpec, private: bytearray, message_digest: bytes) -> bytes:
    """Wire signature: GOST ``s || r`` big-endian, ECDSA DER ``ECDSA-Sig-Value``."""
    alg = check(spec)
    if len(message_digest) != alg.digest_size:
        raise UnsupportedKeySpec(
            f"Длина хэша {len(message_digest)} байт не подходит для ключа {spec.family}"
        )
    if spec.family == "ecdsa-p256":
        key = ec.derive_private_key(int.from_bytes(private, "big"), ec.SECP256R1())
        return key.sign(message_digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    from bankkeys.gost import gost3410, params

    curve = params.get_curve(spec.curve)
    return bytes(gost3410.sign_digest(curve, private, message_digest))


def _ec_public(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
