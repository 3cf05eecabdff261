"""Reading X.509 certificates (RFC 5280) and PKCS#10 requests (RFC 2986) straight from DER.

The bank reads a certificate and a request on every re-key, so this does not go through
asn1crypto's object trees: the framing of the whole input is checked first in C
(:func:`_der_read.check`), then each field is read where it lies, checked as X.690 DER demands
(minimal INTEGERs, BOOLEAN 00/FF, DEFAULT values never encoded, no unused bits in a signature,
times in their DER form). The values are what the schema gives them — the same strings, times
and sets asn1crypto gives for the same bytes, which the tests hold it to.

Parts that no bank certificate carries and nobody here reads (extensions outside the table below
that asn1crypto knows, policy qualifiers, exotic GeneralName forms, other request attributes) are
still checked, by asn1crypto, on just their own bytes: refused as before, without being rewritten.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from asn1crypto._iri import uri_to_iri

from bankkeys.pki import _asn1
from bankkeys.pki import _der_read as r
from bankkeys.pki._asn1 import csr, x509
from bankkeys.pki.errors import ParseError
from bankkeys.pki.keys import decode_public_key_info
from bankkeys.pki.names import attributes_of, email_text, name_of
from bankkeys.pki.signer import KeySpec
from bankkeys.pki.x509_records import (
    KEY_USAGE_BITS,
    KNOWN_EXTENSIONS,
    Certificate,
    CertificationRequest,
    IssuerSignTool,
)

_VERSION_TAG: Final = r.context(0, constructed=True)
_ISSUER_UID_TAG: Final = r.context(1, constructed=False)
_SUBJECT_UID_TAG: Final = r.context(2, constructed=False)
_EXTENSIONS_TAG: Final = r.context(3, constructed=True)
_ATTRIBUTES_TAG: Final = r.context(0, constructed=True)

_OCSP: Final = "1.3.6.1.5.5.7.48.1"
_CA_ISSUERS: Final = "1.3.6.1.5.5.7.48.2"
_EXTENSION_REQUEST: Final = "1.2.840.113549.1.9.14"
_UTF8: Final = frozenset({r.UTF8_STRING})


@dataclass(frozen=True)
class Extensions:
    """What the extensions say, in the fields of Certificate (and CertificationRequest)."""

    is_ca: bool
    path_length: int | None
    has_basic_constraints: bool
    key_usage: frozenset[str] | None
    extended_key_usage: tuple[str, ...] | None
    subject_key_id: bytes | None
    authority_key_id: bytes | None
    policies: tuple[str, ...]
    crl_urls: tuple[str, ...]
    ocsp_urls: tuple[str, ...]
    ca_issuer_urls: tuple[str, ...]
    subject_sign_tool: str | None
    issuer_sign_tool: tuple[str, str, str, str] | None
    private_key_usage_period: tuple[datetime | None, datetime | None] | None
    alt_emails: tuple[str, ...]
    critical: frozenset[str]
    present: frozenset[str]


# --- the signed envelope ---------------------------------------------------------------------


def _signed(der: bytes, what: str) -> tuple[r.Tlv, str, bytes]:
    """SEQUENCE { to-be-signed, AlgorithmIdentifier, BIT STRING }: the first, the algorithm's
    OID and the signature."""
    r.check(der, what)
    top = r.read(der, 0, len(der), what)
    parts = r.children(der, r.expect(top, r.SEQUENCE, what), what)
    if len(parts) != 3:
        raise ParseError(
            f"{what}: ожидались 3 поля (тело, алгоритм, подпись), найдено {len(parts)}"
        )
    body = r.expect(parts[0], r.SEQUENCE, what)
    return body, _algorithm(der, parts[1], what), r.bit_string(der, parts[2], what)


def _algorithm(der: bytes, tlv: r.Tlv, what: str) -> str:
    """A signature AlgorithmIdentifier's OID; parameters absent or NULL (RFC 9215, RFC 5758)."""
    parts = r.children(der, r.expect(tlv, r.SEQUENCE, what), what)
    if not 1 <= len(parts) <= 2:
        raise ParseError(f"{what}: повреждённый AlgorithmIdentifier")
    if len(parts) == 2 and (parts[1].tag != r.NULL or parts[1].body != parts[1].end):
        raise ParseError(f"{what}: у алгоритма подписи неожиданные параметры")
    return r.oid(der, parts[0], what)


