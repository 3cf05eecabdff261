"""The algorithm registry: the one place that maps OIDs to key, signature and digest algorithms.

Families: GOST R 34.10-2012 with 256- and 512-bit keys (every parameter set of the GOST core, under
its own OID) with Streebog, and ECDSA on P-256 with SHA-256 for PKCS#11 devices without GOST.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from bankkeys.pki import _asn1 as oid
from bankkeys.pki.errors import InvalidInput, UnsupportedAlgorithm
from bankkeys.pki.signer import KeyFamily, KeySpec


@dataclass(frozen=True)
class Algorithm:
    """One key family with the signature and digest that go with it."""

    family: KeyFamily
    key_oid: str
    signature_oid: str
    digest_oid: str
    digest_name: str  # "streebog256" | "streebog512" | "sha256"
    digest_size: int
    public_key_size: int  # raw X||Y for GOST, uncompressed 04||X||Y for ECDSA
    private_key_size: int


@dataclass(frozen=True)
class GostParamSet:
    """A GOST R 34.10-2012 curve as it appears on the wire: its OID and the core's name for it."""

    oid: str
    curve: str  # canonical name for bankkeys.gost.params.get_curve
    bits: int  # 256 | 512
    cryptopro: bool  # a CryptoPro (RFC 4357) OID: digestParamSet is written for these


GOST_256: Final = Algorithm(
    "gost2012-256", oid.GOST_256_KEY, oid.GOST_256_SIGNATURE, oid.STREEBOG_256, "streebog256",
    32, 64, 32,
)  # fmt: skip
GOST_512: Final = Algorithm(
    "gost2012-512", oid.GOST_512_KEY, oid.GOST_512_SIGNATURE, oid.STREEBOG_512, "streebog512",
    64, 128, 64,
)  # fmt: skip
ECDSA_P256: Final = Algorithm(
    "ecdsa-p256", oid.EC_PUBLIC_KEY, oid.ECDSA_SHA256, oid.SHA256, "sha256", 32, 65, 32
)

ALGORITHMS: Final[Mapping[KeyFamily, Algorithm]] = MappingProxyType(
    {a.family: a for a in (GOST_256, GOST_512, ECDSA_P256)}
)

_PARAM_SETS: Final = (
    GostParamSet("1.2.643.7.1.2.1.1.1", "tc26-256-A", 256, False),
    GostParamSet("1.2.643.7.1.2.1.1.2", "tc26-256-B", 256, False),
    GostParamSet("1.2.643.7.1.2.1.1.3", "tc26-256-C", 256, False),
    GostParamSet("1.2.643.7.1.2.1.1.4", "tc26-256-D", 256, False),
    GostParamSet("1.2.643.2.2.35.0", "cryptopro-test", 256, True),
    GostParamSet("1.2.643.2.2.35.1", "cryptopro-A", 256, True),
    GostParamSet("1.2.643.2.2.35.2", "cryptopro-B", 256, True),
    GostParamSet("1.2.643.2.2.35.3", "cryptopro-C", 256, True),
    GostParamSet("1.2.643.2.2.36.0", "cryptopro-XchA", 256, True),
    GostParamSet("1.2.643.2.2.36.1", "cryptopro-XchB", 256, True),
    GostParamSet("1.2.643.7.1.2.1.2.0", "tc26-512-test", 512, False),
    GostParamSet("1.2.643.7.1.2.1.2.1", "tc26-512-A", 512, False),
    GostParamSet("1.2.643.7.1.2.1.2.2", "tc26-512-B", 512, False),
    GostParamSet("1.2.643.7.1.2.1.2.3", "tc26-512-C", 512, False),
)
PARAM_SETS_BY_OID: Final[Mapping[str, GostParamSet]] = MappingProxyType(
    {p.oid: p for p in _PARAM_SETS}
)
PARAM_SETS_BY_NAME: Final[Mapping[str, GostParamSet]] = MappingProxyType(
    {p.curve: p for p in _PARAM_SETS}
)

P256: Final = "P-256"


def algorithm(family: KeyFamily) -> Algorithm:
    """The algorithm of a key family."""
    try:
        return ALGORITHMS[family]
    except KeyError:
        raise UnsupportedAlgorithm(f"неизвестный тип ключа: {family!r}") from None


def by_key_oid(key_oid: str) -> Algorithm:
    """The algorithm of a SubjectPublicKeyInfo algorithm OID (for EC: any curve, check it apart)."""
    for alg in ALGORITHMS.values():
        if alg.key_oid == key_oid:
            return alg
    raise UnsupportedAlgorithm(f"неподдерживаемый алгоритм ключа {key_oid}")


def by_signature_oid(signature_oid: str) -> Algorithm:
    """The algorithm of a signature OID.

    Accepts the signature-with-digest OIDs and, for GOST, the bare public-key OID that
    gost-engine writes as CMS SignerInfo.signatureAlgorithm (RFC 9337 permits both).
    """
    for alg in ALGORITHMS.values():
        if signature_oid == alg.signature_oid or (
            signature_oid == alg.key_oid and alg.family != "ecdsa-p256"
        ):
            return alg
    raise UnsupportedAlgorithm(f"неподдерживаемый алгоритм подписи {signature_oid}")


def by_digest_oid(digest_oid: str) -> Algorithm:
    """The (first) algorithm using this digest OID."""
    for alg in ALGORITHMS.values():
        if alg.digest_oid == digest_oid:
            return alg
    raise UnsupportedAlgorithm(f"неподдерживаемый алгоритм хэширования {digest_oid}")


def param_set(curve: str) -> GostParamSet:
    """The GOST parameter set for a canonical curve name."""
    try:
        return PARAM_SETS_BY_NAME[curve]
    except KeyError:
        raise UnsupportedAlgorithm(f"неизвестный набор параметров ГОСТ: {curve!r}") from None


def param_set_by_oid(curve_oid: str) -> GostParamSet:
    """The GOST parameter set for a publicKeyParamSet OID."""
    try:
        return PARAM_SETS_BY_OID[curve_oid]
    except KeyError:
        raise UnsupportedAlgorithm(f"неизвестный набор параметров ГОСТ {curve_oid}") from None


def check_key_spec(spec: KeySpec) -> Algorithm:
    """Validate a KeySpec (family and curve agree) and return its algorithm."""
    alg = algorithm(spec.family)
    if alg.family == "ecdsa-p256":
        if spec.curve != P256:
            raise UnsupportedAlgorithm(
                f"ECDSA поддерживается только на кривой P-256, не {spec.curve!r}"
            )
        return alg
    params = param_set(spec.curve)
    if params.bits != alg.digest_size * 8:
        raise InvalidInput(f"кривая {spec.curve} не подходит для ключа {spec.family}")
    return alg


def digest(digest_name: str, data: bytes) -> bytes:
    """Hash ``data`` with a registry digest (Streebog bytes as ``openssl dgst`` prints them)."""
    if digest_name == "sha256":
        return hashlib.sha256(data).digest()
    if digest_name in ("streebog256", "streebog512"):
        from bankkeys.gost import streebog

        return streebog.new(digest_name, data).digest()
    raise UnsupportedAlgorithm(f"неподдерживаемый алгоритм хэширования {digest_name!r}")


def digest_by_oid(digest_oid: str, data: bytes) -> bytes:
    """Hash ``data`` with the digest named by its OID."""
    return digest(by_digest_oid(digest_oid).digest_name, data)
