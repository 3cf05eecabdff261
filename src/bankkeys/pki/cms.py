"""CMS SignedData (RFC 5652; GOST per RFC 9337): sign through a Signer, verify against a given
certificate, and say who signed what and when.

GOST SignerInfo as gost-engine and the TC26 examples write it: digestAlgorithm = the Streebog OID
with NULL parameters, signatureAlgorithm = the public-key OID with NULL (the signature-with-digest
OID is accepted too). Signed attributes: contentType, messageDigest, signingTime and
signingCertificateV2 (hash of the signer's certificate with the key's own digest).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bankkeys.gost import gost3410
from bankkeys.gost.params import Curve, get_curve
from bankkeys.pki import _asn1, _der
from bankkeys.pki import _der_read as der_read
from bankkeys.pki._asn1 import SIGNING_CERTIFICATE_V2, algos, cms, core, x509
from bankkeys.pki._common import aware, utc, x509_time
from bankkeys.pki.algorithms import (
    ECDSA_P256,
    by_digest_oid,
    by_signature_oid,
    check_key_spec,
    digest,
)
from bankkeys.pki.certificates import Certificate, load_der, names_match, parse_certificate
from bankkeys.pki.errors import (
    InvalidInput,
    ParseError,
    PkiError,
    SignatureInvalid,
    UnsupportedAlgorithm,
)
from bankkeys.pki.keys import pem_encode
from bankkeys.pki.signer import Signer
from bankkeys.pki.verify import verify_with_key

DATA = "1.2.840.113549.1.7.1"
SIGNED_DATA = "1.2.840.113549.1.7.2"


@dataclass(frozen=True)
class SignerIdentifier:
    """Who a SignerInfo names: issuer and serial, or a subject key identifier."""

    issuer_der: bytes | None
    serial: int | None
    key_id: bytes | None

    def matches(self, cert: Certificate) -> bool:
        if self.key_id is not None:
            return cert.subject_key_id is not None and hmac.compare_digest(
                self.key_id, cert.subject_key_id
            )
        assert self.issuer_der is not None
        return self.serial == cert.serial and names_match(self.issuer_der, cert.issuer_der)


@dataclass(frozen=True)
class SignedData:
    """A parsed SignedData, nothing verified yet."""

    content_type: str
    content: bytes | None  # None: detached
    certificates: tuple[Certificate, ...]
    signers: tuple[SignerIdentifier, ...]


@dataclass(frozen=True)
class VerifiedSignature:
    """The result of a successful verification: who signed what and when."""

    signer: Certificate
    content: bytes
    content_type: str
    signing_time: datetime | None  # the signer's own claim (a signed attribute), not a timestamp
    digest_algorithm_oid: str
    signature_algorithm_oid: str
    message_digest: bytes
    has_signed_attributes: bool
    signing_certificate_checked: bool


# --- signing -------------------------------------------------------------------------------


def sign_cms(
    content: bytes,
    signer: Signer,
    certificate: Certificate,
    *,
    detached: bool = True,
    signing_time: datetime | None = None,
    extra_certificates: tuple[Certificate, ...] = (),
) -> bytes:
    """SignedData DER (in a ContentInfo) over ``content``, signed by ``signer`` whose
    certificate is ``certificate`` (it is embedded, with ``extra_certificates``)."""
    if certificate.public_key_info != signer.public_key_info:
        raise InvalidInput("ключ подписи не соответствует сертификату подписанта")
    alg = check_key_spec(signer.key_spec)
    content = bytes(content)
    digest_algorithm = _digest_algorithm(alg.digest_oid)
    moment = utc(signing_time or datetime.now(UTC))
    cert_hash = digest(alg.digest_name, certificate.der)
    ess_cert: dict[str, Any] = {
        "cert_hash": cert_hash,
        "issuer_serial": {
            "issuer": [
                x509.GeneralName(
                    name="directory_name", value=x509.Name.load(certificate.issuer_der)
                )
            ],
            "serial_number": certificate.serial,
        },
    }
    if alg is not ECDSA_P256:
        ess_cert["hash_algorithm"] = {"algorithm": alg.digest_oid}
    attributes = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["data"]},
            {"type": "message_digest", "values": [digest(alg.digest_name, content)]},
            {"type": "signing_time", "values": [x509_time(moment, cms.Time)]},
            {"type": "signing_certificate_v2", "values": [{"certs": [ess_cert]}]},
        ]
    )
    attributes_der = _asn1.dump(attributes)  # a DER SET OF: what the signature covers
    signature = signer.sign(attributes_der)
    if alg is ECDSA_P256:
        signature_algorithm = algos.SignedDigestAlgorithm({"algorithm": alg.signature_oid})
    else:
        signature_algorithm = algos.SignedDigestAlgorithm(
            {"algorithm": alg.key_oid, "parameters": core.Null()}
        )
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={
                    "issuer": x509.Name.load(certificate.issuer_der),
                    "serial_number": certificate.serial,
                },
            ),
            "digest_algorithm": digest_algorithm,
            "signed_attrs": cms.CMSAttributes.load(attributes_der),
            "signature_algorithm": signature_algorithm,
            "signature": signature,
        }
    )
    certificates = [x509.Certificate.load(c.der) for c in (certificate, *extra_certificates)]
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [digest_algorithm],
            "encap_content_info": {
                "content_type": "data",
                "content": None if detached else content,
            },
            "certificates": certificates,
            "signer_infos": [signer_info],
        }
    )
    return _asn1.dump(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}))


def _digest_algorithm(oid: str) -> Any:
    return algos.DigestAlgorithm({"algorithm": oid, "parameters": core.Null()})


def cms_to_pem(der: bytes) -> str:
    return pem_encode("CMS", der)


# --- reading and verifying -----------------------------------------------------------------


def _load(der: bytes) -> Any:
    what = "подпись CMS"
    info = _asn1.load(cms.ContentInfo, der, what)
    with _asn1.guarded(what):
        if info["content_type"].dotted != SIGNED_DATA:
            raise ParseError(f"{what}: ожидался SignedData, получено {info['content_type'].dotted}")
        return info["content"]


def parse_cms(data: bytes | str) -> SignedData:
    """Read a SignedData's content, certificates and signer identifiers (nothing verified)."""
    der = _der_bytes(data)
    signed = _load(der)  # the whole structure, certificates included, parsed strictly
    with _asn1.guarded(_WHAT):
        certificates = tuple(
            parse_certificate(_asn1.dump(choice.chosen))
            for choice in signed["certificates"] or []
            if choice.name == "certificate"
        )
    fields = _signed_data(der)
    signers = tuple(sid for _info, sid in _signer_infos(der, fields))
    return SignedData(fields.content_type, fields.attached, certificates, signers)


