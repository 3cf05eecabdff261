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

import functools
import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any, Final, cast

from bankkeys.payments import keys as k
from bankkeys.payments.errors import CanonicalFormError, DocumentRef, ValidationError
from bankkeys.payments.jsonform import BUDGET_NAMES, PARTY_NAMES, budget_json, party_json
from bankkeys.payments.model import Party, PaymentOrder
from bankkeys.payments.validate import order_from_fields, plain_order, validate_order

FORMAT_TAG: Final = "bankkeys/payment-order/1"
MEDIA_TYPE: Final = "application/vnd.bankkeys.payment-order.v1+json"


def _encode(obj: dict[str, Any]) -> bytes:
    """The definition of the form (see the module's docstring); :func:`_encode_order` is the
    same bytes, faster, and the tests hold it to this."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


_string: Final[Callable[[str], str]] = json.encoder.encode_basestring  # as ensure_ascii=False


@functools.lru_cache(maxsize=1024)
def _party_text(party: Party) -> str:
    # A batch names the same payer in every document and the same payees in many.
    return json.dumps(party_json(party), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _encode_order(order: PaymentOrder) -> bytes:
    """``_encode(_object(order))`` written member by member, in the sorted order of the names,
    the parties' text cached: the bank checks every document it receives against it."""
    budget = (
        "null"
        if order.budget is None
        else json.dumps(
            budget_json(order.budget), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
    )
    due = "null" if order.due_date is None else f'"{order.due_date.isoformat()}"'
    return (
        f'{{"amount_kopecks":{int.__repr__(order.amount_kopecks)},"budget":{budget},'
        f'"date":"{order.date.isoformat()}","due_date":{due},"format":"{FORMAT_TAG}",'
        f'"number":{_string(order.number)},"operation_kind":{_string(order.operation_kind)},'
        f'"payee":{_party_text(order.payee)},"payer":{_party_text(order.payer)},'
        f'"payment_kind":{_string(order.payment_kind)},"priority":{int.__repr__(order.priority)},'
        f'"purpose":{_string(order.purpose)},"uin":{_string(order.uin)}}}'
    ).encode()


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
    return _encode_order(order)


def _text(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str):
        raise CanonicalFormError(f"поле {name}: нужна строка")
    return value


def _party_values(party: dict[str, Any]) -> tuple[str, ...]:
    """A party's members in ``PARTY_NAMES`` order (that of ``k.PARTY_SUFFIXES``)."""
    values = tuple(party.get(name) for name in PARTY_NAMES)
    if all(type(value) is str for value in values):
        return values  # type: ignore[return-value]
    return tuple(_text(party, name) for name in PARTY_NAMES)  # raises, naming the first


# A string as the form writes it (json's encode_basestring): every character as itself but
# the quote, the backslash and the controls, each of which has exactly one escape. So what
# matches is canonical text, and one match reads a whole document.
_STRING: Final = (
    r'"([^"\\\x00-\x1f]*+(?:\\(?:[\\"bfnrt]|u00(?:0[0-7bef]|1[0-9a-f]))[^"\\\x00-\x1f]*+)*+)"'
)
_INTEGER: Final = r"(0|-?[1-9][0-9]{0,18})"
_ISO_DATE: Final = r'"([0-9]{4}-[0-9]{2}-[0-9]{2})"'
_PARTY: Final = "{" + ",".join(f'"{name}":{_STRING}' for name in sorted(PARTY_NAMES)) + "}"
# A party's members in PARTY_NAMES order, from their places in the sorted form.
_PARTY_ORDER: Final = tuple(sorted(PARTY_NAMES).index(name) for name in PARTY_NAMES)
_PLAIN: Final = re.compile(
    f'{{"amount_kopecks":{_INTEGER},"budget":null,"date":{_ISO_DATE},'
    f'"due_date":(?:null|{_ISO_DATE}),"format":"{re.escape(FORMAT_TAG)}",'
    f'"number":{_STRING},"operation_kind":{_STRING},"payee":{_PARTY},"payer":{_PARTY},'
    f'"payment_kind":{_STRING},"priority":{_INTEGER},"purpose":{_STRING},"uin":{_STRING}}}',
    re.DOTALL,
)


def _unescaped(raw: str) -> str:
    # Only a string with an escape needs decoding, and the pattern let only valid ones through.
    return raw if "\\" not in raw else cast(str, json.loads(f'"{raw}"'))


def _plain(data: bytes) -> PaymentOrder | None:
    """The order, if the bytes are the canonical form of a plainly valid order without budget
    fields (nearly every document); None leaves the verdict to the full reading."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    match = _PLAIN.fullmatch(text)
    if match is None:
        return None
    v = match.groups()
    if "\\" in text:  # an escape somewhere (a purpose's line break): decode the strings
        v = tuple(x if x is None else _unescaped(x) for x in v)
    try:
        when, due = date.fromisoformat(v[1]), None if v[2] is None else date.fromisoformat(v[2])
    except ValueError:
        return None
    payee, payer = v[5:13], v[13:21]
    order = plain_order(
        v[3],
        when,
        int(v[0]),
        (tuple([payer[i] for i in _PARTY_ORDER]), tuple([payee[i] for i in _PARTY_ORDER])),
        v[23],
        int(v[22]),
        operation_kind=v[4],
        payment_kind=v[21],
        uin=v[24],
        due_date=due,
    )
    # The last word, as in the full reading: these very bytes are the order's canonical form.
    if order is None or _encode_order(order) != data:
        return None
    return order


def parse_canonical(data: bytes, position: int = 1) -> PaymentOrder:
    """The order in canonical bytes (the bank's side); only the exact canonical encoding passes.

    Raises ``CanonicalFormError`` for other bytes and ``ValidationError`` for a refused order.
    """
    order = _plain(data)
    return order if order is not None else _read_in_full(data, position)


def _read_in_full(data: bytes, position: int) -> PaymentOrder:
    """Any bytes: the order, or the error that names what is wrong with them."""
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError: a JSON error, or an integer longer than Python converts (4300 digits).
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
        parties = (_party_values(payer), _party_values(payee))
        if budget is not None:
            for name, key in zip(BUDGET_NAMES, k.BUDGET_KEYS, strict=True):
                fields[key] = _text(budget, name)
    except ValueError as exc:
        if isinstance(exc, CanonicalFormError):
            raise
        raise CanonicalFormError(f"неверная дата: {exc}") from None
    order = order_from_fields(fields, DocumentRef(fields[k.NUMBER], position), parties)
    if _encode_order(order) != data:
        raise CanonicalFormError("байты не в канонической форме (порядок, пробелы, лишние поля)")
    return order
