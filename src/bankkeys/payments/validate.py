"""The checks a bank makes on a payment order, and the one way to build a ``PaymentOrder``.

Every source (1C file, JSON, canonical bytes) ends here as *logical 1C fields* — 1C key → text —
so the same rules, messages and normalisation apply to all of them. Checks collect every error of a
document instead of stopping at the first; each error names the document and the 1C key.

Rules (Bank of Russia Положение 762-П and its annexes; Порядок расчета контрольного ключа N 515):

- ``Номер``: 1–6 digits, not zero. ``Дата``, ``СрокПлатежа``: ``dd.mm.yyyy``, a real date.
- ``Сумма``: rubles, a dot and at most two decimals; positive; at most 18 digits of kopecks (the
  width of the amount in the Bank of Russia's electronic messages).
- ``…БИК``: 9 digits. ``…Счет``: 20 digits whose control key (9th digit) checks against the BIC:
  the 3 digits "last 3 of the BIC" followed by the account, weights 7,1,3 repeated over the 23
  digits, sum ≡ 0 (mod 10). ``…Корсчет`` (optional): the same with "0" + BIC digits 5–6.
  Treasury accounts (``03…``) carry no key under either rule (see the tests): not key-checked.
- ``…ИНН``: 10 digits (legal entity) or 12 (individual) with the Federal Tax Service control digits;
  required for the payer, optional (empty or "0") for the payee.
- ``…КПП``: empty, "0", or 4 digits, 2 digits-or-uppercase-Latin, 3 digits; an individual
  (12-digit INN) has none.
- ``Очередность``: 1–5. ``ВидОплаты``: "01" (empty means "01"). ``Код`` (УИН): empty, "0", or 20
  or 25 digits/uppercase Latin letters.
- Text: names ≤ 160 characters, purpose ≤ 210, made of printable ASCII, Russian letters and a few
  typographic signs (№ « » – — …); anything else is refused (it is also what mojibake looks like).
- Budget fields (present when any is non-empty): ``СтатусСоставителя`` 2 digits, ``ПоказательКБК``
  "0" or 20 characters, ``ОКАТО`` (ОКТМО) "0", 8 or 11 digits, and the length limits of 107н.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final, TypeVar

from bankkeys.payments import keys as k
from bankkeys.payments.errors import DocumentRef, FieldError, ValidationError
from bankkeys.payments.model import BudgetFields, Party, PaymentOrder

MAX_AMOUNT_KOPECKS: Final = 10**18 - 1
MAX_NAME_LENGTH: Final = 160
MAX_PURPOSE_LENGTH: Final = 210
MAX_BANK_NAME_LENGTH: Final = 140
PAYMENT_KINDS: Final = frozenset({"", "срочно", "электронно", "почтой", "телеграфом"})

_DIGITS = re.compile(r"[0-9]+")
_AMOUNT = re.compile(r"([0-9]+)(?:\.([0-9]{1,2}))?")
_DATE = re.compile(r"([0-9]{2})\.([0-9]{2})\.([0-9]{4})")
_KPP = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")
_UIN = re.compile(r"[0-9A-Z]{20}|[0-9A-Z]{25}")
_KBK = re.compile(r"[0-9A-Z]{20}")


_BAD_CHAR = re.compile(r"[^ -~№«»–—…ЁёА-Яа-я]")
_BAD_PURPOSE_CHAR = re.compile(r"[^ -~№«»–—…ЁёА-Яа-я\n]")


def is_allowed_char(ch: str) -> bool:
    """Printable ASCII, Russian letters and the few typographic signs payment texts use."""
    return len(ch) == 1 and _BAD_CHAR.match(ch) is None


def _digits(value: str, length: int) -> bool:
    return len(value) == length and _DIGITS.fullmatch(value) is not None


def bic_ok(bic: str) -> bool:
    return _digits(bic, 9)


_KEY_WEIGHTS: Final = (7, 1, 3) * 8  # over the 23 digits: 3 of the BIC, 20 of the account


def _key_ok(prefix: str, account: str) -> bool:
    # The bank checks two accounts per document, thousands of documents a second: map, not a
    # generator (the callers have checked that both are digits).
    weighted: int = sum(map(operator.mul, map(int, prefix + account), _KEY_WEIGHTS))
    return weighted % 10 == 0


def settlement_key_prefix(bic: str) -> str:
    """The 3 digits put before a client account for its key: the last 3 of the bank's BIC."""
    return bic[-3:]


