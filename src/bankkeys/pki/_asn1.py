"""asn1crypto, taught GOST: OIDs, structures, and strict loading behind typed functions.

Importing this module registers (once, idempotently) the GOST R 34.10/34.11-2012 algorithm OIDs,
the RFC 9215 public-key parameters, the Russian qualified-certificate name attributes and
extensions with asn1crypto's OID maps. Every other module of :mod:`bankkeys.pki` reaches asn1crypto
through here so the registration is always in place.

asn1crypto is untyped; values from it are ``Any`` and stay inside this package's private helpers.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final, Literal

from asn1crypto import algos, cms, core, crl, csr, keys, tsp, x509

from bankkeys.pki import _der_write
from bankkeys.pki.errors import InvalidInput, ParseError, PkiError, UnsupportedAlgorithm

# --- OIDs (RFC 9215, RFC 9337, FNS/FSB qualified-certificate rules) --------------------------

GOST_256_KEY: Final = "1.2.643.7.1.1.1.1"
GOST_512_KEY: Final = "1.2.643.7.1.1.1.2"
GOST_256_SIGNATURE: Final = "1.2.643.7.1.1.3.2"
GOST_512_SIGNATURE: Final = "1.2.643.7.1.1.3.3"
STREEBOG_256: Final = "1.2.643.7.1.1.2.2"
STREEBOG_512: Final = "1.2.643.7.1.1.2.3"
EC_PUBLIC_KEY: Final = "1.2.840.10045.2.1"
P256_CURVE: Final = "1.2.840.10045.3.1.7"
ECDSA_SHA256: Final = "1.2.840.10045.4.3.2"
SHA256: Final = "2.16.840.1.101.3.4.2.1"

OGRN: Final = "1.2.643.100.1"
SNILS: Final = "1.2.643.100.3"
INNLE: Final = "1.2.643.100.4"
OGRNIP: Final = "1.2.643.100.5"
INN: Final = "1.2.643.3.131.1.1"

SUBJECT_SIGN_TOOL: Final = "1.2.643.100.111"
ISSUER_SIGN_TOOL: Final = "1.2.643.100.112"
IDENTIFICATION_KIND: Final = "1.2.643.100.114"
SIGNING_CERTIFICATE_V2: Final = "1.2.840.113549.1.9.16.2.47"


class GostPublicKeyParameters(core.Sequence):  # type: ignore[misc]
    """RFC 9215 GostR3410-2012-PublicKeyParameters (the 2001 form's third field accepted)."""

    _fields: ClassVar[list[Any]] = [
        ("public_key_param_set", core.ObjectIdentifier),
        ("digest_param_set", core.ObjectIdentifier, {"optional": True}),
        ("encryption_param_set", core.ObjectIdentifier, {"optional": True}),
    ]


class GostPrivateKeyInfo(core.Sequence):  # type: ignore[misc]
    """PKCS#8 PrivateKeyInfo with the privateKey left as raw octets.

    gost-engine puts the bare little-endian scalar there (not DER), so asn1crypto's own
    PrivateKeyInfo, which parses that field, cannot be used.
    """

    _fields: ClassVar[list[Any]] = [
        ("version", core.Integer),
        ("private_key_algorithm", keys.PublicKeyAlgorithm),
        ("private_key", core.OctetString),
        ("attributes", cms.CMSAttributes, {"implicit": 0, "optional": True}),
    ]


class IssuerSignTool(core.Sequence):  # type: ignore[misc]
    """Extension 1.2.643.100.112: the signing and CA tools and their conformity certificates."""

    _fields: ClassVar[list[Any]] = [
        ("sign_tool", core.UTF8String),
        ("ca_tool", core.UTF8String),
        ("sign_tool_cert", core.UTF8String),
        ("ca_tool_cert", core.UTF8String),
    ]


_GOST_KEY_NAMES: Final = {GOST_256_KEY: "gost2012_256", GOST_512_KEY: "gost2012_512"}


def _extend(cls: Any, mapping: dict[str, str]) -> None:
    # asn1crypto caches the name -> OID reverse map on first use: extend both, or names added
    # later fail to encode.
    cls._map.update(mapping)
    if cls._reverse_map is not None:
        cls._reverse_map.update({name: oid for oid, name in mapping.items()})


def _register() -> None:
    _extend(keys.PublicKeyAlgorithmId, _GOST_KEY_NAMES)
    for name in _GOST_KEY_NAMES.values():
        keys.PublicKeyAlgorithm._oid_specs[name] = GostPublicKeyParameters

    original_spec = keys.PublicKeyInfo._public_key_spec

    def public_key_spec(self: Any) -> Any:
        # The GOST key BIT STRING wraps a DER OCTET STRING holding X||Y (RFC 9215 section 4.3).
        if self["algorithm"]["algorithm"].native in _GOST_KEY_NAMES.values():
            return core.OctetString
        return original_spec(self)

    keys.PublicKeyInfo._spec_callbacks = {"public_key": public_key_spec}

    _extend(
        algos.SignedDigestAlgorithmId,
        {
            GOST_256_SIGNATURE: "gost2012_256_streebog256",
            GOST_512_SIGNATURE: "gost2012_512_streebog512",
            # CMS SignerInfo.signatureAlgorithm as gost-engine writes it (RFC 9337 allows both).
            **_GOST_KEY_NAMES,
        },
    )
    _extend(algos.DigestAlgorithmId, {STREEBOG_256: "streebog256", STREEBOG_512: "streebog512"})

    # RFC 5035 signingCertificateV2 (asn1crypto defines the structure in tsp, not the attribute).
    _extend(cms.CMSAttributeType, {SIGNING_CERTIFICATE_V2: "signing_certificate_v2"})
    cms.CMSAttribute._oid_specs["signing_certificate_v2"] = tsp.SetOfSigningCertificatesV2

    _extend(
        x509.NameType, {OGRN: "ogrn", SNILS: "snils", INNLE: "innle", OGRNIP: "ogrnip", INN: "inn"}
    )
    for name in ("ogrn", "snils", "innle", "ogrnip", "inn"):
        x509.NameTypeAndValue._oid_specs[name] = core.NumericString

    _extend(
        x509.ExtensionId,
        {
            SUBJECT_SIGN_TOOL: "subject_sign_tool",
            ISSUER_SIGN_TOOL: "issuer_sign_tool",
            IDENTIFICATION_KIND: "identification_kind",
        },
    )
    x509.Extension._oid_specs.update(
        {
            "subject_sign_tool": core.UTF8String,
            "issuer_sign_tool": IssuerSignTool,
            "identification_kind": core.Integer,
        }
    )


if GOST_256_KEY not in keys.PublicKeyAlgorithmId._map:
    _register()


# --- strict loading ------------------------------------------------------------------------

# What asn1crypto raises on malformed input: its own errors derive from these, and lazy parsing of
# nested fields surfaces as any of them.
_PARSE_FAILURES: Final = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    AttributeError,
    RecursionError,
    UnicodeError,
)


