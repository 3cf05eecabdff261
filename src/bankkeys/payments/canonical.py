"""The canonical bytes of a payment order: what the client signs (CMS, detached), the bank verifies.

Form ``bankkeys/payment-order/1`` — one JSON object, UTF-8, no BOM, no trailing newline, produced by
``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``:

- members sorted by name (all names are ASCII, so code-point order is unambiguous); no whitespace;
- every member always present — optional text is ``""``, an absent date or budget is ``null``;
- values are only strings, integers and ``null``: the amount is ``amount_kopecks`` (an integer,
  never a float), ``priority`` an integer, dates ISO ``YYYY-MM-DD``;
- strings are exactly the validated values (surrounding spaces stripped; ``purpose`` may contain
  ``\\n`` as the JSON escape); non-ASCII characters are written as UTF-8, not ``\\u`` escapes;
- ``"format": "bankkeys/payment-order/1"`` names this version; a later form gets a new tag.

Members: ``format, number, date, amount_kopecks, payer, payee, purpose, priority, operation_kind,
payment_kind, uin, due_date, budget``; ``payer``/``payee`` have ``name, inn, kpp, account,
bank_name, bank_city, bic, correspondent_account``; ``budget`` has ``drawer_status, kbk, oktmo,
basis, period, document_number, document_date, payment_type``.

Because every source is normalised by :mod:`bankkeys.payments.validate` before it becomes a
``PaymentOrder``, one document gives the same bytes from a cp1251 or UTF-8 1C file or from JSON.
Only validated orders are encoded: signing bytes the bank would refuse helps nobody.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Final

from bankkeys.payments import keys as k
from bankkeys.payments.errors import CanonicalFormError, DocumentRef, ValidationError
from bankkeys.payments.jsonform import BUDGET_NAMES, PARTY_NAMES, budget_json, party_json
from bankkeys.payments.model import PaymentOrder
from bankkeys.payments.validate import order_from_fields, validate_order

FORMAT_TAG: Final = "bankkeys/payment-order/1"
MEDIA_TYPE: Final = "application/vnd.bankkeys.payment-order.v1+json"


def _encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _object(order: PaymentOrder) -> dict[str, Any]:
    return {
        "format": FORMAT_TAG,
        "number": order.number,
        "date": order.date.isoformat(),
        "amount_kopecks": order.amount_kopecks,
        "payer": party_json(order.payer),
        "payee": party_json(order.payee),
        "purpose": order.purpose,
        "priority": order.priority,
        "operation_kind": order.operation_kind,
        "payment_kind": order.payment_kind,
        "uin": order.uin,
        "due_date": order.due_date.isoformat() if order.due_date else None,
        "budget": budget_json(order.budget) if order.budget else None,
    }


def canonical_bytes(order: PaymentOrder) -> bytes:
    """The bytes to sign; raises ``ValidationError`` for an order the bank would refuse."""
    errors = validate_order(order)
    if errors:
        raise ValidationError(errors)
    return _encode(_object(order))


def _text(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str):
        raise CanonicalFormError(f"поле {name}: нужна строка")
    return value


def parse_canonical(data: bytes, position: int = 1) -> PaymentOrder:
    """The order in canonical bytes (the bank's side); only the exact canonical encoding passes.

    Raises ``CanonicalFormError`` for other bytes and ``ValidationError`` for a refused order.
    """
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise CanonicalFormError("не JSON в UTF-8") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT_TAG:
        raise CanonicalFormError(f"не каноническая форма {FORMAT_TAG}")
    amount, priority = obj.get("amount_kopecks"), obj.get("priority")
    if type(amount) is not int or type(priority) is not int:
        raise CanonicalFormError("amount_kopecks и priority должны быть целыми")
    payer, payee, budget = obj.get("payer"), obj.get("payee"), obj.get("budget")
    if not isinstance(payer, dict) or not isinstance(payee, dict):
        raise CanonicalFormError("payer и payee должны быть объектами")
    if budget is not None and not isinstance(budget, dict):
        raise CanonicalFormError("budget должен быть объектом или null")
    due = obj.get("due_date")
    try:
        fields = {
            k.NUMBER: _text(obj, "number"),
            k.DATE: k.format_date(date.fromisoformat(_text(obj, "date"))),
            k.AMOUNT: k.format_amount(amount) if amount > 0 else str(amount),
            k.PRIORITY: str(priority),
            k.PURPOSE: _text(obj, "purpose"),
            k.OPERATION_KIND: _text(obj, "operation_kind"),
            k.PAYMENT_KIND: _text(obj, "payment_kind"),
            k.UIN: _text(obj, "uin"),
            k.DUE_DATE: ""
            if due is None
            else k.format_date(date.fromisoformat(_text(obj, "due_date"))),
        }
        for prefix, party in ((k.PAYER, payer), (k.PAYEE, payee)):
            for name, suffix in zip(PARTY_NAMES, k.PARTY_SUFFIXES, strict=True):
                fields[prefix + suffix] = _text(party, name)
        if budget is not None:
            for name, key in zip(BUDGET_NAMES, k.BUDGET_KEYS, strict=True):
                fields[key] = _text(budget, name)
    except ValueError as exc:
        if isinstance(exc, CanonicalFormError):
            raise
        raise CanonicalFormError(f"неверная дата: {exc}") from None
    order = order_from_fields(fields, DocumentRef(fields[k.NUMBER], position))
    if _encode(_object(order)) != data:
        raise CanonicalFormError("байты не в канонической форме (порядок, пробелы, лишние поля)")
    return order