def _public_key(der: bytes, tlv: r.Tlv, what: str) -> tuple[KeySpec, bytes, bytes]:
    info = r.encoding(der, r.expect(tlv, r.SEQUENCE, what))
    spec, public = decode_public_key_info(info)  # validates the key (curve, subgroup)
    return spec, public, info


# --- certificates ----------------------------------------------------------------------------


def read_certificate(der: bytes) -> Certificate:
    """Every field of a certificate; any defect is a ParseError. The signature is not checked."""
    what = "сертификат"
    tbs, sig_oid, signature = _signed(der, what)
    fields = r.children(der, tbs, what)
    version = 1
    if fields and fields[0].tag == _VERSION_TAG:
        inner = r.children(der, fields.pop(0), what)
        if len(inner) != 1:
            raise ParseError(f"{what}: повреждённое поле версии")
        number = r.integer(der, inner[0], what)
        if number == 0:
            raise ParseError(f"{what}: версия v1 (по умолчанию) не записывается в DER")
        if number not in (1, 2):
            raise ParseError(f"{what}: неизвестная версия {number + 1}")
        version = number + 1
    if len(fields) < 6:
        raise ParseError(f"{what}: неполное тело сертификата")
    serial = r.integer(der, fields[0], what)
    if _algorithm(der, fields[1], what) != sig_oid:
        raise ParseError(f"{what}: алгоритм подписи в теле и снаружи различается")
    issuer = r.expect(fields[2], r.SEQUENCE, what)
    validity = r.children(der, r.expect(fields[3], r.SEQUENCE, what), what)
    if len(validity) != 2:
        raise ParseError(f"{what}: повреждённый срок действия")
    subject = r.expect(fields[4], r.SEQUENCE, what)
    spec, public, info = _public_key(der, fields[5], what)
    rest = fields[6:]
    for tag in (_ISSUER_UID_TAG, _SUBJECT_UID_TAG):
        if rest and rest[0].tag == tag:
            _unique_id(der, rest.pop(0), what)
    extensions: list[r.Tlv] = []
    if rest and rest[0].tag == _EXTENSIONS_TAG:
        wrapped = r.children(der, rest.pop(0), what)
        if len(wrapped) != 1:
            raise ParseError(f"{what}: повреждённое поле расширений")
        extensions = r.children(der, r.expect(wrapped[0], r.SEQUENCE, what), what)
    if rest:
        raise ParseError(f"{what}: лишние поля в теле сертификата")
    ext = read_extensions(der, extensions, what)
    return Certificate(
        der=der,
        version=version,
        serial=serial,
        signature_algorithm_oid=sig_oid,
        issuer=name_of(der, issuer),
        subject=name_of(der, subject),
        not_before=r.time(der, validity[0], what),
        not_after=r.time(der, validity[1], what),
        key_spec=spec,
        public_key=public,
        public_key_info=info,
        is_ca=ext.is_ca,
        path_length=ext.path_length,
        has_basic_constraints=ext.has_basic_constraints,
        key_usage=ext.key_usage,
        extended_key_usage=ext.extended_key_usage,
        subject_key_id=ext.subject_key_id,
        authority_key_id=ext.authority_key_id,
        policies=ext.policies,
        crl_urls=ext.crl_urls,
        ocsp_urls=ext.ocsp_urls,
        ca_issuer_urls=ext.ca_issuer_urls,
        subject_sign_tool=ext.subject_sign_tool,
        issuer_sign_tool=IssuerSignTool(*ext.issuer_sign_tool) if ext.issuer_sign_tool else None,
        private_key_usage_period=ext.private_key_usage_period,
        alt_emails=ext.alt_emails,
        critical_extensions=ext.critical,
        unknown_critical_extensions=ext.critical - KNOWN_EXTENSIONS,
        tbs=r.encoding(der, tbs),
        signature=signature,
        issuer_der=r.encoding(der, issuer),
        subject_der=r.encoding(der, subject),
    )


