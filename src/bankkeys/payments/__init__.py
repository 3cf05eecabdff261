"""Payment orders: the model, the 1CClientBankExchange and JSON forms, the bank's checks, and the
canonical bytes that are signed. Pure: bytes in, values or bytes out; no I/O, no bank or client.

Typical use::

    results = import_orders(data)              # 1C file or JSON list, detected
    for r in results:
        if r.order is None:
            show(r.errors)                     # every error names the document and the 1C key
        else:
            sign(canonical_bytes(r.order))     # CMS detached over these bytes
"""

from __future__ import annotations

from bankkeys.payments.canonical import FORMAT_TAG, canonical_bytes, parse_canonical
from bankkeys.payments.errors import (
    CanonicalFormError,
    DocumentRef,
    EncodingError,
    ExchangeFormatError,
    ExportError,
    FieldError,
    JsonFormatError,
    PaymentsError,
    TruncatedFileError,
    ValidationError,
)
from bankkeys.payments.exchange import ExportEntry, read_exchange, write_exchange
from bankkeys.payments.exchange import import_orders as import_exchange
from bankkeys.payments.jsonform import import_json, write_json
from bankkeys.payments.model import (
    BudgetFields,
    DocumentStatus,
    ImportedDocument,
    Party,
    PaymentOrder,
    Verdict,
)
from bankkeys.payments.validate import validate_order


def import_orders(data: bytes) -> tuple[ImportedDocument, ...]:
    """Read payment orders from a 1C file or the JSON form (a JSON list), whichever ``data`` is."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        return import_json(data)
    return import_exchange(data)


__all__ = [
    "FORMAT_TAG",
    "BudgetFields",
    "CanonicalFormError",
    "DocumentRef",
    "DocumentStatus",
    "EncodingError",
    "ExchangeFormatError",
    "ExportEntry",
    "ExportError",
    "FieldError",
    "ImportedDocument",
    "JsonFormatError",
    "Party",
    "PaymentOrder",
    "PaymentsError",
    "TruncatedFileError",
    "ValidationError",
    "Verdict",
    "canonical_bytes",
    "import_exchange",
    "import_json",
    "import_orders",
    "parse_canonical",
    "read_exchange",
    "validate_order",
    "write_exchange",
    "write_json",
]
