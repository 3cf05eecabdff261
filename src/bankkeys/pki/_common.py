"""Pieces shared by certificates, requests and CRLs: times, serials, key identifiers, signing."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

from bankkeys.pki import _asn1, _der_read
from bankkeys.pki import _der_write as _der
from bankkeys.pki._asn1 import algos, x509
from bankkeys.pki.algorithms import check_key_spec
from bankkeys.pki.errors import InvalidInput, ParseError
from bankkeys.pki.signer import KeySpec, Signer


def utc(moment: datetime) -> datetime:
    """An aware UTC datetime without microseconds (DER times carry whole seconds)."""
    if moment.tzinfo is None:
        raise InvalidInput("время должно быть с часовым поясом (aware datetime)")
    return moment.astimezone(UTC).replace(microsecond=0)


def x509_time(moment: datetime, choice: Any = x509.Time) -> Any:
    """UTCTime through 2049, GeneralizedTime after, as the given Time choice class."""
    moment = utc(moment)
    if moment < _der.UTC_TIME_END:  # RFC 5280 4.1.2.5
        return choice(name="utc_time", value=moment)
    # asn1crypto names the GeneralizedTime alternative differently in X.509 and CMS.
    return choice(name="general_time" if choice is x509.Time else "generalized_time", value=moment)


def random_serial() -> int:
    """A positive serial with 128 random bits (RFC 5280: at most 20 octets)."""
    return secrets.randbits(128) or 1


def check_serial(serial: int) -> int:
    if serial <= 0 or serial.bit_length() > 159:
        raise InvalidInput("серийный номер должен быть положительным и не длиннее 20 байт")
    return serial


def key_identifier(spki_der: bytes) -> bytes:
    """RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value."""
    if not isinstance(spki_der, bytes | bytearray | memoryview):
        raise ParseError(f"открытый ключ: ожидались байты DER, получено {type(spki_der).__name__}")
    return _key_identifier(bytes(spki_der))


@functools.lru_cache(maxsize=4096)
def _key_identifier(spki_der: bytes) -> bytes:
    # Pure function of the bytes; the CA computes it for the same keys again and again. Read with
    # the DER reader (framing checked all the way down): only the key's BIT STRING is needed, and
    # a new key's identifier is computed at every issuance.
    what = "открытый ключ"
    _der_read.check(spki_der, what)
    info = _der_read.read(spki_der, 0, len(spki_der), what)
    parts = _der_read.children(spki_der, _der_read.expect(info, _der_read.SEQUENCE, what), what)
    if len(parts) != 2 or parts[0].tag != _der_read.SEQUENCE or parts[1].tag != _der.BIT_STRING:
        raise ParseError(f"{what}: ожидалась структура SubjectPublicKeyInfo")
    bits = _der_read.contents(spki_der, parts[1])
    if bits[:1] != b"\x00":
        raise ParseError(f"{what}: ключ не записан целыми октетами BIT STRING")
    return hashlib.sha1(bits[1:], usedforsecurity=False).digest()


def signature_algorithm(signer: Signer) -> Any:
    """The AlgorithmIdentifier of the signer's signature, parameters absent (RFC 9215, 5758)."""
    alg = check_key_spec(signer.key_spec)
    return algos.SignedDigestAlgorithm({"algorithm": alg.signature_oid})


def signature_algorithm_der(signer: Signer) -> bytes:
    """DER of :func:`signature_algorithm`, written directly."""
    return _signature_algorithm_der(signer.key_spec)


@functools.lru_cache(maxsize=64)
def _signature_algorithm_der(spec: KeySpec) -> bytes:
    return _der.sequence(_der.oid(check_key_spec(spec).signature_oid))


def algorithm_oid(value: Any, what: str) -> str:
    """Dotted OID of a parsed AlgorithmIdentifier; GOST/ECDSA parameters must be absent or NULL."""
    with _asn1.guarded(what):
        params = value["parameters"]
        if params.native is not None:
            raise ParseError(f"{what}: у алгоритма подписи неожиданные параметры")
        oid = value["algorithm"].dotted
    assert isinstance(oid, str)
    return oid


def aware(value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise ParseError("ожидалось время")
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def extension(name: str, value: Any, critical: bool = False) -> Any:
    """An asn1crypto Extension by registered name."""
    return x509.Extension({"extn_id": name, "critical": critical, "extn_value": value})


def uri_der(url: str) -> bytes:
    """DER of the GeneralName ``[6] uniformResourceIdentifier`` (ASCII only, with a scheme)."""
    if not url.isascii() or ":" not in url:
        raise InvalidInput(f"некорректный URL: {url!r}")
    return _uri_der(url)


@functools.lru_cache(maxsize=256)
def _uri_der(url: str) -> bytes:
    # asn1crypto's URI normalises (lower-case host, percent-encoding); its contents are taken as
    # they are, so the bytes stay those asn1crypto wrote. The same few URLs (the CA's CRL and
    # OCSP addresses) go into every certificate, hence the cache.
    try:
        contents = x509.URI(url).contents
    except ValueError as exc:
        raise InvalidInput(f"некорректный URL: {url!r} ({exc})") from None
    return _der.implicit(6, _der.ia5_string(contents))
