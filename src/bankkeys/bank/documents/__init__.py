"""The printed documents of a re-key request (seeds 000-004), as PDF.

* :func:`render_acceptance_act` — «Акт признания открытого ключа (сертификата ключа проверки
  электронной подписи)», two copies;
* :func:`render_certificate_application` — «Заявление на изготовление сертификата ключа проверки
  электронной подписи», one copy;
* :func:`render_transfer_act` — «Акт приема-передачи» of a certificate written to a new token.

Every page carries a QR code (:mod:`bankkeys.bank.documents.qr`) naming the request and the
Streebog-256 fingerprint of the public key. Input is plain data (:mod:`.model`); the same input
always gives the same bytes, so the act can be signed electronically instead (:mod:`.signing`).
"""

from bankkeys.bank.documents.acceptance_act import render_acceptance_act
from bankkeys.bank.documents.application import render_certificate_application
from bankkeys.bank.documents.errors import DocumentError, InvalidDocumentInput, InvalidQrPayload
from bankkeys.bank.documents.fingerprint import fingerprint_matches, public_key_fingerprint
from bankkeys.bank.documents.model import (
    KEY_ALGORITHMS,
    BankDetails,
    CertificateDetails,
    KeyAlgorithm,
    KeyDocumentInput,
    OrganizationDetails,
    PersonName,
    PublicKeyDetails,
    RequestDetails,
    SignerDetails,
    TokenDetails,
)
from bankkeys.bank.documents.qr import DocumentKind, QrPayload, parse_qr_payload
from bankkeys.bank.documents.signing import sign_act, verify_act_signature, verify_signed_act
from bankkeys.bank.documents.transfer_act import render_transfer_act

__all__ = [
    "KEY_ALGORITHMS",
    "BankDetails",
    "CertificateDetails",
    "DocumentError",
    "DocumentKind",
    "InvalidDocumentInput",
    "InvalidQrPayload",
    "KeyAlgorithm",
    "KeyDocumentInput",
    "OrganizationDetails",
    "PersonName",
    "PublicKeyDetails",
    "QrPayload",
    "RequestDetails",
    "SignerDetails",
    "TokenDetails",
    "fingerprint_matches",
    "parse_qr_payload",
    "public_key_fingerprint",
    "render_acceptance_act",
    "render_certificate_application",
    "render_transfer_act",
    "sign_act",
    "verify_act_signature",
    "verify_signed_act",
]
