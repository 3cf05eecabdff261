"""The QR code on every page: which request the paper belongs to and which key it shows.

Payload (ASCII, one line)::

    BANKKEYS:V=1;DOC=<ACT|APP|TRANSFER>;REQ=<request number>;FP=<fingerprint>

``DOC`` names the document (acceptance act, certificate application, acceptance-transfer act),
``REQ`` the request number (letters, digits, ``./_-``), ``FP`` the 64 lower-case hex digits of
:func:`public_key_fingerprint`. The fields come in this order, each once. The operator's console
scans the code, finds the request by ``REQ`` and compares ``FP`` with the request's key, so a paper
printed for another key is caught at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Final

import segno

from bankkeys.bank.documents.errors import InvalidQrPayload
from bankkeys.bank.documents.fingerprint import fingerprint_matches

PREFIX: Final = "BANKKEYS:"
VERSION: Final = "1"

_PAYLOAD = re.compile(
    r"BANKKEYS:V=1;DOC=(?P<doc>[A-Z]+);REQ=(?P<req>[A-Za-z0-9][A-Za-z0-9./_-]{0,39});"
    r"FP=(?P<fp>[0-9a-f]{64})"
)


class DocumentKind(Enum):
    """The printed documents, by their code in the QR payload."""

    ACCEPTANCE_ACT = "ACT"
    CERTIFICATE_APPLICATION = "APP"
    TRANSFER_ACT = "TRANSFER"


@dataclass(frozen=True)
class QrPayload:
    """What a document's QR code says."""

    kind: DocumentKind
    request_number: str
    fingerprint: str

    def encode(self) -> str:
        return (
            f"{PREFIX}V={VERSION};DOC={self.kind.value};REQ={self.request_number};"
            f"FP={self.fingerprint}"
        )

    def matches_key(self, public_key_info: bytes) -> bool:
        """Whether the paper shows this key (the request's DER SubjectPublicKeyInfo)."""
        return fingerprint_matches(self.fingerprint, public_key_info)


def parse_qr_payload(text: str) -> QrPayload:
    """Read a scanned code; refuse anything that is not exactly a version-1 bankkeys payload."""
    cleaned = text.strip()
    if not cleaned.startswith(PREFIX):
        raise InvalidQrPayload("QR-код не относится к документам bankkeys")
    match = _PAYLOAD.fullmatch(cleaned)
    if match is None:
        raise InvalidQrPayload(f"QR-код документа повреждён или неизвестной версии: «{cleaned}»")
    try:
        kind = DocumentKind(match["doc"])
    except ValueError:
        raise InvalidQrPayload(f"неизвестный вид документа в QR-коде: «{match['doc']}»") from None
    return QrPayload(kind, match["req"], match["fp"])


def qr_modules(payload: str) -> list[list[bool]]:
    """The code's dark modules, row by row, without the quiet zone (the page leaves room)."""
    code = segno.make_qr(payload, error="m", boost_error=False)
    return [[bool(cell) for cell in row] for row in code.matrix]