def _unique_id(der: bytes, tlv: r.Tlv, what: str) -> None:
    # [1]/[2] IMPLICIT BIT STRING: read by nobody, still a well-formed BIT STRING.
    body = r.contents(der, tlv)
    if not body or body[0] > 7 or (body[0] and len(body) == 1):
        raise ParseError(f"{what}: повреждённый уникальный идентификатор")


# --- requests --------------------------------------------------------------------------------


def read_request(der: bytes) -> CertificationRequest:
    """Every field of a PKCS#10 request; any defect is a ParseError. The signature is not
    checked."""
    what = "запрос на сертификат (PKCS#10)"
    info, sig_oid, signature = _signed(der, what)
    fields = r.children(der, info, what)
    if not 3 <= len(fields) <= 4:
        raise ParseError(f"{what}: повреждённый CertificationRequestInfo")
    if r.integer(der, fields[0], what) != 0:
        raise ParseError(f"{what}: неизвестная версия")
    subject = r.expect(fields[1], r.SEQUENCE, what)
    spec, public, key_info = _public_key(der, fields[2], what)
    requested: list[r.Tlv] = []
    if len(fields) == 4:
        for attribute in r.children(der, r.expect(fields[3], _ATTRIBUTES_TAG, what), what):
            requested += _attribute(der, attribute, what)
    ext = read_extensions(der, requested, what)
    if ext.issuer_sign_tool is not None:
        raise ParseError(f"{what}: issuerSignTool в запросе недопустим")
    return CertificationRequest(
        der=der,
        subject=name_of(der, subject),
        key_spec=spec,
        public_key=public,
        public_key_info=key_info,
        signature_algorithm_oid=sig_oid,
        key_usage=ext.key_usage,
        extended_key_usage=ext.extended_key_usage,
        subject_sign_tool=ext.subject_sign_tool,
        alt_emails=ext.alt_emails,
        policies=ext.policies,
        requested_extensions=ext.present,
        tbs=r.encoding(der, info),
        signature=signature,
    )


def _attribute(der: bytes, tlv: r.Tlv, what: str) -> list[r.Tlv]:
    """The extensions an attribute asks for (extensionRequest, PKCS#9); other attributes are
    checked and left."""
    parts = r.children(der, r.expect(tlv, r.SEQUENCE, what), what)
    if len(parts) != 2:
        raise ParseError(f"{what}: повреждённый атрибут запроса")
    kind = r.oid(der, parts[0], what)
    values = r.children(der, r.expect(parts[1], r.SET, what), what)
    if kind != _EXTENSION_REQUEST:
        # Nobody here reads them: checked by asn1crypto, which knows the PKCS#9 and Microsoft
        # ones and refuses values of a type it does not know, as parse_request always has.
        _asn1.load(csr.CRIAttribute, r.encoding(der, tlv), what)
        return []
    if len(values) != 1:
        raise ParseError(f"{what}: extensionRequest должен иметь одно значение")
    return r.children(der, r.expect(values[0], r.SEQUENCE, what), what)


# --- extensions ------------------------------------------------------------------------------


