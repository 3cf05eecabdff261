"""The real :class:`~bankkeys.bank.evidence.RequestInspector`: PKCS#10 and CMS SignedData through
:mod:`bankkeys.pki`. It verifies every signature it finds; whose certificate that is and whether
it is the signer's current one is the workflow's question, answered against the database."""

from __future__ import annotations

import functools

from bankkeys.bank.errors import MalformedRequest, ProofOfPossessionFailed, SignatureInvalid
from bankkeys.bank.evidence import RequestEvidence
from bankkeys.pki import cms
from bankkeys.pki.certificates import Certificate, parse_certificate
from bankkeys.pki.errors import PkiError
from bankkeys.pki.errors import SignatureInvalid as PkiSignatureInvalid
from bankkeys.pki.requests import parse_request, verify_request


class PkiRequestInspector:
    """Accepts a bare PKCS#10 (first key) or a CMS SignedData with the PKCS#10 attached."""

    def inspect(self, submitted: bytes, *, signer_certificate: bytes | None) -> RequestEvidence:
        pkcs10 = submitted
        if _looks_like_cms(submitted):
            if signer_certificate is None:
                raise MalformedRequest(
                    "Для первого ключа отправляется запрос PKCS#10 без подписи CMS"
                )
            certificate = _parsed(signer_certificate)
            try:
                # Verified straight against the certificate the bank expects: a signature by
                # anyone else is "no such signer", and nothing else in the wrapper is trusted.
                verified = cms.verify_cms(submitted, certificate)
            except PkiSignatureInvalid:
                raise SignatureInvalid(
                    "Запрос подписан не действующим сертификатом этого владельца "
                    "или подпись не верна"
                ) from None
            except PkiError as exc:
                raise MalformedRequest(f"Запрос не разобран: {exc}") from None
            pkcs10 = verified.content
        elif signer_certificate is not None:
            raise SignatureInvalid("Запрос не подписан действующим ключом владельца сертификата")
        try:
            request = parse_request(pkcs10)
        except PkiError as exc:
            raise MalformedRequest(f"Запрос на сертификат не разобран: {exc}") from None
        try:
            verify_request(request)
        except PkiError:
            raise ProofOfPossessionFailed(
                "Запрос на сертификат не подписан ключом, который в нём указан"
            ) from None
        return RequestEvidence(
            pkcs10_der=request.der,
            subject=request.subject,
            public_key_info=request.public_key_info,
            signed_by_certificate=signer_certificate if pkcs10 is not submitted else None,
        )

    def verify_signed_document(self, signature: bytes, content: bytes) -> bytes:
        try:
            parsed = cms.parse_cms(signature)
        except PkiError as exc:
            raise MalformedRequest(f"Подпись не разобрана: {exc}") from None
        return self._verify(signature, parsed, content)

    @staticmethod
    def _verify(data: bytes, parsed: cms.SignedData, content: bytes | None) -> bytes:
        if len(parsed.signers) != 1:
            raise SignatureInvalid("Ожидалась ровно одна подпись")
        certificate = next((c for c in parsed.certificates if parsed.signers[0].matches(c)), None)
        if certificate is None:
            raise SignatureInvalid("В подписи нет сертификата подписанта")
        try:
            cms.verify_cms(data, certificate, content)
        except (PkiSignatureInvalid, PkiError) as exc:
            raise SignatureInvalid(f"Подпись не верна: {exc}") from None
        return certificate.der


@functools.lru_cache(maxsize=4096)
def _parsed(der: bytes) -> Certificate:
    # The same current certificates come back with every request: parse each once.
    return parse_certificate(der)


def _looks_like_cms(data: bytes) -> bool:
    # ContentInfo starts SEQUENCE { OID 1.2.840.113549.1.7.2 ...}; a PKCS#10 starts with two
    # SEQUENCEs. Checking for the signedData OID bytes near the start is enough to dispatch.
    return b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02" in data[:32]