def _der_bytes(data: bytes | str) -> bytes:
    return load_der(data, "CMS") if isinstance(data, str) or data[:1] == b"-" else bytes(data)


def verify_cms(
    data: bytes | str, certificate: Certificate, content: bytes | None = None
) -> VerifiedSignature:
    """Verify the SignerInfo of ``certificate`` in a SignedData.

    ``content`` is required for a detached signature and must not contradict an attached one.
    Raises SignatureInvalid (no such signer, wrong digest, wrong signature, wrong signing
    certificate) or ParseError.

    The usual signature — one SignerInfo with signed attributes — is located in C
    (:func:`_fast_fields`); any other input, and every defective one, is read by the Python
    reader below, which words the refusal. Both give the same answer to every input (the tests
    hold the C reader to the Python one).

    This is the hot path of the bank (every request and every payment), so it reads the DER
    directly: the framing of the whole input is checked first (a defect anywhere, embedded
    certificates included, is refused), then only the fields a verifier needs are read — the
    embedded certificates, most of the bytes, are never parsed: the signer is the certificate
    given.
    """
    der = _der_bytes(data)
    fast = _fast_fields(der)
    if fast is not None:
        return _verify_fast(der, fast, certificate, content)
    der_read.check(der, _WHAT)
    signed = _signed_data(der)
    if signed.attached is not None and content is not None and bytes(content) != signed.attached:
        raise InvalidInput("содержимое передано отдельно и не совпадает с вложенным")
    body = signed.attached if signed.attached is not None else content
    if body is None:
        raise InvalidInput("отсоединённая подпись: нужно подписанное содержимое")
    for fields, sid in _signer_infos(der, signed):
        if sid.matches(certificate):
            return _verify_signer(der, fields, certificate, bytes(body), signed.content_type)
    raise SignatureInvalid("подпись CMS: среди подписантов нет владельца данного сертификата")