def read_extensions(der: bytes, items: list[r.Tlv], what: str) -> Extensions:
    """The Extension values at ``items``: each extension at most once, criticality as DER
    writes it (absent when FALSE), and each value read by its OID."""
    values: dict[str, Any] = {}
    critical: set[str] = set()
    for item in items:
        parts = r.children(der, r.expect(item, r.SEQUENCE, what), what)
        if not 2 <= len(parts) <= 3:
            raise ParseError(f"{what}: повреждённое расширение")
        oid = r.oid(der, parts[0], what)
        if oid in values:
            raise ParseError(f"{what}: расширение {oid} повторяется")
        if len(parts) == 3:
            if not r.boolean(der, parts[1], what):
                raise ParseError(f"{what}: расширение {oid}: critical FALSE не записывается в DER")
            critical.add(oid)
        values[oid] = _extension_value(oid, r.octet_string(der, parts[-1], what), what)
    basic = values.get("2.5.29.19")
    aia: tuple[tuple[str, str | None], ...] = values.get("1.3.6.1.5.5.7.1.1", ())
    return Extensions(
        is_ca=bool(basic and basic[0]),
        path_length=basic[1] if basic else None,
        has_basic_constraints=basic is not None,
        key_usage=values.get("2.5.29.15"),
        extended_key_usage=values.get("2.5.29.37"),
        subject_key_id=values.get("2.5.29.14"),
        authority_key_id=values.get("2.5.29.35"),
        policies=values.get("2.5.29.32", ()),
        crl_urls=values.get("2.5.29.31", ()),
        ocsp_urls=tuple(url for method, url in aia if method == _OCSP and url is not None),
        ca_issuer_urls=tuple(
            url for method, url in aia if method == _CA_ISSUERS and url is not None
        ),
        subject_sign_tool=values.get(_asn1.SUBJECT_SIGN_TOOL),
        issuer_sign_tool=values.get(_asn1.ISSUER_SIGN_TOOL),
        private_key_usage_period=values.get("2.5.29.16"),
        alt_emails=tuple(
            name for name in values.get("2.5.29.17", ()) if name is not None and "@" in name
        ),
        critical=frozenset(critical),
        present=frozenset(values),
    )


@functools.lru_cache(maxsize=4096)
def _extension_value(oid: str, value: bytes, what: str) -> Any:
    # Most values repeat from certificate to certificate (the CA's key identifier, policies,
    # URLs): each distinct one is read once. Values are immutable.
    what = f"{what}: расширение {oid}"
    r.check(value, what)  # an extnValue holds exactly one DER value (X.509), framed right
    tlv = r.read(value, 0, len(value), what)
    reader = _READERS.get(oid)
    if reader is not None:
        return reader(value, tlv, what)
    spec = x509.Extension._oid_specs.get(x509.ExtensionId._map.get(oid))
    if spec is not None:  # a type asn1crypto knows (nameConstraints...): checked as it checks it
        _asn1.load(spec, value, what)
    elif tlv.tag == r.HIGH_TAG or tlv.tag & 0x1F in (0, 14, 15):
        # An unknown extension's value was always read as a generic ASN.1 value, and refused
        # when its tag number (of any class) names no universal type: so it still is.
        raise ParseError(f"{what}: значение с неизвестным тегом")
    return None


def _basic_constraints(der: bytes, tlv: r.Tlv, what: str) -> tuple[bool, int | None]:
    parts = r.children(der, r.expect(tlv, r.SEQUENCE, what), what)
    ca = False
    if parts and parts[0].tag == r.BOOLEAN:
        if not r.boolean(der, parts.pop(0), what):
            raise ParseError(f"{what}: cA FALSE не записывается в DER")
        ca = True
    path_length = r.integer(der, parts.pop(0), what) if parts else None
    if parts:
        raise ParseError(f"{what}: лишние поля")
    return ca, path_length


def _key_usage(der: bytes, tlv: r.Tlv, what: str) -> frozenset[str]:
    bits = r.set_bits(der, tlv, what)
    if bits and bits[-1] >= len(KEY_USAGE_BITS):
        raise ParseError(f"{what}: неизвестный бит назначения ключа {bits[-1]}")
    return frozenset(KEY_USAGE_BITS[bit] for bit in bits)