def load(spec: Any, der: bytes, what: str) -> Any:
    """Parse ``der`` as ``spec`` completely, refusing trailing bytes; any failure is ParseError.

    asn1crypto parses lazily, so the whole tree is walked (``.native``) here: a defect anywhere
    shows up now, as our error, rather than later as the library's.
    """
    if not isinstance(der, bytes | bytearray | memoryview):
        raise ParseError(f"{what}: ожидались байты DER, получено {type(der).__name__}")
    try:
        value = spec.load(bytes(der), strict=True)
        _ = value.native
    except _PARSE_FAILURES as exc:
        raise ParseError(f"{what}: повреждённая структура DER ({exc})") from exc
    return value


def guarded(what: str) -> Any:
    """Context manager for reading a loaded object: asn1crypto failures, unknown algorithms and
    out-of-range values met while reading all become ParseError (the input is what is wrong)."""
    return _Guard(what)


class _Guard:
    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Literal[False]:
        if isinstance(exc, PkiError) and not isinstance(exc, InvalidInput | UnsupportedAlgorithm):
            return False  # already ours (ParseError, SignatureInvalid...)
        if isinstance(exc, (InvalidInput, UnsupportedAlgorithm, *_PARSE_FAILURES)):
            raise ParseError(f"{self.what}: {exc}") from exc
        return False


def set_of_der(contents: bytes) -> bytes:
    """The DER of a SET OF whose (already DER) contents are ``contents``."""
    return _der_write.set_of_contents(contents)


def dump(value: Any) -> bytes:
    """DER bytes of an asn1crypto value."""
    der = value.dump()
    assert isinstance(der, bytes)
    return der


__all__ = [
    "algos",
    "cms",
    "core",
    "crl",
    "csr",
    "keys",
    "x509",
]