def verify_cms_many(
    items: Sequence[tuple[bytes | str, Certificate, bytes | None]],
) -> list[VerifiedSignature | PkiError]:
    """:func:`verify_cms` for each ``(data, certificate, content)``, in order: each answer is
    its VerifiedSignature or the PkiError verify_cms raises for it (any other exception is
    raised). The GOST signatures the C reader takes are hashed and verified in one C call, the
    GIL released once for all of them: a thread checking a batch does not wait for the GIL
    after every signature while other threads run Python."""
    answers: list[VerifiedSignature | PkiError | None] = [None] * len(items)
    gost: list[tuple[int, _FastCheck, Curve]] = []
    for index, (data, certificate, content) in enumerate(items):
        try:
            der = _der_bytes(data)
            fields = _fast_fields(der)
            if fields is None:
                answers[index] = verify_cms(der, certificate, content)
                continue
            check = _prepare_fast(der, fields, certificate, content)
            if check.curve is None:
                answers[index] = _finish_fast(check, digest(check.digest_name, check.body), False)
            else:
                gost.append((index, check, check.curve))
        except PkiError as exc:
            answers[index] = exc
    verdicts = gost3410.digest_and_verify_many(
        [
            (curve, c.certificate.public_key, c.signed_attrs, c.signature, c.body, True)
            for _, c, curve in gost
        ]
    )
    for (index, check, _), (content_digest, valid) in zip(gost, verdicts, strict=True):
        try:
            answers[index] = _finish_fast(check, content_digest, valid)
        except PkiError as exc:
            answers[index] = exc
    done: list[VerifiedSignature | PkiError] = []
    for answer in answers:
        assert answer is not None  # every item answered above
        done.append(answer)
    return done


_WHAT = "подпись CMS"


def _fast_fields(der: bytes) -> tuple[int, ...] | None:
    """Where the fields of the one SignerInfo are (pki/_c/cms.c), or None: not for the fast
    path (the Python reader decides). The tests replace this to compare both readers."""
    return _der.cms_signer(der)


@dataclass(frozen=True, slots=True)
class _FastCheck:
    """A signature the C reader located, checked up to its cryptography (see _prepare_fast)."""

    der: bytes
    fields: tuple[int, ...]
    certificate: Certificate
    body: bytes
    content_type: str
    digest_oid: str
    signature_oid: str
    digest_name: str
    signed_attrs: bytes
    signature: bytes
    curve: Curve | None  # GOST: hash and verify in C (digest_and_verify)


def _verify_fast(
    der: bytes, fields: tuple[int, ...], certificate: Certificate, content: bytes | None
) -> VerifiedSignature:
    """:func:`verify_cms` on fields the C reader located: every structural check the Python
    reader makes has passed there, so only the checks of meaning are left, made here in the
    Python reader's order with its words."""
    check = _prepare_fast(der, fields, certificate, content)
    if check.curve is None:
        return _finish_fast(check, digest(check.digest_name, check.body), False)
    # GOST: the content's digest and the signature over the attributes in one C call, with the
    # GIL released once; _finish_fast reads the answers in the usual order.
    content_digest, valid = gost3410.digest_and_verify(
        check.curve,
        certificate.public_key,
        check.signed_attrs,
        check.signature,
        check.body,
        key_checked=True,
    )
    return _finish_fast(check, content_digest, valid)