def _oids(der: bytes, tlv: r.Tlv, what: str) -> tuple[str, ...]:
    return tuple(r.oid(der, item, what) for item in r.children(der, _sequence(tlv, what), what))


def _key_id(der: bytes, tlv: r.Tlv, what: str) -> bytes:
    return r.octet_string(der, tlv, what)


def _authority_key_id(der: bytes, tlv: r.Tlv, what: str) -> bytes | None:
    # { [0] keyIdentifier, [1] authorityCertIssuer, [2] authorityCertSerialNumber }, all optional.
    parts = r.children(der, _sequence(tlv, what), what)
    key_id = None
    if parts and parts[0].tag == r.context(0, constructed=False):
        key_id = r.contents(der, parts.pop(0))
    if parts and parts[0].tag == r.context(1, constructed=True):
        _general_names(der, parts.pop(0), what)
    if parts and parts[0].tag == r.context(2, constructed=False):
        r.integer(der, parts.pop(0), what, tag=r.context(2, constructed=False))
    if parts:
        raise ParseError(f"{what}: повреждённый authorityKeyIdentifier")
    return key_id


def _policies(der: bytes, tlv: r.Tlv, what: str) -> tuple[str, ...]:
    result = []
    for info in r.children(der, _sequence(tlv, what), what):
        parts = r.children(der, _sequence(info, what), what)
        if not 1 <= len(parts) <= 2:
            raise ParseError(f"{what}: повреждённый PolicyInformation")
        result.append(r.oid(der, parts[0], what))
        if len(parts) == 2:  # policyQualifiers: nobody here reads them
            _asn1.load(x509.PolicyInformation, r.encoding(der, info), what)
    return tuple(result)


def _crl_urls(der: bytes, tlv: r.Tlv, what: str) -> tuple[str, ...]:
    """The string names of every DistributionPoint's fullName."""
    full_name = r.context(0, constructed=True)
    result: list[str] = []
    for point in r.children(der, _sequence(tlv, what), what):
        parts = r.children(der, _sequence(point, what), what)
        if len(parts) == 1 and parts[0].tag == full_name:
            inner = r.children(der, parts[0], what)
            if len(inner) == 1 and inner[0].tag == full_name:
                result += (n for n in _general_names(der, inner[0], what) if n is not None)
                continue
        # reasons, cRLIssuer, a name relative to the issuer: rare, read by asn1crypto.
        with _asn1.guarded(what):
            native = _asn1.load(x509.DistributionPoint, r.encoding(der, point), what).native
            names = native["distribution_point"]
            if isinstance(names, list):
                result += (n for n in names if isinstance(n, str))
    return tuple(result)


def _access(der: bytes, tlv: r.Tlv, what: str) -> tuple[tuple[str, str | None], ...]:
    """AccessDescriptions: (method OID, location if a string)."""
    result = []
    for item in r.children(der, _sequence(tlv, what), what):
        parts = r.children(der, _sequence(item, what), what)
        if len(parts) != 2:
            raise ParseError(f"{what}: повреждённый AccessDescription")
        result.append((r.oid(der, parts[0], what), _general_name(der, parts[1], what)))
    return tuple(result)


def _alt_names(der: bytes, tlv: r.Tlv, what: str) -> tuple[str | None, ...]:
    return tuple(_general_names(der, _sequence(tlv, what), what))


def _utf8(der: bytes, tlv: r.Tlv, what: str) -> str:
    return r.text(der, tlv, _UTF8, what)


def _issuer_sign_tool(der: bytes, tlv: r.Tlv, what: str) -> tuple[str, str, str, str]:
    parts = r.children(der, _sequence(tlv, what), what)
    if len(parts) != 4:
        raise ParseError(f"{what}: ожидались 4 строки, найдено {len(parts)}")
    texts = [_utf8(der, part, what) for part in parts]
    return texts[0], texts[1], texts[2], texts[3]


