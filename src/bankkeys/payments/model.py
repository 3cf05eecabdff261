"""The payment order (платежное поручение) as typed, immutable values.

Money is integer kopecks, never a float. A ``PaymentOrder`` only holds values of the right *type*
(a real date, an integer amount); whether they pass the bank's checks (control keys, INN digits...)
is :mod:`bankkeys.payments.validate`'s job, so a bank can represent and refuse a wrong order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from bankkeys.payments.errors import DocumentRef, FieldError


@dataclass(frozen=True, slots=True)
class Party:
    """Payer or payee with their bank (1C keys ``Плательщик…`` / ``Получатель…``)."""

    name: str
    inn: str
    kpp: str
    account: str
    bank_name: str
    bank_city: str
    bic: str
    correspondent_account: str

    def values(self) -> tuple[str, ...]:
        """The fields in declaration order: the order of the 1C key suffixes and JSON names."""
        return (
            self.name,
            self.inn,
            self.kpp,
            self.account,
            self.bank_name,
            self.bank_city,
            self.bic,
            self.correspondent_account,
        )


@dataclass(frozen=True, slots=True)
class BudgetFields:
    """Fields 101, 104–110 of a budget (tax, customs) payment; absent for ordinary payments."""

    drawer_status: str  # СтатусСоставителя (field 101)
    kbk: str  # ПоказательКБК (104)
    oktmo: str  # ОКАТО, holding the ОКТМО code (105)
    basis: str  # ПоказательОснования (106)
    period: str  # ПоказательПериода (107)
    document_number: str  # ПоказательНомера (108)
    document_date: str  # ПоказательДаты (109): a date or "0", so text
    payment_type: str  # ПоказательТипа (110)

    def values(self) -> tuple[str, ...]:
        """The fields in declaration order: the order of the 1C keys and JSON names."""
        return (
            self.drawer_status,
            self.kbk,
            self.oktmo,
            self.basis,
            self.period,
            self.document_number,
            self.document_date,
            self.payment_type,
        )


@dataclass(frozen=True, slots=True)
class PaymentOrder:
    """One payment order; ``operation_kind`` is ВидОплаты ("01" for a payment order)."""

    number: str
    date: dt.date
    amount_kopecks: int
    payer: Party
    payee: Party
    purpose: str
    priority: int
    operation_kind: str = "01"
    payment_kind: str = ""  # ВидПлатежа: "", "срочно", "электронно"...
    uin: str = ""  # Код (УИН)
    due_date: dt.date | None = None  # СрокПлатежа
    budget: BudgetFields | None = None

    @property
    def amount(self) -> Decimal:
        """The amount in rubles, exact."""
        return Decimal(self.amount_kopecks).scaleb(-2)


class Verdict(Enum):
    """The bank's answer to one document."""

    ACCEPTED = "accepted"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class DocumentStatus:
    """The bank's verdict on a document; ``reason`` is empty when accepted."""

    verdict: Verdict
    reason: str = ""

    def __post_init__(self) -> None:
        if self.verdict is Verdict.REFUSED and not self.reason.strip():
            raise ValueError("a refusal needs a reason")
        if self.verdict is Verdict.ACCEPTED and self.reason:
            raise ValueError("an accepted document has no refusal reason")


@dataclass(frozen=True, slots=True)
class ImportedDocument:
    """One document's outcome: the order, or every error; unknown keys kept, never signed."""

    ref: DocumentRef
    order: PaymentOrder | None
    errors: tuple[FieldError, ...]
    unknown: tuple[tuple[str, str], ...] = ()
    status: DocumentStatus | None = None
