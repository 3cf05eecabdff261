"""Public and private keys on the wire: SubjectPublicKeyInfo (RFC 9215 / RFC 5480), PKCS#8, PEM.

GOST public keys are ``X || Y`` little-endian (64 or 128 bytes), ECDSA public keys the uncompressed
point ``04 || X || Y``. GOST private keys are the scalar ``d`` little-endian (the gost-engine form),
ECDSA private keys the scalar big-endian (SEC 1).
"""

from __future__ import annotations

import functools
from typing import Any, Final

from asn1crypto import pem
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bankkeys.pki import _asn1
from bankkeys.pki import _der_read as r
from bankkeys.pki._asn1 import core, keys
from bankkeys.pki.algorithms import (
    ECDSA_P256,
    P256,
    Algorithm,
    by_key_oid,
    check_key_spec,
    param_set,
    param_set_by_oid,
)
from bankkeys.pki.errors import InvalidInput, ParseError, UnsupportedAlgorithm
from bankkeys.pki.signer import KeySpec

# --- SubjectPublicKeyInfo --------------------------------------------------------------------


def gost_key_algorithm(spec: KeySpec) -> Any:
    """The AlgorithmIdentifier of a GOST key (RFC 9215: digestParamSet only for CryptoPro OIDs)."""
    alg = check_key_spec(spec)
    params = param_set(spec.curve)
    fields: dict[str, str] = {"public_key_param_set": params.oid}
    if params.cryptopro:
        fields["digest_param_set"] = alg.digest_oid
    return keys.PublicKeyAlgorithm(
        {"algorithm": alg.key_oid, "parameters": _asn1.GostPublicKeyParameters(fields)}
    )


def encode_public_key_info(spec: KeySpec, public: bytes) -> bytes:
    """DER SubjectPublicKeyInfo for a raw public key of the given spec (the point is validated)."""
    alg = check_key_spec(spec)
    public = bytes(public)
    check_public_key(spec, public)
    if alg is ECDSA_P256:
        info = keys.PublicKeyInfo(
            {
                "algorithm": {"algorithm": "ec", "parameters": ("named", "secp256r1")},
                "public_key": public,
            }
        )
    else:
        info = keys.PublicKeyInfo(
            {
                "algorithm": gost_key_algorithm(spec),
                "public_key": keys.ParsableOctetBitString(core.OctetString(public).dump()),
            }
        )
    return _asn1.dump(info)


def decode_public_key_info(der: bytes) -> tuple[KeySpec, bytes]:
    """Read a SubjectPublicKeyInfo back: the key's spec and its raw public key (validated)."""
    if not isinstance(der, bytes | bytearray | memoryview):
        raise ParseError(f"открытый ключ: ожидались байты DER, получено {type(der).__name__}")
    return _decode_public_key_info(bytes(der))


_SPKI: Final = "открытый ключ (SubjectPublicKeyInfo)"
_GOST_KEY: Final = "открытый ключ ГОСТ"


@functools.lru_cache(maxsize=4096)
def _decode_public_key_info(der: bytes) -> tuple[KeySpec, bytes]:
    # A pure function of the bytes, and the point check is the costly part: the same keys come
    # back (the CA's own, a request's key again at issuance), so each is parsed and checked once.
    # Failures raise and are not cached. Read straight from the DER (pki/_der_read): every
    # request and certificate has one; :func:`public_key_from_asn1` is the same reading through
    # asn1crypto, which the tests hold this one to.
    r.check(der, _SPKI)
    top = r.expect(r.read(der, 0, len(der), _SPKI), r.SEQUENCE, _SPKI)
    parts = r.children(der, top, _SPKI)
    if len(parts) != 2:
        raise ParseError(f"{_SPKI}: ожидались алгоритм и ключ")
    # Unknown algorithms and invalid points are the input's fault: ParseError, as before.
    with _asn1.guarded("открытый ключ"):
        algorithm = r.children(der, r.expect(parts[0], r.SEQUENCE, _SPKI), _SPKI)
        if not 1 <= len(algorithm) <= 2:
            raise ParseError(f"{_SPKI}: повреждённый AlgorithmIdentifier")
        alg = by_key_oid(r.oid(der, algorithm[0], _SPKI))
        params = algorithm[1] if len(algorithm) == 2 else None
        key = r.bit_string(der, parts[1], _SPKI)
        if alg is ECDSA_P256:
            if (
                params is None
                or params.tag != r.OID
                or r.oid(der, params, _SPKI) != _asn1.P256_CURVE
            ):
                raise UnsupportedAlgorithm("ECDSA поддерживается только на кривой P-256")
            spec = KeySpec("ecdsa-p256", P256)
            public = _ecdsa_uncompressed(key)
        else:
            spec = KeySpec(alg.family, _gost_curve(alg, der, params))
            r.check(key, _GOST_KEY)  # the BIT STRING holds exactly one OCTET STRING
            public = r.octet_string(key, r.read(key, 0, len(key), _GOST_KEY), _GOST_KEY)
        check_public_key(spec, public)
    return spec, public


