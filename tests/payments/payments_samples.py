"""Hand-made 1C payment files for the payments tests, and independent control-digit arithmetic.

The control digits here follow the published procedures step by step (Bank of Russia "Порядок
расчета контрольного ключа" N 515: low digits of the products, ×3, low digit; FNS INN digits) and
share no code with bankkeys.payments.validate, so the two can check each other.
"""

from __future__ import annotations

from collections.abc import Sequence

Lines = list[tuple[str, str]]

SBER_BIC = "044525225"  # ПАО Сбербанк, public
SBER_CORR = "30101810400000000225"
GPB_BIC = "044525823"  # Банк ГПБ (АО), public
GPB_CORR = "30101810200000000823"
# Единый налоговый платеж: Отделение Тула Банка России//УФК по Тульской области (public details).
TREASURY_BIC = "017003983"
TREASURY_EKS = "40102810445370000059"
TREASURY_ACCOUNT = "03100643000000018500"
FNS_INN = "7727406020"
FNS_KPP = "770801001"


def account_key(conditional: str, account: str) -> str:
    """The control key (9th digit) per Порядок N 515, computed with the key set to 0."""
    digits = conditional + account[:8] + "0" + account[9:]
    weights = "713" * 8
    low_digits = sum((int(d) * int(w)) % 10 for d, w in zip(digits, weights, strict=False))
    return str(((low_digits % 10) * 3) % 10)


def make_account(head8: str, tail11: str, bic: str, *, correspondent: bool = False) -> str:
    conditional = "0" + bic[4:6] if correspondent else bic[6:9]
    draft = head8 + "0" + tail11
    return head8 + account_key(conditional, draft) + tail11


def inn_check(digits: str, weights: Sequence[int]) -> str:
    total = 0
    for d, w in zip(digits, weights, strict=True):
        total += int(d) * w
    remainder = total % 11
    return "0" if remainder == 10 else str(remainder)


def make_inn10(first9: str) -> str:
    return first9 + inn_check(first9, [2, 4, 10, 3, 5, 9, 4, 6, 8])


def make_inn12(first10: str) -> str:
    eleventh = inn_check(first10, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8])
    twelfth = inn_check(first10 + eleventh, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8])
    return first10 + eleventh + twelfth


PAYER_INN = make_inn10("770123456")
PAYER_ACCOUNT = make_account("40702810", "38000012345", SBER_BIC)
PAYEE_INN = make_inn10("500987654")
PAYEE_ACCOUNT = make_account("40702810", "10000000777", GPB_BIC)
PERSON_INN = make_inn12("5001007322")
PERSON_ACCOUNT = make_account("40817810", "55000000042", SBER_BIC)


def payer_lines() -> Lines:
    return [
        ("ПлательщикСчет", PAYER_ACCOUNT),
        ("Плательщик", f"ИНН {PAYER_INN} ООО 'Ромашка'"),
        ("Плательщик1", "ООО 'Ромашка'"),
        ("ПлательщикИНН", PAYER_INN),
        ("ПлательщикКПП", "770101001"),
        ("ПлательщикРасчСчет", PAYER_ACCOUNT),
        ("ПлательщикБанк1", "ПАО Сбербанк"),
        ("ПлательщикБанк2", "г. Москва"),
        ("ПлательщикБИК", SBER_BIC),
        ("ПлательщикКорсчет", SBER_CORR),
    ]


def ordinary_document() -> Lines:
    return [
        ("Номер", "15"),
        ("Дата", "01.03.2024"),
        ("Сумма", "123456.78"),
        *payer_lines(),
        ("ПолучательСчет", PAYEE_ACCOUNT),
        ("Получатель", 'ООО "Лютик"'),
        ("ПолучательИНН", PAYEE_INN),
        ("ПолучательКПП", "5009AB001"),
        ("ПолучательБанк1", "Банк ГПБ (АО)"),
        ("ПолучательБанк2", "г. Москва"),
        ("ПолучательБИК", GPB_BIC),
        ("ПолучательКорсчет", GPB_CORR),
        ("ВидПлатежа", "электронно"),
        ("ВидОплаты", "01"),
        ("Код", "0"),
        ("Очередность", "5"),
        (
            "НазначениеПлатежа",
            "Оплата по счету № 7 от 28.02.2024 за бумагу. В т.ч. НДС 20% 20576.13",
        ),
    ]


