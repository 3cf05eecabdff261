"""CMS SignedData (RFC 5652; GOST per RFC 9337): sign through a Signer, verify against a given
certificate, and say who signed what and when.

GOST SignerInfo as gost-engine and the TC26 examples write it: digestAlgorithm = the Streebog OID
with NULL parameters, signatureAlgorithm = the public-key OID with NULL (the signature-with-digest
OID is accepted too). Signed attributes: contentType, messageDigest, signingTime and
signingCertificateV2 (hash of the signer's certificate with the key's own digest).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bankkeys.pki import _asn1
from bankkeys.pki._asn1 import algos, cms, core, x509
from bankkeys.pki._common import aware, utc, x509_time
from bankkeys.pki.algorithms import ECDSA_P256, by_digest_oid, check_key_spec, digest
from bankkeys.pki.certificates import Certificate, load_der, names_match, parse_certificate
from bankkeys.pki.errors import InvalidInput, ParseError, SignatureInvalid
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


def _load(data: bytes | str, *, framed_only: bool = False) -> Any:
    """The SignedData of a ContentInfo. ``framed_only``: the whole input's DER framing is checked
    but fields are parsed only when read — a verifier reads the signer info it needs and never
    the embedded certificates, which are most of the bytes and most of the parsing work."""
    der = load_der(data, "CMS") if isinstance(data, str) or data[:1] == b"-" else bytes(data)
    what = "подпись CMS"
    if framed_only:
        info = _asn1.load_framed(cms.ContentInfo, der, what)
    else:
        info = _asn1.load(cms.ContentInfo, der, what)
    with _asn1.guarded(what):
        if info["content_type"].dotted != SIGNED_DATA:
            raise ParseError(f"{what}: ожидался SignedData, получено {info['content_type'].dotted}")
        return info["content"]


def parse_cms(data: bytes | str) -> SignedData:
    """Read a SignedData's content, certificates and signer identifiers (nothing verified)."""
    signed = _load(data)
    with _asn1.guarded("подпись CMS"):
        encap = signed["encap_content_info"]
        content = encap["content"].native if encap["content"].native is not None else None
        certificates = tuple(
            parse_certificate(_asn1.dump(choice.chosen))
            for choice in signed["certificates"] or []
            if choice.name == "certificate"
        )
        signers = tuple(_signer_id(si["sid"]) for si in signed["signer_infos"])
    if content is not None and not isinstance(content, bytes):
        raise ParseError("подпись CMS: содержимое не OCTET STRING")
    return SignedData(encap["content_type"].dotted, content, certificates, signers)


def _signer_id(sid: Any) -> SignerIdentifier:
    if sid.name == "subject_key_identifier":
        return SignerIdentifier(None, None, sid.chosen.native)
    return SignerIdentifier(
        _asn1.dump(sid.chosen["issuer"]), sid.chosen["serial_number"].native, None
    )


def verify_cms(
    data: bytes | str, certificate: Certificate, content: bytes | None = None
) -> VerifiedSignature:
    """Verify the SignerInfo of ``certificate`` in a SignedData.

    ``content`` is required for a detached signature and must not contradict an attached one.
    Raises SignatureInvalid (no such signer, wrong digest, wrong signature, wrong signing
    certificate) or ParseError.
    """
    signed = _load(data, framed_only=True)
    what = "подпись CMS"
    with _asn1.guarded(what):
        encap = signed["encap_content_info"]
        content_type = encap["content_type"].dotted
        attached = encap["content"].native
        mine = [si for si in signed["signer_infos"] if _signer_id(si["sid"]).matches(certificate)]
    if attached is not None and content is not None and bytes(content) != attached:
        raise InvalidInput("содержимое передано отдельно и не совпадает с вложенным")
    body = attached if attached is not None else content
    if body is None:
        raise InvalidInput("отсоединённая подпись: нужно подписанное содержимое")
    if not isinstance(body, bytes | bytearray):
        raise ParseError(f"{what}: содержимое не OCTET STRING")
    for signer_info in mine:
        with _asn1.guarded(what):
            return _verify_signer(signer_info, certificate, bytes(body), content_type)
    raise SignatureInvalid("подпись CMS: среди подписантов нет владельца данного сертификата")


def _verify_signer(
    signer_info: Any, certificate: Certificate, body: bytes, content_type: str
) -> VerifiedSignature:
    digest_oid = signer_info["digest_algorithm"]["algorithm"].dotted
    digest_alg = by_digest_oid(digest_oid)
    key_alg = check_key_spec(certificate.key_spec)
    if digest_alg.digest_oid != key_alg.digest_oid:
        raise SignatureInvalid(f"подпись CMS: хэш {digest_oid} не подходит для ключа подписанта")
    signature_oid = signer_info["signature_algorithm"]["algorithm"].dotted
    signature = signer_info["signature"].native
    content_digest = digest(key_alg.digest_name, body)
    attrs = signer_info["signed_attrs"]
    if isinstance(attrs, core.Void):  # RFC 5652 5.4: without attributes the content is signed
        verify_with_key(
            certificate.key_spec, certificate.public_key, body, signature, signature_oid
        )
        return VerifiedSignature(certificate, body, content_type, None, digest_oid, signature_oid,
                                 content_digest, False, False)  # fmt: skip
    values = _attributes(attrs)
    if values.get("content_type") != [content_type]:
        raise SignatureInvalid("подпись CMS: атрибут contentType не совпадает с содержимым")
    digests = values.get("message_digest")
    if not digests or len(digests) != 1 or not hmac.compare_digest(digests[0], content_digest):
        raise SignatureInvalid("подпись CMS: хэш содержимого не совпадает (messageDigest)")
    # The signature covers the DER SET OF the attributes, not the [0] IMPLICIT form stored:
    # the same contents under the SET tag (the framing check has made the length minimal).
    verify_with_key(
        certificate.key_spec,
        certificate.public_key,
        _asn1.set_of_der(attrs.contents),
        signature,
        signature_oid,
    )
    checked = _check_signing_certificate(values.get("signing_certificate_v2"), certificate)
    times = values.get("signing_time")
    signing_time = aware(times[0]) if times else None
    return VerifiedSignature(certificate, body, content_type, signing_time, digest_oid,
                             signature_oid, content_digest, True, checked)  # fmt: skip


def _attributes(attrs: Any) -> dict[str, list[Any]]:
    values: dict[str, list[Any]] = {}
    for attribute in attrs:
        name = attribute["type"].native
        if name in values:
            raise SignatureInvalid(f"подпись CMS: атрибут {name} повторяется")
        if name == "content_type":
            values[name] = [v.dotted for v in attribute["values"]]
        elif name == "signing_certificate_v2":
            values[name] = list(attribute["values"])
        else:
            values[name] = [v.native for v in attribute["values"]]
    return values


def _check_signing_certificate(value: list[Any] | None, certificate: Certificate) -> bool:
    if not value:
        return False
    first = value[0]["certs"][0]
    oid = first["hash_algorithm"]["algorithm"].dotted
    expected = digest(by_digest_oid(oid).digest_name, certificate.der)
    if not hmac.compare_digest(first["cert_hash"].native, expected):
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
]
