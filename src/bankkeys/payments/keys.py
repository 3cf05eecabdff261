"""The 1C keys of a payment order and the model's values written as 1C text.

The 1C key is the one name of a field everywhere: in errors, in the JSON mapping, in the writer.
"Logical fields" are the document after multi-line keys are joined (``Плательщик1..4`` →
``Плательщик``, ``НазначениеПлатежа1..`` → ``НазначениеПлатежа``).
"""

from __future__ import annotations

from datetime import date
from typing import Final

from bankkeys.payments.model import Party, PaymentOrder

PAYMENT_ORDER_KIND: Final = "Платежное поручение"

NUMBER: Final = "Номер"
DATE: Final = "Дата"
AMOUNT: Final = "Сумма"
PAYMENT_KIND: Final = "ВидПлатежа"
OPERATION_KIND: Final = "ВидОплаты"
UIN: Final = "Код"
PRIORITY: Final = "Очередность"
DUE_DATE: Final = "СрокПлатежа"
PURPOSE: Final = "НазначениеПлатежа"

PAYER: Final = "Плательщик"
PAYEE: Final = "Получатель"
# Suffixes after PAYER / PAYEE; the empty suffix is the name.
NAME: Final = ""
INN: Final = "ИНН"
KPP: Final = "КПП"
ACCOUNT: Final = "Счет"
BANK_NAME: Final = "Банк1"
BANK_CITY: Final = "Банк2"
BIC: Final = "БИК"
CORR_ACCOUNT: Final = "Корсчет"
PARTY_SUFFIXES: Final = (NAME, INN, KPP, ACCOUNT, BANK_NAME, BANK_CITY, BIC, CORR_ACCOUNT)
NAME_LINES: Final = 4  # Плательщик1..Плательщик4

DRAWER_STATUS: Final = "СтатусСоставителя"
KBK: Final = "ПоказательКБК"
OKTMO: Final = "ОКАТО"
BASIS: Final = "ПоказательОснования"
PERIOD: Final = "ПоказательПериода"
BUDGET_DOC_NUMBER: Final = "ПоказательНомера"
BUDGET_DOC_DATE: Final = "ПоказательДаты"
BUDGET_PAYMENT_TYPE: Final = "ПоказательТипа"
BUDGET_KEYS: Final = (
    DRAWER_STATUS,
    KBK,
    OKTMO,
    BASIS,
    PERIOD,
    BUDGET_DOC_NUMBER,
    BUDGET_DOC_DATE,
    BUDGET_PAYMENT_TYPE,
)

# Our extension for the bank's answer (1C ignores keys it does not know).
BANK_STATUS: Final = "СтатусБанка"
REFUSAL_REASON: Final = "ПричинаОтказа"
STATUS_ACCEPTED: Final = "Принят"
STATUS_REFUSED: Final = "Отклонен"

# Keys the 1C standard defines for a document but that a payment order to sign does not carry:
# the dates the *bank* fills in statements, and the settlement account of indirect settlements
# (we model direct settlements only: the account is ``…Счет``). Read, kept aside, never signed.
IGNORED_KEYS: Final = frozenset(
    {"ДатаСписано", "ДатаПоступило", "ПлательщикРасчСчет", "ПолучательРасчСчет"}
)


def format_amount(kopecks: int) -> str:
    """``123450`` → ``"1234.50"``: rubles with a dot and two decimals, as 1C writes them."""
    rubles, cents = divmod(kopecks, 100)
    return f"{rubles}.{cents:02d}"


def format_date(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _party_fields(prefix: str, party: Party) -> dict[str, str]:
    return {prefix + suffix: v for suffix, v in zip(PARTY_SUFFIXES, party.values(), strict=True)}


def order_fields(order: PaymentOrder) -> dict[str, str]:
    """The order as logical 1C fields (values as 1C text), in the order 1C writes them."""
    fields = {
        NUMBER: order.number,
        DATE: format_date(order.date),
        AMOUNT: format_amount(order.amount_kopecks),
    }
    fields |= _party_fields(PAYER, order.payer)
    fields |= _party_fields(PAYEE, order.payee)
    fields |= {
        PAYMENT_KIND: order.payment_kind,
        OPERATION_KIND: order.operation_kind,
        UIN: order.uin,
        DUE_DATE: format_date(order.due_date) if order.due_date else "",
        PRIORITY: str(order.priority),
        PURPOSE: order.purpose,
    }
    budget = order.budget
    if budget is not None:
        fields |= dict(zip(BUDGET_KEYS, budget.values(), strict=True))
    return fields