def _private_key_usage_period(
    der: bytes, tlv: r.Tlv, what: str
) -> tuple[datetime | None, datetime | None]:
    parts = r.children(der, _sequence(tlv, what), what)
    moments: list[datetime | None] = []
    for number in (0, 1):  # [0] notBefore, [1] notAfter: IMPLICIT GeneralizedTime, optional
        if parts and parts[0].tag == r.context(number, constructed=False):
            moments.append(r.time(der, parts.pop(0), what, generalized=True))
        else:
            moments.append(None)
    if parts:
        raise ParseError(f"{what}: повреждённый privateKeyUsagePeriod")
    return moments[0], moments[1]


def _identification_kind(der: bytes, tlv: r.Tlv, what: str) -> int:
    return r.integer(der, tlv, what)


def _sequence(tlv: r.Tlv, what: str) -> r.Tlv:
    return r.expect(tlv, r.SEQUENCE, what)


_READERS: Final[dict[str, Callable[[bytes, r.Tlv, str], Any]]] = {
    "2.5.29.14": _key_id,
    "2.5.29.15": _key_usage,
    "2.5.29.16": _private_key_usage_period,
    "2.5.29.17": _alt_names,
    "2.5.29.19": _basic_constraints,
    "2.5.29.31": _crl_urls,
    "2.5.29.32": _policies,
    "2.5.29.35": _authority_key_id,
    "2.5.29.37": _oids,
    "1.3.6.1.5.5.7.1.1": _access,
    _asn1.SUBJECT_SIGN_TOOL: _utf8,
    _asn1.ISSUER_SIGN_TOOL: _issuer_sign_tool,
    _asn1.IDENTIFICATION_KIND: _identification_kind,
}


# --- GeneralName -----------------------------------------------------------------------------

_RFC822_NAME: Final = r.context(1, constructed=False)
_DNS_NAME: Final = r.context(2, constructed=False)
_URI: Final = r.context(6, constructed=False)


def _general_names(der: bytes, tlv: r.Tlv, what: str) -> list[str | None]:
    names = r.children(der, tlv, what)
    return [_general_name(der, name, what) for name in names]


def _general_name(der: bytes, tlv: r.Tlv, what: str) -> str | None:
    """A GeneralName as text (e-mail, DNS name, URI as an IRI, IP address, registered OID), or
    None for the structured forms (a directory name...)."""
    raw = r.contents(der, tlv)
    if tlv.tag == _RFC822_NAME:
        return email_text(raw, what)
    try:
        if tlv.tag == _DNS_NAME:
            return raw.decode("idna")
        if tlv.tag == _URI:
            return _iri(raw)
    except (UnicodeError, ValueError):
        raise ParseError(f"{what}: некорректное имя GeneralName {raw!r}") from None
    if tlv.tag == r.context(4, constructed=True):  # directoryName: [4] EXPLICIT Name
        inner = r.children(der, tlv, what)
        if len(inner) != 1:
            raise ParseError(f"{what}: повреждённый directoryName")
        attributes_of(der, inner[0])
        return None
    # otherName, x400Address, ediPartyName, iPAddress, registeredID: rare, read by asn1crypto.
    with _asn1.guarded(what):
        native = _asn1.load(x509.GeneralName, r.encoding(der, tlv), what).native
    return native if isinstance(native, str) else None


@functools.lru_cache(maxsize=1024)
def _iri(raw: bytes) -> str:
    # A URI reads as the IRI it stands for (host in Unicode, %-escapes of UTF-8 decoded), as
    # asn1crypto reads it, so a URL compares the same whichever reader saw it.
    return str(uri_to_iri(raw))


__all__ = [
    "Extensions",
    "read_certificate",
    "read_extensions",
    "read_request",
]