def _prepare_fast(
    der: bytes, fields: tuple[int, ...], certificate: Certificate, content: bytes | None
) -> _FastCheck:
    """The checks that come before the content's digest and the signature. (The contentType
    attribute is checked here, before the digest is computed: nothing in between refuses.)"""
    (ct0, ct1, has_attached, at0, at1, key_id, sid0, sid1, serial0, serial1, dg0, dg1, so0, so1,
     sg0, sg1, attrs0, attrs1, act0, act1, *_) = fields  # fmt: skip
    dotted = der_read.dotted
    content_type = dotted(der[ct0:ct1], _WHAT)
    attached = der[at0:at1] if has_attached else None
    if attached is not None and content is not None and bytes(content) != attached:
        raise InvalidInput("содержимое передано отдельно и не совпадает с вложенным")
    body = attached if attached is not None else content
    if body is None:
        raise InvalidInput("отсоединённая подпись: нужно подписанное содержимое")
    body = bytes(body)
    sid = (
        SignerIdentifier(None, None, der[sid0:sid1])
        if key_id
        else SignerIdentifier(
            der[sid0:sid1], int.from_bytes(der[serial0:serial1], "big", signed=True), None
        )
    )
    if not sid.matches(certificate):
        raise SignatureInvalid("подпись CMS: среди подписантов нет владельца данного сертификата")
    digest_oid = dotted(der[dg0:dg1], _WHAT)
    signature_oid = dotted(der[so0:so1], _WHAT)
    with _asn1.guarded(_WHAT):
        digest_alg = by_digest_oid(digest_oid)
        key_alg = check_key_spec(certificate.key_spec)
    if digest_alg.digest_oid != key_alg.digest_oid:
        raise SignatureInvalid(f"подпись CMS: хэш {digest_oid} не подходит для ключа подписанта")
    if dotted(der[act0:act1], _WHAT) != content_type:
        raise SignatureInvalid("подпись CMS: атрибут contentType не совпадает с содержимым")
    return _FastCheck(der, fields, certificate, body, content_type, digest_oid, signature_oid,
                      key_alg.digest_name, _asn1.set_of_der(der[attrs0:attrs1]), der[sg0:sg1],
                      _gost_curve(certificate, key_alg.digest_name))  # fmt: skip


def _finish_fast(check: _FastCheck, content_digest: bytes, valid: bool) -> VerifiedSignature:
    """The checks from the content's digest on. ``valid``: the GOST signature's verdict (a
    signer of another family is verified here)."""
    der, certificate = check.der, check.certificate
    (md0, md1, time_tag, time_start, time0, time1, has_ess, has_ess_oid, eo0, eo1, eh0,
     eh1) = check.fields[20:]  # fmt: skip
    if not hmac.compare_digest(der[md0:md1], content_digest):
        raise SignatureInvalid("подпись CMS: хэш содержимого не совпадает (messageDigest)")
    with _asn1.guarded(_WHAT):
        if check.curve is None:
            verify_with_key(
                certificate.key_spec,
                certificate.public_key,
                check.signed_attrs,
                check.signature,
                check.signature_oid,
                key_checked=True,
            )
        else:
            _same_family(certificate.key_spec.family, check.signature_oid)
            if not valid:
                raise SignatureInvalid(_GOST_INVALID)
    checked = False
    if has_ess:
        oid = der_read.dotted(der[eo0:eo1], _WHAT) if has_ess_oid else _SHA256
        with _asn1.guarded(_WHAT):
            expected = _certificate_hash(by_digest_oid(oid).digest_name, certificate.der)
        if not hmac.compare_digest(der[eh0:eh1], expected):
            raise SignatureInvalid(
                "подпись CMS: signingCertificateV2 указывает на другой сертификат"
            )
        checked = True
    signing_time = (
        _time(der, der_read.Tlv((time_tag, time_start, time0, time1))) if time_tag else None
    )
    return VerifiedSignature(certificate, check.body, check.content_type, signing_time,
                             check.digest_oid, check.signature_oid, content_digest, True,
                             checked)  # fmt: skip


def _gost_curve(certificate: Certificate, digest_name: str) -> Curve | None:
    """The certificate's GOST curve when its Streebog is ``digest_name``; None otherwise."""
    spec = certificate.key_spec
    if spec.family == ECDSA_P256.family:
        return None
    curve = get_curve(spec.curve)
    return curve if curve.digest == digest_name else None


# verify_with_key's words for a GOST signature that does not verify.
_GOST_INVALID = "подпись ГОСТ Р 34.10-2012 неверна"


def _same_family(family: str, signature_oid: str) -> None:
    """As :func:`bankkeys.pki.verify.verify_with_key` refuses a signature of another family."""
    if by_signature_oid(signature_oid).family != family:
        raise UnsupportedAlgorithm(
            f"алгоритм подписи {signature_oid} не подходит для ключа {family}"
        )