def _gost_curve(alg: Algorithm, der: bytes, params: r.Tlv | None) -> str:
    """RFC 9215 GostR3410-2012-PublicKeyParameters: publicKeyParamSet, then the optional
    digestParamSet (either form accepted, never a mismatched one) and the 2001 form's
    encryptionParamSet (ignored)."""
    if params is None or params.tag != r.SEQUENCE:
        raise ParseError("ключ ГОСТ без параметров (publicKeyParamSet)")
    oids = [r.oid(der, tlv, _SPKI) for tlv in r.children(der, params, _SPKI)]
    if not 1 <= len(oids) <= 3:
        raise ParseError("ключ ГОСТ без параметров (publicKeyParamSet)")
    param_set_ = param_set_by_oid(oids[0])
    if param_set_.bits != alg.digest_size * 8:
        raise ParseError(f"набор параметров {param_set_.oid} не подходит для ключа {alg.family}")
    if len(oids) > 1 and oids[1] != alg.digest_oid:
        raise ParseError(f"digestParamSet {oids[1]} не подходит для ключа {alg.family}")
    return param_set_.curve


def public_key_from_asn1(info: Any) -> tuple[KeySpec, bytes]:
    """Spec and raw key of a parsed asn1crypto PublicKeyInfo: the tests' judge of the reading
    from DER (:func:`decode_public_key_info`)."""
    with _asn1.guarded("открытый ключ"):
        algorithm = info["algorithm"]
        alg = by_key_oid(algorithm["algorithm"].dotted)
        if alg is ECDSA_P256:
            params = algorithm["parameters"]
            if params.name != "named" or params.chosen.dotted != _asn1.P256_CURVE:
                raise UnsupportedAlgorithm("ECDSA поддерживается только на кривой P-256")
            spec = KeySpec("ecdsa-p256", P256)
            public = _ecdsa_uncompressed(info["public_key"].native)
        else:
            spec = KeySpec(alg.family, _gost_curve_from_parameters(alg, algorithm["parameters"]))
            public = info["public_key"].parsed.native
            if not isinstance(public, bytes):
                raise ParseError("открытый ключ ГОСТ: ожидалась OCTET STRING")
        check_public_key(spec, public)
    return spec, public


def _gost_curve_from_parameters(alg: Algorithm, parameters: Any) -> str:
    if not isinstance(parameters, _asn1.GostPublicKeyParameters):
        raise ParseError("ключ ГОСТ без параметров (publicKeyParamSet)")
    params = param_set_by_oid(parameters["public_key_param_set"].dotted)
    if params.bits != alg.digest_size * 8:
        raise ParseError(f"набор параметров {params.oid} не подходит для ключа {alg.family}")
    digest_param = parameters["digest_param_set"]
    # Accept either form of digestParamSet (present or absent), never a mismatched one.
    if digest_param.native is not None and digest_param.dotted != alg.digest_oid:
        raise ParseError(f"digestParamSet {digest_param.dotted} не подходит для ключа {alg.family}")
    return params.curve


def _ecdsa_uncompressed(point: bytes) -> bytes:
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as exc:
        raise ParseError(f"открытый ключ ECDSA: точка не на кривой P-256 ({exc})") from None
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def check_public_key(spec: KeySpec, public: bytes) -> None:
    """Raise InvalidInput unless ``public`` is a valid point of the spec's curve and group."""
    alg = check_key_spec(spec)
    if len(public) != alg.public_key_size:
        raise InvalidInput(
            f"открытый ключ {spec.family}: {len(public)} байт вместо {alg.public_key_size}"
        )
    if alg is ECDSA_P256:
        if public[:1] != b"\x04":
            raise InvalidInput("открытый ключ ECDSA: ожидалась несжатая точка 04||X||Y")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
        except ValueError:
            raise InvalidInput("открытый ключ ECDSA: точка не на кривой P-256") from None
        return
    from bankkeys.gost import GostError, gost3410, params

    try:
        gost3410.check_public_key(params.get_curve(spec.curve), public)
    except GostError as exc:
        raise InvalidInput(f"открытый ключ ГОСТ: {exc}") from None


# --- PKCS#8 private keys -----------------------------------------------------------------------


def encode_private_key(spec: KeySpec, private: bytes) -> bytes:
    """Unencrypted PKCS#8 PrivateKeyInfo DER.

    GOST: the privateKey OCTET STRING holds the bare little-endian scalar, as gost-engine writes
    it; ECDSA: the RFC 5915 ECPrivateKey (written by ``cryptography``).
    """
    alg = check_key_spec(spec)
    private = bytes(private)
    if len(private) != alg.private_key_size:
        raise InvalidInput(
            f"закрытый ключ {spec.family}: {len(private)} байт вместо {alg.private_key_size}"
        )
    if alg is ECDSA_P256:
        key = _ecdsa_private(private)
        return key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    _check_gost_private(spec, private)
    info = _asn1.GostPrivateKeyInfo(
        {"version": 0, "private_key_algorithm": gost_key_algorithm(spec), "private_key": private}
    )
    return _asn1.dump(info)