def correspondent_key_prefix(bic: str) -> str:
    """The 3 digits put before a correspondent account: "0" + digits 5–6 of the BIC (the RKC)."""
    return "0" + bic[4:6]


def is_treasury_account(account: str) -> bool:
    return account.startswith("03")


def account_key_ok(account: str, bic: str, *, correspondent: bool) -> bool:
    """Whether a 20-digit account's control key checks against a 9-digit BIC."""
    if not (_digits(account, 20) and bic_ok(bic)):
        return False
    if correspondent:
        return _key_ok(correspondent_key_prefix(bic), account)
    return is_treasury_account(account) or _key_ok(settlement_key_prefix(bic), account)


_INN10_WEIGHTS: Final = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS: Final = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS: Final = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _inn_digit(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(map(operator.mul, map(int, digits), weights)) % 11 % 10)


def inn_ok(inn: str) -> bool:
    """INN control digits (Federal Tax Service): 10 digits (legal entity) or 12 (individual)."""
    if _digits(inn, 10):
        return inn[9] == _inn_digit(inn[:9], _INN10_WEIGHTS)
    if _digits(inn, 12):
        return inn[10] == _inn_digit(inn[:10], _INN11_WEIGHTS) and inn[11] == _inn_digit(
            inn[:11], _INN12_WEIGHTS
        )
    return False


def kpp_ok(kpp: str) -> bool:
    return _KPP.fullmatch(kpp) is not None


def parse_amount(text: str) -> int:
    """``"1234.5"`` → ``123450`` kopecks; raises ``ValueError`` with a Russian message."""
    if "," in text:
        raise ValueError("дробная часть отделяется точкой, не запятой")
    match = _AMOUNT.fullmatch(text)
    if match is None:
        if re.fullmatch(r"[0-9]+\.[0-9]{3,}", text):
            raise ValueError("не более двух знаков после точки")
        raise ValueError(f"не сумма в рублях с точкой: {text!r}")
    rubles, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    kopecks = int(rubles) * 100 + int(cents)
    if kopecks <= 0:
        raise ValueError("сумма должна быть больше нуля")
    if kopecks > MAX_AMOUNT_KOPECKS:
        raise ValueError("сумма больше допустимой (18 знаков в копейках)")
    return kopecks


def parse_date(text: str) -> date:
    """``dd.mm.yyyy`` → a real date; raises ``ValueError`` with a Russian message."""
    if _DATE.fullmatch(text) is None:
        raise ValueError(f"дата должна быть в виде ДД.ММ.ГГГГ: {text!r}")
    try:
        return date(int(text[6:]), int(text[3:5]), int(text[:2]))
    except ValueError:
        raise ValueError(f"нет такой даты: {text}") from None


T = TypeVar("T")


