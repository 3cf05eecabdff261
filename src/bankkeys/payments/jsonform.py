"""The JSON form of payment orders: a list of objects with English field names.

Schema (UTF-8 JSON; every text value is a string; unknown names are errors of that document)::

    [
      {
        "number": "15",                  # Номер
        "date": "2024-03-01",            # Дата, ISO 8601 calendar date
        "amount": "1234.50",             # Сумма: rubles as a *string*, dot, ≤ 2 decimals (never a
                                         #   JSON number: no binary floats for money)
        "payer": PARTY,                  # Плательщик…
        "payee": PARTY,                  # Получатель…
        "purpose": "Оплата по счету 7",  # НазначениеПлатежа (may hold "\\n" between lines)
        "priority": 5,                   # Очередность: a JSON integer 1–5
        "operation_kind": "01",          # ВидОплаты           (optional, default "01")
        "payment_kind": "",              # ВидПлатежа          (optional, default "")
        "uin": "0",                      # Код (УИН)           (optional, default "")
        "due_date": null,                # СрокПлатежа, ISO    (optional)
        "budget": null | BUDGET          # fields 101, 104–110 (optional)
      }
    ]

    PARTY  = {"name", "inn", "kpp", "account", "bank_name", "bank_city", "bic",
              "correspondent_account"}                     # all strings; absent means ""
    BUDGET = {"drawer_status", "kbk", "oktmo", "basis", "period", "document_number",
              "document_date", "payment_type"}             # all strings; absent means ""

Values go through the same checks as a 1C file (:mod:`bankkeys.payments.validate`), and errors name
the 1C key, so one document gives the same order — and the same canonical bytes — from either form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Final

from bankkeys.payments import keys as k
from bankkeys.payments.errors import (
    DocumentRef,
    FieldError,
    JsonFormatError,
    ValidationError,
)
from bankkeys.payments.model import BudgetFields, ImportedDocument, Party, PaymentOrder
from bankkeys.payments.validate import order_from_fields

PARTY_NAMES: Final = (
    "name",
    "inn",
    "kpp",
    "account",
    "bank_name",
    "bank_city",
    "bic",
    "correspondent_account",
)
BUDGET_NAMES: Final = (
    "drawer_status",
    "kbk",
    "oktmo",
    "basis",
    "period",
    "document_number",
    "document_date",
    "payment_type",
)
# Top-level text fields: JSON name → 1C key.
TEXT_FIELDS: Final = {
    "number": k.NUMBER,
    "purpose": k.PURPOSE,
    "operation_kind": k.OPERATION_KIND,
    "payment_kind": k.PAYMENT_KIND,
    "uin": k.UIN,
}
DATE_FIELDS: Final = {"date": k.DATE, "due_date": k.DUE_DATE}
TOP_NAMES: Final = frozenset(
    {*TEXT_FIELDS, *DATE_FIELDS, "amount", "priority", "payer", "payee", "budget"}
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise JsonFormatError(f"повторяющиеся имена полей в объекте: {', '.join(duplicates)}")
    return dict(pairs)


def _reject_constant(name: str) -> Any:
    raise JsonFormatError(f"{name} не допускается в JSON платежных поручений")


class _Fields:
    """Turns one JSON object into logical 1C fields, recording type errors against 1C keys."""

    def __init__(self, ref: DocumentRef) -> None:
        self.ref = ref
        self.fields: dict[str, str] = {}
        self.errors: list[FieldError] = []

    def fail(self, key: str, message: str) -> None:
        self.errors.append(FieldError(self.ref, key, message))

    def text(self, key: str, value: object, name: str) -> None:
        if value is None:
            return
        if isinstance(value, str):
            self.fields[key] = value
        else:
            self.fail(key, f"JSON-поле {name}: нужна строка")

    def iso_date(self, key: str, value: object, name: str) -> None:
        if value is None:
            return
        if not isinstance(value, str) or _ISO_DATE.fullmatch(value) is None:
            self.fail(key, f"JSON-поле {name}: нужна дата строкой ГГГГ-ММ-ДД")
            return
        try:
            self.fields[key] = k.format_date(date.fromisoformat(value))
        except ValueError:
            self.fail(key, f"нет такой даты: {value}")

    def group(
        self, value: object, name: str, names: Sequence[str], key_of: Callable[[str], str]
    ) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            self.fail(key_of(names[0]), f"JSON-поле {name}: нужен объект")
            return
        for extra in sorted(set(value) - set(names)):
            self.fail(key_of(names[0]), f"неизвестное JSON-поле {name}.{extra}")
        for sub in names:
            self.text(key_of(sub), value.get(sub), f"{name}.{sub}")


def _document_fields(obj: object, ref: DocumentRef) -> _Fields:
    out = _Fields(ref)
    if not isinstance(obj, dict):
        out.fail(k.NUMBER, "элемент списка должен быть объектом платежного поручения")
        return out
    for extra in sorted(set(obj) - TOP_NAMES):
        out.fail(k.NUMBER, f"неизвестное JSON-поле {extra}")
    for name, key in TEXT_FIELDS.items():
        out.text(key, obj.get(name), name)
    for name, key in DATE_FIELDS.items():
        out.iso_date(key, obj.get(name), name)
    amount = obj.get("amount")
    if isinstance(amount, str):
        out.fields[k.AMOUNT] = amount
    elif amount is not None:
        out.fail(k.AMOUNT, 'JSON-поле amount: сумма строкой, например "1234.50"')
    priority = obj.get("priority")
    if isinstance(priority, int) and not isinstance(priority, bool):
        out.fields[k.PRIORITY] = str(priority)
    elif priority is not None:
        out.fail(k.PRIORITY, "JSON-поле priority: нужно целое число от 1 до 5")
    for name, prefix in (("payer", k.PAYER), ("payee", k.PAYEE)):
        party_keys = {n: prefix + s for n, s in zip(PARTY_NAMES, k.PARTY_SUFFIXES, strict=True)}
        out.group(obj.get(name), name, PARTY_NAMES, party_keys.__getitem__)
    budget_keys = dict(zip(BUDGET_NAMES, k.BUDGET_KEYS, strict=True))
    out.group(obj.get("budget"), "budget", BUDGET_NAMES, budget_keys.__getitem__)
    return out


def parse_json(data: bytes) -> list[object]:
    """The list of JSON objects; raises ``JsonFormatError`` for anything but a JSON list."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JsonFormatError(f"JSON не в UTF-8 (байт {exc.start})") from None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=Decimal,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise JsonFormatError(
            f"ошибка JSON в строке {exc.lineno}, столбце {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise JsonFormatError("JSON слишком глубоко вложен") from None
    if not isinstance(value, list):
        raise JsonFormatError("ожидается список платежных поручений (JSON-массив)")
    return value