def decode_private_key(der: bytes) -> tuple[KeySpec, bytes]:
    """Read an unencrypted PKCS#8 key: its spec and raw scalar (GOST LE, ECDSA BE).

    GOST privateKey contents accepted in the three forms gost-engine reads: the bare scalar,
    a DER OCTET STRING of it, or a DER INTEGER.
    """
    info = _asn1.load(_asn1.GostPrivateKeyInfo, der, "закрытый ключ (PKCS#8)")
    with _asn1.guarded("закрытый ключ (PKCS#8)"):
        algorithm = info["private_key_algorithm"]
        alg = by_key_oid(algorithm["algorithm"].dotted)
        if alg is ECDSA_P256:
            return KeySpec("ecdsa-p256", P256), _ecdsa_private_from_pkcs8(bytes(der))
        spec = KeySpec(alg.family, _gost_curve_from_parameters(alg, algorithm["parameters"]))
        raw = info["private_key"].native
    private = _gost_scalar(raw, alg.private_key_size)
    try:
        _check_gost_private(spec, private)
    except InvalidInput as exc:  # a scalar outside the curve's range: the file is what is wrong
        raise ParseError(str(exc)) from None
    return spec, private


def _gost_scalar(raw: bytes, size: int) -> bytes:
    if len(raw) == size:
        return raw
    if raw[:1] == b"\x04":
        inner = _asn1.load(core.OctetString, raw, "закрытый ключ ГОСТ").native
        if isinstance(inner, bytes) and len(inner) == size:
            return inner
    elif raw[:1] == b"\x02":
        value = _asn1.load(core.Integer, raw, "закрытый ключ ГОСТ").native
        if isinstance(value, int) and 0 < value < 1 << (8 * size):
            return value.to_bytes(size, "little")
    raise ParseError(
        "закрытый ключ ГОСТ: неподдерживаемая форма (ожидался скаляр, OCTET STRING или INTEGER;"
        " маскированные ключи не поддерживаются)"
    )


def _check_gost_private(spec: KeySpec, private: bytes) -> None:
    from bankkeys.gost import GostError, gost3410, params

    try:
        gost3410.public_key(params.get_curve(spec.curve), private)
    except GostError as exc:
        raise InvalidInput(f"закрытый ключ ГОСТ: {exc}") from None


def _ecdsa_private(private: bytes) -> ec.EllipticCurvePrivateKey:
    value = int.from_bytes(private, "big")
    try:
        return ec.derive_private_key(value, ec.SECP256R1())
    except ValueError:
        raise InvalidInput("закрытый ключ ECDSA вне диапазона [1, n-1]") from None


def _ecdsa_private_from_pkcs8(der: bytes) -> bytes:
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError, _CryptoUnsupported) as exc:
        raise ParseError(f"закрытый ключ ECDSA (PKCS#8): {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise UnsupportedAlgorithm("ECDSA поддерживается только на кривой P-256")
    return key.private_numbers().private_value.to_bytes(32, "big")


# --- PEM -----------------------------------------------------------------------------------


def pem_encode(label: str, der: bytes) -> str:
    """PEM text (``-----BEGIN {label}-----``) of DER bytes."""
    text = pem.armor(label, bytes(der))
    assert isinstance(text, bytes)
    return text.decode("ascii")


def pem_decode(text: str | bytes, label: str | None = None) -> bytes:
    """DER bytes of the first PEM block; ``label`` (e.g. ``"CERTIFICATE"``) is checked if given."""
    data = text.encode("ascii", "replace") if isinstance(text, str) else bytes(text)
    try:
        found, _headers, der = pem.unarmor(data)
    except (ValueError, TypeError) as exc:
        raise ParseError(f"PEM: {exc}") from None
    if label is not None and found != label:
        raise ParseError(f"PEM: ожидался блок {label!r}, найден {found!r}")
    assert isinstance(der, bytes)
    return der


def is_pem(data: bytes | str) -> bool:
    """True if the data looks like PEM text rather than DER."""
    head = data[:64] if isinstance(data, str) else data[:64].decode("latin-1")
    return "-----BEGIN " in head


def private_key_to_pem(spec: KeySpec, private: bytes) -> str:
    """``PRIVATE KEY`` PEM of an unencrypted PKCS#8 key (what ``openssl -inkey`` reads)."""
    return pem_encode("PRIVATE KEY", encode_private_key(spec, private))


def private_key_from_pem(text: str | bytes) -> tuple[KeySpec, bytes]:
    """Spec and raw scalar of a ``PRIVATE KEY`` PEM block."""
    return decode_private_key(pem_decode(text, "PRIVATE KEY"))


__all__ = [
    "check_public_key",
    "decode_private_key",
    "decode_public_key_info",
    "encode_private_key",
    "encode_public_key_info",
    "is_pem",
    "pem_decode",
    "pem_encode",
    "private_key_from_pem",
    "private_key_to_pem",
    "public_key_from_asn1",
]