_SIGNED_DATA_TAG = der_read.context(0, constructed=True)
_ECONTENT_TAG = der_read.context(0, constructed=True)
_CERTIFICATES_TAG = der_read.context(0, constructed=True)
_CRLS_TAG = der_read.context(1, constructed=True)
_SIGNED_ATTRS_TAG = der_read.context(0, constructed=True)
_UNSIGNED_ATTRS_TAG = der_read.context(1, constructed=True)
_KEY_ID_TAG = der_read.context(0, constructed=False)
_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_SIGNING_TIME = "1.2.840.113549.1.9.5"
_SHA256 = "2.16.840.1.101.3.4.2.1"  # RFC 5035: ESSCertIDv2's default hash


@dataclass(frozen=True)
class _SignedDataFields:
    content_type: str
    attached: bytes | None
    signer_infos: der_read.Tlv


def _signed_data(der: bytes) -> _SignedDataFields:
    """ContentInfo { signedData, [0] SignedData }: the content and where the SignerInfos are."""
    r = der_read
    top = r.read(der, 0, len(der), _WHAT)
    info = r.children(der, r.expect(top, r.SEQUENCE, _WHAT), _WHAT)
    if len(info) != 2:
        raise ParseError(f"{_WHAT}: ContentInfo из {len(info)} полей")
    kind = r.oid(der, info[0], _WHAT)
    if kind != SIGNED_DATA:
        raise ParseError(f"{_WHAT}: ожидался SignedData, получено {kind}")
    wrapped = r.children(der, r.expect(info[1], _SIGNED_DATA_TAG, _WHAT), _WHAT)
    if len(wrapped) != 1:
        raise ParseError(f"{_WHAT}: повреждённый SignedData")
    fields = r.children(der, r.expect(wrapped[0], r.SEQUENCE, _WHAT), _WHAT)
    if len(fields) < 4:
        raise ParseError(f"{_WHAT}: неполный SignedData")
    version = r.integer(der, fields[0], _WHAT)
    if not 0 <= version <= 5:
        raise ParseError(f"{_WHAT}: неизвестная версия SignedData {version}")
    r.expect(fields[1], r.SET, _WHAT)  # digestAlgorithms: advisory; each SignerInfo names its own
    middle = [f.tag for f in fields[3:-1]]
    if middle not in ([], [_CERTIFICATES_TAG], [_CRLS_TAG], [_CERTIFICATES_TAG, _CRLS_TAG]):
        raise ParseError(f"{_WHAT}: лишние поля в SignedData")
    signer_infos = r.expect(fields[-1], r.SET, _WHAT)
    encap = r.children(der, r.expect(fields[2], r.SEQUENCE, _WHAT), _WHAT)
    if not 1 <= len(encap) <= 2:
        raise ParseError(f"{_WHAT}: повреждённый encapContentInfo")
    content_type = r.oid(der, encap[0], _WHAT)
    attached = None
    if len(encap) == 2:
        explicit = r.children(der, r.expect(encap[1], _ECONTENT_TAG, _WHAT), _WHAT)
        if len(explicit) != 1:
            raise ParseError(f"{_WHAT}: повреждённое вложенное содержимое")
        attached = r.octet_string(der, explicit[0], _WHAT)
    return _SignedDataFields(content_type, attached, signer_infos)


def _signer_infos(
    der: bytes, signed: _SignedDataFields
) -> Iterator[tuple[list[der_read.Tlv], SignerIdentifier]]:
    """Each SignerInfo's fields and whom it names."""
    for info in der_read.children(der, signed.signer_infos, _WHAT):
        fields = der_read.children(der, der_read.expect(info, der_read.SEQUENCE, _WHAT), _WHAT)
        if len(fields) < 5:
            raise ParseError(f"{_WHAT}: неполная SignerInfo")
        der_read.integer(der, fields[0], _WHAT)
        yield fields, _sid(der, fields[1])


