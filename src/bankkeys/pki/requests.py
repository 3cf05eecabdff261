"""PKCS#10 certification requests (RFC 2986): build through a Signer, verify proof of possession,
read every field back."""

from __future__ import annotations

from typing import Any

from bankkeys.pki import _asn1, _x509_read
from bankkeys.pki._asn1 import core, csr, keys, x509
from bankkeys.pki._common import extension, signature_algorithm
from bankkeys.pki.certificates import KEY_USAGES, load_der
from bankkeys.pki.errors import InvalidInput
from bankkeys.pki.names import Name, name_to_asn1
from bankkeys.pki.signer import Signer
from bankkeys.pki.verify import verify_with_key
from bankkeys.pki.x509_records import CertificationRequest

__all__ = ["CertificationRequest", "build_request", "parse_request", "verify_request"]


def build_request(
    subject: Name,
    signer: Signer,
    *,
    key_usage: frozenset[str] = frozenset({"digital_signature", "non_repudiation"}),
    extended_key_usage: tuple[str, ...] = (),
    subject_sign_tool: str | None = None,
    policies: tuple[str, ...] = (),
) -> bytes:
    """A PKCS#10 request for the signer's key, signed by it (the proof of possession); DER.

    The wanted extensions travel in an extensionRequest attribute (PKCS#9).
    """
    if subject.is_empty:
        raise InvalidInput("пустое имя субъекта")
    unknown = key_usage - KEY_USAGES
    if unknown:
        raise InvalidInput(f"неизвестные назначения ключа: {sorted(unknown)}")
    wanted: list[Any] = []
    if key_usage:
        wanted.append(extension("key_usage", set(key_usage), critical=True))
    if extended_key_usage:
        wanted.append(extension("extended_key_usage", list(extended_key_usage)))
    if subject.email is not None:
        alt = [x509.GeneralName(name="rfc822_name", value=subject.email)]
        wanted.append(extension("subject_alt_name", alt))
    if policies:
        wanted.append(
            extension("certificate_policies", [{"policy_identifier": p} for p in policies])
        )
    if subject_sign_tool is not None:
        if not 1 <= len(subject_sign_tool) <= 200:
            raise InvalidInput("subjectSignTool: от 1 до 200 символов")
        wanted.append(extension("subject_sign_tool", core.UTF8String(subject_sign_tool)))
    attributes = []
    if wanted:
        attributes.append({"type": "extension_request", "values": [wanted]})
    info = csr.CertificationRequestInfo(
        {
            "version": "v1",
            "subject": name_to_asn1(subject),
            "subject_pk_info": keys.PublicKeyInfo.load(signer.public_key_info),
            "attributes": attributes,
        }
    )
    info_der = _asn1.dump(info)
    request = csr.CertificationRequest(
        {
            "certification_request_info": csr.CertificationRequestInfo.load(info_der),
            "signature_algorithm": signature_algorithm(signer),
            "signature": signer.sign(info_der),
        }
    )
    return _asn1.dump(request)


def parse_request(data: bytes | str) -> CertificationRequest:
    """Parse a PKCS#10 request (DER or PEM); any defect is a ParseError.

    Read straight from the DER (:mod:`bankkeys.pki._x509_read`): the bank parses one with every
    re-key request.
    """
    return _x509_read.read_request(load_der(data, "CERTIFICATE REQUEST"))


def verify_request(request: CertificationRequest) -> None:
    """Proof of possession: the request is signed by the key it carries; SignatureInvalid if not."""
    verify_with_key(
        request.key_spec,
        request.public_key,
        request.tbs,
        request.signature,
        request.signature_algorithm_oid,
        key_checked=True,  # validated when the request was parsed
    )