def tax_document() -> Lines:
    return [
        ("Номер", "16"),
        ("Дата", "01.03.2024"),
        ("Сумма", "5000"),
        *payer_lines(),
        ("ПолучательСчет", TREASURY_ACCOUNT),
        ("Получатель1", "Казначейство России"),
        ("Получатель2", "(ФНС России)"),
        ("ПолучательИНН", FNS_INN),
        ("ПолучательКПП", FNS_KPP),
        ("ПолучательБанк1", "ОТДЕЛЕНИЕ ТУЛА БАНКА РОССИИ//УФК по Тульской области"),
        ("ПолучательБанк2", "г Тула"),
        ("ПолучательБИК", TREASURY_BIC),
        ("ПолучательКорсчет", TREASURY_EKS),
        ("ВидОплаты", "01"),
        ("Код", "0"),
        ("Очередность", "5"),
        ("СрокПлатежа", "28.03.2024"),
        ("НазначениеПлатежа1", "Единый налоговый платеж"),
        ("НазначениеПлатежа2", "за март 2024 года"),
        ("СтатусСоставителя", "01"),
        ("ПоказательКБК", "18201061201010000510"),
        ("ОКАТО", "0"),
        ("ПоказательОснования", "0"),
        ("ПоказательПериода", "0"),
        ("ПоказательНомера", "0"),
        ("ПоказательДаты", "0"),
    ]


def person_document() -> Lines:
    return [
        ("Номер", "17"),
        ("Дата", "04.03.2024"),
        ("Сумма", "0.01"),
        *payer_lines(),
        ("ПолучательСчет", PERSON_ACCOUNT),
        ("Получатель", "Иванов Иван Иванович"),
        ("ПолучательИНН", PERSON_INN),
        ("ПолучательБанк1", "ПАО Сбербанк"),
        ("ПолучательБИК", SBER_BIC),
        ("ПолучательКорсчет", SBER_CORR),
        ("Очередность", "3"),
        ("НазначениеПлатежа", "Заработная плата за февраль 2024. НДС не облагается"),
        ("ДатаСписано", "04.03.2024"),
        ("ИдентификаторДокумента", "c0ffee-17"),
    ]


def good_documents() -> list[Lines]:
    return [ordinary_document(), tax_document(), person_document()]


def header_lines(declared: str = "Windows") -> Lines:
    return [
        ("ВерсияФормата", "1.03"),
        ("Кодировка", declared),
        ("Отправитель", "Бухгалтерия предприятия, редакция 3.0"),
        ("Получатель", "bankkeys"),
        ("ДатаСоздания", "04.03.2024"),
        ("ВремяСоздания", "10:15:00"),
        ("ДатаНачала", "01.03.2024"),
        ("ДатаКонца", "04.03.2024"),
        ("РасчСчет", PAYER_ACCOUNT),
        ("Документ", "Платежное поручение"),
    ]


def file_text(documents: Sequence[Lines], *, declared: str = "Windows") -> list[str]:
    """The lines of a whole file (no line ends)."""
    out = ["1CClientBankExchange"]
    out += [f"{k}={v}" for k, v in header_lines(declared)]
    out += ["СекцияРасчСчет", "ДатаНачала=01.03.2024", "РасчСчет=" + PAYER_ACCOUNT, "КонецРасчСчет"]
    for doc in documents:
        out.append("СекцияДокумент=Платежное поручение")
        out += [f"{k}={v}" for k, v in doc]
        out.append("КонецДокумента")
    out.append("КонецФайла")
    return out


def encode_file(
    lines: Sequence[str], *, codec: str = "cp1251", newline: str = "\r\n", bom: bool = False
) -> bytes:
    data = (newline.join(lines) + newline).encode(codec)
    return b"\xef\xbb\xbf" + data if bom else data


def good_file(
    *, codec: str = "cp1251", declared: str = "Windows", newline: str = "\r\n", bom: bool = False
) -> bytes:
    return encode_file(
        file_text(good_documents(), declared=declared), codec=codec, newline=newline, bom=bom
    )


def replace(doc: Lines, key: str, value: str | None) -> Lines:
    """The document with ``key`` set to ``value`` (appended if absent), or removed when None."""
    if value is None:
        return [(k, v) for k, v in doc if k != key]
    if any(k == key for k, _ in doc):
        return [(k, value if k == key else v) for k, v in doc]
    return [*doc, (key, value)]