def _sid(der: bytes, tlv: der_read.Tlv) -> SignerIdentifier:
    r = der_read
    if tlv.tag == _KEY_ID_TAG:
        return SignerIdentifier(None, None, r.contents(der, tlv))
    parts = r.children(der, r.expect(tlv, r.SEQUENCE, _WHAT), _WHAT)
    if len(parts) != 2:
        raise ParseError(f"{_WHAT}: повреждённый issuerAndSerialNumber")
    issuer = r.expect(parts[0], r.SEQUENCE, _WHAT)
    return SignerIdentifier(r.encoding(der, issuer), r.integer(der, parts[1], _WHAT), None)


def _algorithm_oid(der: bytes, tlv: der_read.Tlv) -> str:
    parts = der_read.children(der, der_read.expect(tlv, der_read.SEQUENCE, _WHAT), _WHAT)
    if not 1 <= len(parts) <= 2:
        raise ParseError(f"{_WHAT}: повреждённый AlgorithmIdentifier")
    return der_read.oid(der, parts[0], _WHAT)


def _verify_signer(
    der: bytes,
    fields: list[der_read.Tlv],
    certificate: Certificate,
    body: bytes,
    content_type: str,
) -> VerifiedSignature:
    r = der_read
    # SignerInfo: version, sid, digestAlgorithm, [0] signedAttrs?, signatureAlgorithm,
    # signature, [1] unsignedAttrs?
    rest = fields[3:]
    attrs = rest.pop(0) if rest and rest[0].tag == _SIGNED_ATTRS_TAG else None
    if rest and rest[-1].tag == _UNSIGNED_ATTRS_TAG:
        rest.pop()
    if len(rest) != 2:
        raise ParseError(f"{_WHAT}: повреждённая SignerInfo")
    digest_oid = _algorithm_oid(der, fields[2])
    signature_oid = _algorithm_oid(der, rest[0])
    signature = r.octet_string(der, rest[1], _WHAT)
    with _asn1.guarded(_WHAT):
        digest_alg = by_digest_oid(digest_oid)
        key_alg = check_key_spec(certificate.key_spec)
    if digest_alg.digest_oid != key_alg.digest_oid:
        raise SignatureInvalid(f"подпись CMS: хэш {digest_oid} не подходит для ключа подписанта")
    content_digest = digest(key_alg.digest_name, body)
    if attrs is None:  # RFC 5652 5.4: without attributes the content itself is signed
        with _asn1.guarded(_WHAT):
            verify_with_key(certificate.key_spec, certificate.public_key, body, signature,
                            signature_oid, key_checked=True)  # fmt: skip
        return VerifiedSignature(certificate, body, content_type, None, digest_oid, signature_oid,
                                 content_digest, False, False)  # fmt: skip
    values = _attributes(der, attrs)
    if [r.oid(der, v, _WHAT) for v in values.get(_CONTENT_TYPE, [])] != [content_type]:
        raise SignatureInvalid("подпись CMS: атрибут contentType не совпадает с содержимым")
    digests = [r.octet_string(der, v, _WHAT) for v in values.get(_MESSAGE_DIGEST, [])]
    if len(digests) != 1 or not hmac.compare_digest(digests[0], content_digest):
        raise SignatureInvalid("подпись CMS: хэш содержимого не совпадает (messageDigest)")
    # The signature covers the DER SET OF the attributes, not the [0] IMPLICIT form stored:
    # the same contents under the SET tag (the framing check has made the length minimal).
    with _asn1.guarded(_WHAT):
        verify_with_key(
            certificate.key_spec,
            certificate.public_key,
            _asn1.set_of_der(r.contents(der, attrs)),
            signature,
            signature_oid,
            key_checked=True,  # a parsed Certificate's key was validated when it was read
        )
    checked = _check_signing_certificate(der, values.get(SIGNING_CERTIFICATE_V2), certificate)
    times = values.get(_SIGNING_TIME)
    signing_time = _time(der, times[0]) if times else None
    return VerifiedSignature(certificate, body, content_type, signing_time, digest_oid,
                             signature_oid, content_digest, True, checked)  # fmt: skip