@dataclass
class _Checker:
    """Reads logical fields one by one, collecting every error of the document."""

    fields: Mapping[str, str]
    ref: DocumentRef
    errors: list[FieldError] = field(default_factory=list)
    # Whether no field has a character outside the allowed set: then the per-field search
    # (some 30 per document) is skipped. The bank checks thousands of documents a second.
    all_clean: bool = False

    def __post_init__(self) -> None:
        others = "".join(v for key, v in self.fields.items() if key != k.PURPOSE)
        self.all_clean = (
            _BAD_CHAR.search(others) is None
            and _BAD_PURPOSE_CHAR.search(self.fields.get(k.PURPOSE, "")) is None
        )

    def fail(self, key: str, message: str) -> None:
        self.errors.append(FieldError(self.ref, key, message))

    def text(self, key: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.fields.get(key, "").strip()
        if required and not value:
            self.fail(key, "обязательное поле не заполнено")
        if max_length is not None and len(value) > max_length:
            self.fail(key, f"длиннее {max_length} символов ({len(value)})")
        if self.all_clean:
            return value
        pattern = _BAD_PURPOSE_CHAR if key == k.PURPOSE else _BAD_CHAR
        if pattern.search(value) is not None:
            bad = sorted(set(pattern.findall(value)))
            shown = ", ".join(f"U+{ord(ch):04X}" for ch in bad)
            self.fail(key, f"недопустимые символы: {shown}")
        return value

    def parsed(self, key: str, parse: Callable[[str], T], *, required: bool) -> T | None:
        value = self.text(key, required=required)
        if not value:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            self.fail(key, str(exc))
            return None

    def check(self, key: str, ok: bool, message: str) -> None:
        if not ok:
            self.fail(key, message)


def _party(c: _Checker, prefix: str, *, payer: bool, raw: tuple[str, ...] | None = None) -> Party:
    if raw is None:
        raw = tuple(c.fields.get(prefix + suffix, "") for suffix in k.PARTY_SUFFIXES)
    party, errors = _checked_party(prefix, payer, raw)
    for key, message in errors:
        c.fail(key, message)
    return party


_PARTY_REF: Final = DocumentRef("", 0)  # replaced by the document's own in _party


@functools.lru_cache(maxsize=1024)
def _checked_party(
    prefix: str, payer: bool, raw: tuple[str, ...]
) -> tuple[Party, tuple[tuple[str, str], ...]]:
    """A party and its errors (1C key, message): they depend on its own fields only. A bank
    checks thousands of documents a second, and an organization's batch names the same payer
    in every document (and its regular payees in many): each is checked once."""
    fields = dict(zip([prefix + suffix for suffix in k.PARTY_SUFFIXES], raw, strict=True))
    c = _Checker(fields, _PARTY_REF)
    party = _party_checks(c, prefix, payer=payer)
    return party, tuple((e.key, e.message) for e in c.errors)


def _party_checks(c: _Checker, prefix: str, *, payer: bool) -> Party:
    def key(suffix: str) -> str:
        return prefix + suffix

    name = c.text(key(k.NAME), required=True, max_length=MAX_NAME_LENGTH)
    inn = c.text(key(k.INN), required=payer)
    if inn and not (inn == "0" and not payer):
        c.check(key(k.INN), inn_ok(inn), f"ИНН {inn}: не 10/12 цифр или неверные контрольные цифры")
    kpp = c.text(key(k.KPP))
    if kpp not in ("", "0"):
        c.check(key(k.KPP), kpp_ok(kpp), f"КПП {kpp}: нужно 9 знаков вида NNNNPPNNN")
        c.check(key(k.KPP), len(inn) != 12, "у физического лица (ИНН из 12 цифр) нет КПП")
    bic = c.text(key(k.BIC), required=True)
    bic_valid = bic_ok(bic)
    if bic:
        c.check(key(k.BIC), bic_valid, f"БИК {bic}: нужно 9 цифр")
    account = c.text(key(k.ACCOUNT), required=True)
    if account:
        if not _digits(account, 20):
            c.fail(key(k.ACCOUNT), f"счет {account}: нужно 20 цифр")
        elif bic_valid and not account_key_ok(account, bic, correspondent=False):
            c.fail(key(k.ACCOUNT), f"счет {account}: неверный контрольный ключ для БИК {bic}")
    corr = c.text(key(k.CORR_ACCOUNT))
    if corr:
        if not _digits(corr, 20):
            c.fail(key(k.CORR_ACCOUNT), f"корсчет {corr}: нужно 20 цифр")
        elif bic_valid and not account_key_ok(corr, bic, correspondent=True):
            c.fail(key(k.CORR_ACCOUNT), f"корсчет {corr}: неверный контрольный ключ для БИК {bic}")
    return Party(
        name=name,
        inn=inn,
        kpp=kpp,
        account=account,
        bank_name=c.text(key(k.BANK_NAME), required=True, max_length=MAX_BANK_NAME_LENGTH),
        bank_city=c.text(key(k.BANK_CITY), max_length=MAX_BANK_NAME_LENGTH),
        bic=bic,
        correspondent_account=corr,
    )


def _budget(c: _Checker) -> BudgetFields | None:
    values = {key: c.text(key) for key in k.BUDGET_KEYS}
    if not any(values.values()):
        return None
    status, kbk, oktmo = values[k.DRAWER_STATUS], values[k.KBK], values[k.OKTMO]
    c.check(k.DRAWER_STATUS, _digits(status, 2), "статус составителя: 2 цифры")
    c.check(k.KBK, kbk == "0" or _KBK.fullmatch(kbk) is not None, "КБК: 20 знаков или 0")
    oktmo_ok = oktmo == "0" or _digits(oktmo, 8) or _digits(oktmo, 11)
    c.check(k.OKTMO, oktmo_ok, "ОКТМО: 8 или 11 цифр или 0")
    for key, limit in ((k.BASIS, 2), (k.PERIOD, 10), (k.BUDGET_DOC_NUMBER, 15)):
        c.check(key, len(values[key]) <= limit, f"не длиннее {limit} символов")
    doc_date = values[k.BUDGET_DOC_DATE]
    if doc_date not in ("", "0", "00"):
        c.parsed(k.BUDGET_DOC_DATE, parse_date, required=False)
    c.check(k.BUDGET_PAYMENT_TYPE, len(values[k.BUDGET_PAYMENT_TYPE]) <= 2, "не длиннее 2 символов")
    return BudgetFields(
        drawer_status=status,
        kbk=kbk,
        oktmo=oktmo,
        basis=values[k.BASIS],
        period=values[k.PERIOD],
        document_number=values[k.BUDGET_DOC_NUMBER],
        document_date=doc_date,
        payment_type=values[k.BUDGET_PAYMENT_TYPE],
    )


def _number_ok(text: str) -> bool:
    return 1 <= len(text) <= 6 and _DIGITS.fullmatch(text) is not None and int(text) != 0


def _uin_ok(uin: str) -> bool:
    return uin in ("", "0") or _UIN.fullmatch(uin) is not None


def _number(text: str) -> str:
    if not _number_ok(text):
        raise ValueError(f"номер документа: от 1 до 6 цифр, не ноль: {text!r}")
    return text


def _priority(text: str) -> int:
    if re.fullmatch(r"[1-5]", text) is None:
        raise ValueError(f"очередность платежа: цифра от 1 до 5, а не {text!r}")
    return int(text)


def order_from_fields(
    fields: Mapping[str, str],
    ref: DocumentRef,
    parties: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
) -> PaymentOrder:
    """Check logical 1C fields and build the order; raises ``ValidationError`` with every error.

    ``parties``: the payer's and the payee's fields in ``k.PARTY_SUFFIXES`` order, given apart
    (then ``fields`` need not hold them): a party is checked on its own fields only, and once."""
    c = _Checker(fields, ref)
    number = c.parsed(k.NUMBER, _number, required=True)
    when = c.parsed(k.DATE, parse_date, required=True)
    amount = c.parsed(k.AMOUNT, parse_amount, required=True)
    payer_raw, payee_raw = parties if parties is not None else (None, None)
    payer = _party(c, k.PAYER, payer=True, raw=payer_raw)
    payee = _party(c, k.PAYEE, payer=False, raw=payee_raw)
    payment_kind = c.text(k.PAYMENT_KIND)
    c.check(
        k.PAYMENT_KIND, payment_kind in PAYMENT_KINDS, f"неизвестный вид платежа {payment_kind!r}"
    )
    operation_kind = c.text(k.OPERATION_KIND) or "01"
    c.check(k.OPERATION_KIND, operation_kind == "01", "для платежного поручения вид операции 01")
    uin = c.text(k.UIN)
    c.check(k.UIN, _uin_ok(uin), "УИН: 20 или 25 знаков (цифры, латинские прописные) или 0")
    due_date = c.parsed(k.DUE_DATE, parse_date, required=False)
    priority = c.parsed(k.PRIORITY, _priority, required=True)
    purpose = c.text(k.PURPOSE, required=True, max_length=MAX_PURPOSE_LENGTH)
    budget = _budget(c)
    if c.errors or number is None or when is None or amount is None or priority is None:
        raise ValidationError(tuple(c.errors))
    return PaymentOrder(
        number=number,
        date=when,
        amount_kopecks=amount,
        payer=payer,
        payee=payee,
        purpose=purpose,
        priority=priority,
        operation_kind=operation_kind,
        payment_kind=payment_kind,
        uin=uin,
        due_date=due_date,
        budget=budget,
    )


def validate_order(order: PaymentOrder, ref: DocumentRef | None = None) -> tuple[FieldError, ...]:
    """Every check failure of an order built elsewhere (the bank re-checks what it receives)."""
    ref = ref or DocumentRef(order.number, 1)
    fields = k.order_fields(order)
    # Surrounding spaces would be signed but not shown by 1C: refuse them rather than strip.
    unnormalised = tuple(
        FieldError(ref, key, "пробелы в начале или в конце значения")
        for key, value in fields.items()
        if value != value.strip()
    )
    try:
        order_from_fields(fields, ref)
    except ValidationError as exc:
        return unnormalised + exc.errors
    return unnormalised


def plain_order(
    number: str,
    when: date,
    amount_kopecks: int,
    parties: tuple[tuple[str, ...], tuple[str, ...]],
    purpose: str,
    priority: int,
    *,
    operation_kind: str,
    payment_kind: str,
    uin: str,
    due_date: date | None,
) -> PaymentOrder | None:
    """The order (without budget fields) when every value is plainly valid and already in its
    normal form, as the bank receives nearly every document; None when it is not, and then
    :func:`order_from_fields` must decide, and name the errors.

    The same rules as ``order_from_fields``, none of its per-field bookkeeping: the bank reads
    thousands of documents a second. Only ever accepts less than it does (a test holds the two
    together on valid and broken documents); the parties are its own cached checks."""
    if not (
        0 < amount_kopecks <= MAX_AMOUNT_KOPECKS
        and 1 <= priority <= 5
        and _number_ok(number)
        # 1C writes a date's year in four digits: an earlier year is refused there.
        and when.year >= 1000
        and (due_date is None or due_date.year >= 1000)
        and operation_kind == "01"
        and payment_kind in PAYMENT_KINDS
        and _uin_ok(uin)
        and 0 < len(purpose) <= MAX_PURPOSE_LENGTH
        and purpose == purpose.strip()
        and _BAD_PURPOSE_CHAR.search(purpose) is None
    ):
        return None
    payer, payer_errors = _checked_party(k.PAYER, True, parties[0])
    payee, payee_errors = _checked_party(k.PAYEE, False, parties[1])
    if payer_errors or payee_errors:
        return None
    return PaymentOrder(
        number=number,
        date=when,
        amount_kopecks=amount_kopecks,
        payer=payer,
        payee=payee,
        purpose=purpose,
        priority=priority,
        operation_kind=operation_kind,
        payment_kind=payment_kind,
        uin=uin,
        due_date=due_date,
    )