def import_json(data: bytes) -> tuple[ImportedDocument, ...]:
    """Check every object of the JSON list; structure faults raise, document faults return."""
    results = []
    for position, obj in enumerate(parse_json(data), start=1):
        number = obj.get("number") if isinstance(obj, dict) else None
        ref = DocumentRef(number if isinstance(number, str) else "", position)
        converted = _document_fields(obj, ref)
        try:
            order = order_from_fields(converted.fields, ref)
        except ValidationError as exc:
            results.append(ImportedDocument(ref, None, tuple(converted.errors) + exc.errors))
            continue
        if converted.errors:
            results.append(ImportedDocument(ref, None, tuple(converted.errors)))
        else:
            results.append(ImportedDocument(ref, order, ()))
    return tuple(results)


def party_json(party: Party) -> dict[str, str]:
    return dict(zip(PARTY_NAMES, party.values(), strict=True))


def budget_json(budget: BudgetFields) -> dict[str, str]:
    return dict(zip(BUDGET_NAMES, budget.values(), strict=True))


def order_json(order: PaymentOrder) -> dict[str, object]:
    """One order as a JSON-ready object of the documented schema."""
    return {
        "number": order.number,
        "date": order.date.isoformat(),
        "amount": k.format_amount(order.amount_kopecks),
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


def write_json(orders: Sequence[PaymentOrder]) -> bytes:
    """Orders as the JSON form (UTF-8, indented), readable by :func:`import_json`."""
    text = json.dumps([order_json(o) for o in orders], ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")