def _attributes(der: bytes, attrs: der_read.Tlv) -> dict[str, list[der_read.Tlv]]:
    """Signed attributes by type OID: each one's values."""
    r = der_read
    values: dict[str, list[der_read.Tlv]] = {}
    for attribute in r.children(der, attrs, _WHAT):
        parts = r.children(der, r.expect(attribute, r.SEQUENCE, _WHAT), _WHAT)
        if len(parts) != 2:
            raise ParseError(f"{_WHAT}: повреждённый атрибут")
        kind = r.oid(der, parts[0], _WHAT)
        if kind in values:
            raise SignatureInvalid(f"подпись CMS: атрибут {_ATTRIBUTE_NAMES.get(kind, kind)} "
                                   "повторяется")  # fmt: skip
        values[kind] = r.children(der, r.expect(parts[1], r.SET, _WHAT), _WHAT)
    return values


_ATTRIBUTE_NAMES = {
    _CONTENT_TYPE: "content_type",
    _MESSAGE_DIGEST: "message_digest",
    _SIGNING_TIME: "signing_time",
    SIGNING_CERTIFICATE_V2: "signing_certificate_v2",
}


def _time(der: bytes, tlv: der_read.Tlv) -> datetime:
    if tlv.tag not in (der_read.UTC_TIME, der_read.GENERALIZED_TIME):
        raise ParseError(f"{_WHAT}: signingTime не UTCTime и не GeneralizedTime")
    text = der_read.contents(der, tlv)
    # The DER forms (X.690 11.7, 11.8): YYMMDDHHMMSSZ and YYYYMMDDHHMMSSZ; anything else (a
    # fraction, an offset) goes through asn1crypto's general reader.
    if (
        tlv.tag == der_read.UTC_TIME
        and len(text) == 13
        and text[12:] == b"Z"
        and text[:12].isdigit()
    ):
        year = int(text[:2])
        year += 2000 if year < 50 else 1900  # RFC 5280 4.1.2.5.1
        rest = text[2:12]
    elif len(text) == 15 and text[14:] == b"Z" and text[:14].isdigit():
        year, rest = int(text[:4]), text[4:14]
    else:
        with _asn1.guarded(_WHAT):
            return aware(_asn1.load(cms.Time, der_read.encoding(der, tlv), _WHAT).native)
    try:
        return datetime(year, int(rest[0:2]), int(rest[2:4]), int(rest[4:6]), int(rest[6:8]),
                        int(rest[8:10]), tzinfo=UTC)  # fmt: skip
    except ValueError:
        raise ParseError(f"{_WHAT}: неверное время подписи {text!r}") from None


@functools.lru_cache(maxsize=4096)
def _certificate_hash(digest_name: str, der: bytes) -> bytes:
    # The same signers' certificates come with every payment: hash each once.
    return digest(digest_name, der)


def _check_signing_certificate(
    der: bytes, value: list[der_read.Tlv] | None, certificate: Certificate
) -> bool:
    """RFC 5035 SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2, policies? }: the first
    ESSCertIDv2 { hashAlgorithm DEFAULT sha256, certHash, issuerSerial? } must be our cert."""
    if not value:
        return False
    r = der_read
    outer = r.children(der, r.expect(value[0], r.SEQUENCE, _WHAT), _WHAT)
    if not outer:
        raise ParseError(f"{_WHAT}: пустой signingCertificateV2")
    certs = r.children(der, r.expect(outer[0], r.SEQUENCE, _WHAT), _WHAT)
    if not certs:
        raise ParseError(f"{_WHAT}: пустой signingCertificateV2")
    parts = r.children(der, r.expect(certs[0], r.SEQUENCE, _WHAT), _WHAT)
    oid = _SHA256
    if parts and parts[0].tag == r.SEQUENCE and len(parts) >= 2 and parts[1].tag == r.OCTET_STRING:
        oid = _algorithm_oid(der, parts.pop(0))
    if not parts:
        raise ParseError(f"{_WHAT}: в signingCertificateV2 нет хэша сертификата")
    cert_hash = r.octet_string(der, parts[0], _WHAT)
    with _asn1.guarded(_WHAT):
        expected = _certificate_hash(by_digest_oid(oid).digest_name, certificate.der)
    if not hmac.compare_digest(cert_hash, expected):
        raise SignatureInvalid("подпись CMS: signingCertificateV2 указывает на другой сертификат")
    return True


__all__ = [
    "DATA",
    "SignedData",
    "SignerIdentifier",
    "VerifiedSignature",
    "cms_to_pem",
    "parse_cms",
    "sign_cms",
    "verify_cms",
    "verify_cms_many",
]
