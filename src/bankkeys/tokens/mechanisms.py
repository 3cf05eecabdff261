"""From a :class:`KeySpec` to PKCS#11 mechanisms and templates — pure, so it is testable anywhere.

GOST R 34.10-2012 keys on Rutoken use the TC26 vendor constants (Aktiv's ``rtpkcs11t.h``, the same
in OpenSC's ``pkcs11.h``); ECDSA P-256 uses the standard ones. Templates are keyed by the raw
``CKA_*`` numbers; the PKCS#11 backend turns them into python-pkcs11's types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asn1crypto.core import ObjectIdentifier

from bankkeys.pki.algorithms import Algorithm, check_key_spec, param_set, param_set_by_oid
from bankkeys.pki.errors import PkiError
from bankkeys.pki.signer import KeyFamily, KeySpec
from bankkeys.tokens.errors import UnsupportedKeySpec

# Standard PKCS#11 v2.40 numbers.
CKO_PUBLIC_KEY = 0x02
CKO_PRIVATE_KEY = 0x03
CKO_CERTIFICATE = 0x01
CKA_CLASS = 0x000
CKA_TOKEN = 0x001
CKA_PRIVATE = 0x002
CKA_LABEL = 0x003
CKA_VALUE = 0x011
CKA_KEY_TYPE = 0x100
CKA_ID = 0x102
CKA_SENSITIVE = 0x103
CKA_SIGN = 0x108
CKA_VERIFY = 0x10A
CKA_DERIVE = 0x10C
CKA_EXTRACTABLE = 0x162
CKA_EC_PARAMS = 0x180
CKA_EC_POINT = 0x181
CKK_EC = 0x03
CKM_EC_KEY_PAIR_GEN = 0x1040
CKM_ECDSA = 0x1041
CKM_ECDSA_SHA256 = 0x1044

# TC26 / Rutoken vendor numbers.
CKK_GOSTR3410 = 0x30
CKK_GOSTR3410_512 = 0xD4321003
CKA_GOSTR3410_PARAMS = 0x250
CKA_GOSTR3411_PARAMS = 0x251
CKM_GOSTR3410_KEY_PAIR_GEN = 0x1200
CKM_GOSTR3410 = 0x1201
CKM_GOSTR3410_512_KEY_PAIR_GEN = 0xD4321005
CKM_GOSTR3410_512 = 0xD4321006
CKM_GOSTR3410_WITH_GOSTR3411_12_256 = 0xD4321008
CKM_GOSTR3410_WITH_GOSTR3411_12_512 = 0xD4321009
CKM_GOSTR3411_12_256 = 0xD4321012
CKM_GOSTR3411_12_512 = 0xD4321013

VENDOR_KEY_TYPES = {"CKK_GOSTR3410_512": CKK_GOSTR3410_512}
VENDOR_MECHANISMS = {
    "CKM_GOSTR3410_512_KEY_PAIR_GEN": CKM_GOSTR3410_512_KEY_PAIR_GEN,
    "CKM_GOSTR3410_512": CKM_GOSTR3410_512,
    "CKM_GOSTR3410_WITH_GOSTR3411_12_256": CKM_GOSTR3410_WITH_GOSTR3411_12_256,
    "CKM_GOSTR3410_WITH_GOSTR3411_12_512": CKM_GOSTR3410_WITH_GOSTR3411_12_512,
    "CKM_GOSTR3411_12_256": CKM_GOSTR3411_12_256,
    "CKM_GOSTR3411_12_512": CKM_GOSTR3411_12_512,
}

P256_OID = "1.2.840.10045.3.1.7"

Template = dict[int, object]


def oid_der(dotted: str) -> bytes:
    """DER of an OBJECT IDENTIFIER, as CKA_EC_PARAMS and CKA_GOSTR341x_PARAMS carry it."""
    return bytes(ObjectIdentifier(dotted).dump())


@dataclass(frozen=True)
class KeyGenPlan:
    """Everything C_GenerateKeyPair and C_Sign need for one key family."""

    key_type: int
    mechanism: int
    public_template: Template = field(default_factory=dict)
    private_template: Template = field(default_factory=dict)
    sign_mechanism: int = 0  # hashes on the token
    sign_mechanism_param: bytes | None = None
    raw_sign_mechanism: int = 0  # signs a digest made outside


def _check(spec: KeySpec) -> Algorithm:
    try:
        return check_key_spec(spec)
    except PkiError as exc:
        raise UnsupportedKeySpec(f"Неподдерживаемый ключ: {exc}") from exc


def keygen_plan(spec: KeySpec, key_id: bytes, label: str) -> KeyGenPlan:
    """Mechanism and templates for a token-resident, non-exportable signing key pair."""
    common_public: Template = {
        CKA_CLASS: CKO_PUBLIC_KEY,
        CKA_TOKEN: True,
        CKA_PRIVATE: False,
        CKA_ID: key_id,
        CKA_LABEL: label,
        CKA_VERIFY: True,
    }
    common_private: Template = {
        CKA_CLASS: CKO_PRIVATE_KEY,
        CKA_TOKEN: True,
        CKA_PRIVATE: True,
        CKA_SENSITIVE: True,
        CKA_EXTRACTABLE: False,
        CKA_ID: key_id,
        CKA_LABEL: label,
        CKA_SIGN: True,
        CKA_DERIVE: False,
    }
    alg = _check(spec)
    if spec.family == "ecdsa-p256":
        return KeyGenPlan(
            key_type=CKK_EC,
            mechanism=CKM_EC_KEY_PAIR_GEN,
            public_template={
                **common_public,
                CKA_KEY_TYPE: CKK_EC,
                CKA_EC_PARAMS: oid_der(P256_OID),
            },
            private_template={**common_private, CKA_KEY_TYPE: CKK_EC},
            sign_mechanism=CKM_ECDSA_SHA256,
            raw_sign_mechanism=CKM_ECDSA,
        )
    if spec.family in ("gost2012-256", "gost2012-512"):
        short = spec.family == "gost2012-256"
        key_type = CKK_GOSTR3410 if short else CKK_GOSTR3410_512
        digest_params = oid_der(alg.digest_oid)
        gost_attrs: Template = {
            CKA_KEY_TYPE: key_type,
            CKA_GOSTR3410_PARAMS: oid_der(param_set(spec.curve).oid),
            CKA_GOSTR3411_PARAMS: digest_params,
        }
        return KeyGenPlan(
            key_type=key_type,
            mechanism=CKM_GOSTR3410_KEY_PAIR_GEN if short else CKM_GOSTR3410_512_KEY_PAIR_GEN,
            public_template={**common_public, **gost_attrs},
            private_template={**common_private, **gost_attrs},
            sign_mechanism=(
                CKM_GOSTR3410_WITH_GOSTR3411_12_256
                if short
                else CKM_GOSTR3410_WITH_GOSTR3411_12_512
            ),
            sign_mechanism_param=digest_params,
            raw_sign_mechanism=CKM_GOSTR3410 if short else CKM_GOSTR3410_512,
        )
    raise UnsupportedKeySpec(f"Алгоритм {spec.family} не поддерживается")


def spec_from_attributes(key_type: int, params: bytes | None) -> KeySpec:
    """The :class:`KeySpec` of a key on a token, from CKA_KEY_TYPE and its params attribute."""
    if params is None:
        raise UnsupportedKeySpec("У ключа на носителе нет параметров алгоритма")
    dotted = ObjectIdentifier.load(params).dotted
    if key_type == CKK_EC:
        if dotted != P256_OID:
            raise UnsupportedKeySpec(f"Кривая {dotted} не поддерживается")
        return KeySpec("ecdsa-p256", "P-256")
    if key_type in (CKK_GOSTR3410, CKK_GOSTR3410_512):
        family: KeyFamily = "gost2012-256" if key_type == CKK_GOSTR3410 else "gost2012-512"
        try:
            return KeySpec(family, param_set_by_oid(dotted).curve)
        except PkiError as exc:
            raise UnsupportedKeySpec(f"Неизвестный набор параметров ГОСТ: {dotted}") from exc
    raise UnsupportedKeySpec(f"Тип ключа 0x{key_type:x} не поддерживается")
