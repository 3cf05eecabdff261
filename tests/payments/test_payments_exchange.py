"""Reading and writing 1CClientBankExchange files made by hand in these tests."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payments_samples import (
    FNS_INN,
    PAYEE_ACCOUNT,
    PAYER_ACCOUNT,
    PAYER_INN,
    PERSON_INN,
    TREASURY_ACCOUNT,
    encode_file,
    file_text,
    good_documents,
    good_file,
    ordinary_document,
    replace,
)

from bankkeys.payments import (
    DocumentStatus,
    EncodingError,
    ExchangeFormatError,
    ExportEntry,
    ExportError,
    ImportedDocument,
    PaymentsError,
    TruncatedFileError,
    Verdict,
    import_exchange,
    import_orders,
    read_exchange,
    write_exchange,
)
from bankkeys.payments.exchange import RawDocument

CREATED = datetime(2024, 3, 4, 18, 30, 0)


def orders(results: tuple[ImportedDocument, ...]) -> list[object]:
    assert all(r.order is not None for r in results), [str(e) for r in results for e in r.errors]
    return [r.order for r in results]


# --- good files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "declared", "newline", "bom"),
    [
        ("cp1251", "Windows", "\r\n", False),
        ("cp1251", "Windows", "\n", False),
        ("utf-8", "UTF-8", "\r\n", False),
        ("utf-8", "UTF-8", "\n", True),
        ("cp866", "DOS", "\r\n", False),
    ],
)
def test_good_file_reads_every_document(codec: str, declared: str, newline: str, bom: bool) -> None:
    data = good_file(codec=codec, declared=declared, newline=newline, bom=bom)
    results = import_exchange(data)
    assert [r.ref.position for r in results] == [1, 2, 3]
    first, tax, person = (r.order for r in results)
    assert first is not None and tax is not None and person is not None
    assert first.number == "15"
    assert first.date == date(2024, 3, 1)
    assert first.amount_kopecks == 12345678
    assert str(first.amount) == "123456.78"
    assert first.payer.name == "ООО 'Ромашка'"  # Плательщик1 wins over "ИНН … name"
    assert first.payer.inn == PAYER_INN
    assert first.payer.account == PAYER_ACCOUNT
    assert first.payer.bank_city == "г. Москва"
    assert first.payee.account == PAYEE_ACCOUNT
    assert first.payee.kpp == "5009AB001"
    assert first.priority == 5
    assert first.payment_kind == "электронно"
    assert first.budget is None
    assert tax.amount_kopecks == 500000
    assert tax.payee.name == "Казначейство России (ФНС России)"
    assert tax.payee.inn == FNS_INN
    assert tax.payee.account == TREASURY_ACCOUNT
    assert tax.purpose == "Единый налоговый платеж\nза март 2024 года"
    assert tax.due_date == date(2024, 3, 28)
    assert tax.budget is not None and tax.budget.kbk == "18201061201010000510"
    assert person.payee.inn == PERSON_INN
    assert person.operation_kind == "01"  # absent ВидОплаты means 01
    assert person.amount_kopecks == 1


def test_same_orders_from_every_encoding_and_line_end() -> None:
    reference = orders(import_exchange(good_file()))
    for data in (
        good_file(newline="\n"),
        good_file(codec="utf-8", declared="UTF-8"),
        good_file(codec="utf-8", declared="UTF-8", bom=True, newline="\n"),
        good_file(codec="cp866", declared="DOS"),
    ):
        assert orders(import_exchange(data)) == reference


def test_unknown_keys_kept_aside_and_statement_keys_dropped() -> None:
    results = import_exchange(good_file())
    assert results[2].unknown == (("ИдентификаторДокумента", "c0ffee-17"),)
    assert results[0].unknown == ()


def test_header_and_account_section_are_read() -> None:
    parsed = read_exchange(good_file())
    assert parsed.codec == "cp1251"
    assert parsed.header_values("РасчСчет") == (PAYER_ACCOUNT,)
    assert parsed.header_values("Документ") == ("Платежное поручение",)
    assert len(parsed.documents) == 3


def test_import_orders_detects_1c() -> None:
    assert orders(import_orders(good_file())) == orders(import_exchange(good_file()))


# --- each field broken in turn ---------------------------------------------------------------

_WRONG_KEY_DIGIT = str((int(PAYER_ACCOUNT[8]) + 1) % 10)

# (key to set, value or None to remove, the 1C key the error must name, words of the message)
BROKEN = [
    ("Номер", "", "Номер", "обязательное"),
    ("Номер", "1234567", "Номер", "от 1 до 6 цифр"),
    ("Номер", "000", "Номер", "не ноль"),
    ("Дата", "31.02.2024", "Дата", "нет такой даты"),
    ("Дата", "2024-03-01", "Дата", "ДД.ММ.ГГГГ"),
    ("Дата", None, "Дата", "обязательное"),
    ("Сумма", "0.00", "Сумма", "больше нуля"),
    ("Сумма", "-5.00", "Сумма", "не сумма"),
    ("Сумма", "10.005", "Сумма", "двух знаков"),
    ("Сумма", "10,50", "Сумма", "точкой"),
    ("Сумма", "1e5", "Сумма", "не сумма"),
    ("Сумма", "1" * 17 + ".00", "Сумма", "больше допустимой"),
    ("ПлательщикСчет", "4070281000000001234", "ПлательщикСчет", "20 цифр"),
    (
        "ПлательщикСчет",
        PAYER_ACCOUNT[:8] + _WRONG_KEY_DIGIT + PAYER_ACCOUNT[9:],
        "ПлательщикСчет",
        "контрольный ключ",
    ),
    ("ПлательщикСчет", None, "ПлательщикСчет", "обязательное"),
    ("ПлательщикИНН", "7701234567", "ПлательщикИНН", "контрольные цифры"),
    ("ПлательщикИНН", "77012345", "ПлательщикИНН", "10/12"),
    ("ПлательщикИНН", "", "ПлательщикИНН", "обязательное"),
    ("ПлательщикКПП", "77010100", "ПлательщикКПП", "9 знаков"),
    ("ПлательщикКПП", "7701ab001", "ПлательщикКПП", "9 знаков"),
    ("ПлательщикБИК", "04452522", "ПлательщикБИК", "9 цифр"),
    ("ПлательщикБИК", "044525226", "ПлательщикСчет", "контрольный ключ"),
    ("ПлательщикКорсчет", "30101810400000000226", "ПлательщикКорсчет", "контрольный ключ"),
    ("ПлательщикКорсчет", "3010181040000000022", "ПлательщикКорсчет", "20 цифр"),
    ("ПлательщикБанк1", "", "ПлательщикБанк1", "обязательное"),
    ("Плательщик1", "Я" * 161, "Плательщик", "длиннее 160"),
    ("Плательщик1", "ООО Ромашка\u00a0Плюс", "Плательщик", "недопустимые символы"),
    ("ПолучательСчет", "40702810X00000000777", "ПолучательСчет", "20 цифр"),
    ("ПолучательИНН", "7727406021", "ПолучательИНН", "контрольные цифры"),
    ("ПолучательБИК", "", "ПолучательБИК", "обязательное"),
    ("Получатель1", None, "Получатель", "обязательное"),
    ("ПолучательКорсчет", "30101810400000000225", "ПолучательКорсчет", "контрольный ключ"),
    ("Очередность", "6", "Очередность", "от 1 до 5"),
    ("Очередность", "0", "Очередность", "от 1 до 5"),
    ("Очередность", "", "Очередность", "обязательное"),
    ("ВидОплаты", "02", "ВидОплаты", "вид операции 01"),
    ("ВидПлатежа", "голубиной почтой", "ВидПлатежа", "вид платежа"),
    ("Код", "12345", "Код", "УИН"),
    ("СрокПлатежа", "30.02.2024", "СрокПлатежа", "нет такой даты"),
    ("НазначениеПлатежа1", None, "НазначениеПлатежа", "обязательное"),
    ("НазначениеПлатежа", "Оплата " * 40, "НазначениеПлатежа", "длиннее 210"),
    ("СтатусСоставителя", "1", "СтатусСоставителя", "2 цифры"),
    ("ПоказательКБК", "1820106120101000051", "ПоказательКБК", "20 знаков"),
    ("ОКАТО", "4538", "ОКАТО", "8 или 11"),
    ("ПоказательДаты", "32.01.2024", "ПоказательДаты", "нет такой даты"),
]


@pytest.mark.parametrize(("key", "value", "error_key", "expected"), BROKEN, ids=repr)
def test_each_broken_field_names_document_and_key(
    key: str, value: str | None, error_key: str, expected: str
) -> None:
    docs = good_documents()
    # Break the middle one of three documents (the budget payment) to prove the position.
    doc = docs[1]
    if key in ("Получатель1", "НазначениеПлатежа1"):  # all numbered lines of the field go
        doc = [(k, v) for k, v in doc if not k.startswith(key[:-1])]
    else:
        doc = replace(doc, key, value)
    docs[1] = doc
    results = import_exchange(encode_file(file_text(docs)))
    assert results[0].order is not None and results[2].order is not None
    broken = results[1]
    assert broken.order is None
    matching = [e for e in broken.errors if e.key == error_key]
    assert matching, [str(e) for e in broken.errors]
    assert any(expected in e.message for e in matching), [str(e) for e in matching]
    for error in matching:
        assert error.document.position == 2
        assert error.document.number == ("16" if key != "Номер" else value or "")
        assert error.document.line is not None
        assert f"поле {error_key}" in str(error) and "позиция 2" in str(error)


def test_all_errors_of_a_document_are_collected() -> None:
    doc = ordinary_document()
    for key, value in (("Сумма", "0"), ("ПлательщикИНН", "1234567890"), ("Очередность", "9")):
        doc = replace(doc, key, value)
    results = import_exchange(encode_file(file_text([doc])))
    assert {e.key for e in results[0].errors} == {"Сумма", "ПлательщикИНН", "Очередность"}


def test_individual_has_no_kpp() -> None:
    doc = replace(good_documents()[2], "ПолучательКПП", "770101001")
    (result,) = import_exchange(encode_file(file_text([doc])))
    assert [e.key for e in result.errors] == ["ПолучательКПП"]
    assert "физического лица" in result.errors[0].message


def test_unsupported_document_kind_is_reported_not_dropped() -> None:
    lines = file_text(good_documents())
    index = lines.index("СекцияДокумент=Платежное поручение")
    lines[index] = "СекцияДокумент=Платежное требование"
    results = import_exchange(encode_file(lines))
    assert len(results) == 3
    assert results[0].order is None
    assert results[0].errors[0].key == "СекцияДокумент"
    assert "Платежное требование" in results[0].errors[0].message


# --- file-level faults ---------------------------------------------------------------------


def test_declared_windows_but_utf8_is_refused() -> None:
    with pytest.raises(EncodingError, match="UTF-8") as info:
        import_exchange(good_file(codec="utf-8", declared="Windows"))
    assert info.value.line == 3


def test_declared_dos_but_cp1251_is_refused() -> None:
    with pytest.raises(EncodingError) as info:
        import_exchange(good_file(codec="cp1251", declared="DOS"))
    assert info.value.line == 3


def test_declared_windows_but_cp866_is_refused() -> None:
    with pytest.raises(EncodingError):
        import_exchange(good_file(codec="cp866", declared="Windows"))


def test_header_in_cp1251_body_in_cp866_is_mojibake() -> None:
    lines = file_text(good_documents())
    split = lines.index("СекцияДокумент=Платежное поручение")
    data = encode_file(lines[:split]) + encode_file(lines[split:], codec="cp866")
    with pytest.raises(EncodingError, match="не бывает") as info:
        import_exchange(data)
    assert info.value.line is not None and info.value.line > split


def test_body_in_utf8_under_windows_header_is_refused() -> None:
    lines = file_text(good_documents())
    split = lines.index("СекцияДокумент=Платежное поручение")
    data = encode_file(lines[:split]) + encode_file(lines[split:], codec="utf-8")
    with pytest.raises(EncodingError) as info:
        import_exchange(data)
    assert info.value.line is not None and info.value.line > split


def test_undecodable_byte_names_its_line() -> None:
    lines = file_text(good_documents())
    at = lines.index("Номер=16")
    data = encode_file(lines[:at]) + b"\xd1\xf3\xec\xec\xe0=\x98\r\n" + encode_file(lines[at:])
    with pytest.raises(EncodingError, match="Windows-1251") as info:
        import_exchange(data)
    assert info.value.line == at + 1


def test_unknown_or_missing_encoding() -> None:
    with pytest.raises(EncodingError, match="KOI8"):
        import_exchange(good_file(declared="KOI8-R"))
    lines = [line for line in file_text(good_documents()) if not line.startswith("Кодировка")]
    with pytest.raises(EncodingError, match="нет строки Кодировка"):
        import_exchange(encode_file(lines))
    # A BOM is enough to say UTF-8.
    assert len(import_exchange(encode_file(lines, codec="utf-8", bom=True))) == 3


def test_bom_contradicting_declaration() -> None:
    with pytest.raises(EncodingError, match="метки UTF-8"):
        import_exchange(good_file(codec="utf-8", declared="Windows", bom=True))


def test_not_a_1c_file() -> None:
    with pytest.raises(ExchangeFormatError, match="1CClientBankExchange") as info:
        import_exchange(b"<html>hello</html>")
    assert info.value.line == 1


def test_first_line_must_be_exactly_the_magic() -> None:
    lines = file_text(good_documents())
    lines[0] = "1CClientBankExchangeX"
    with pytest.raises(ExchangeFormatError, match="ровно") as info:
        import_exchange(encode_file(lines))
    assert info.value.line == 1


def test_file_without_documents_is_empty_not_an_error() -> None:
    assert import_exchange(encode_file(file_text([]))) == ()


def _truncation_points() -> list[tuple[str, int]]:
    lines = file_text(good_documents())
    in_first_doc = lines.index("Номер=15") + 3
    before_end = lines.index("КонецДокумента")  # drop the first КонецДокумента and after
    in_account = lines.index("СекцияРасчСчет") + 1
    return [
        ("inside the first document", in_first_doc),
        ("just before КонецДокумента", before_end),
        ("inside the account section", in_account),
        ("before КонецФайла", len(lines) - 1),
        ("inside the last document", len(lines) - 5),
    ]


@pytest.mark.parametrize(("where", "keep"), _truncation_points(), ids=lambda x: str(x))
def test_truncated_file_names_the_line(where: str, keep: int) -> None:
    lines = file_text(good_documents())[:keep]
    with pytest.raises(TruncatedFileError) as info:
        import_exchange(encode_file(lines))
    assert info.value.line == keep, where
    assert f"строка {keep}" in str(info.value)


def test_truncated_mid_line_bytes() -> None:
    data = good_file()
    cut = data[: data.index("Номер=16".encode("cp1251")) + 4]
    with pytest.raises(ExchangeFormatError):
        import_exchange(cut)


def test_unclosed_document_before_next_names_both_lines() -> None:
    lines = file_text(good_documents())
    first_end = lines.index("КонецДокумента")
    del lines[first_end]
    with pytest.raises(TruncatedFileError) as info:
        import_exchange(encode_file(lines))
    opened = lines.index("СекцияДокумент=Платежное поручение") + 1
    assert info.value.line == first_end + 1
    assert f"строки {opened}" in info.value.message


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda ls: ls.insert(ls.index("Номер=15") + 1, "просто текст"), "Ключ=Значение"),
        (lambda ls: ls.insert(ls.index("Номер=15") + 1, "Номер=99"), "повторяется"),
        (lambda ls: ls.append("Лишнее=1"), "после КонецФайла"),
        (lambda ls: ls.insert(1, "КонецДокумента"), "без открытой секции"),
        (lambda ls: ls.insert(ls.index("КонецДокумента") + 1, "Отправитель=x"), "вне секции"),
    ],
)
def test_structural_faults(mutate: object, expected: str) -> None:
    lines = file_text(good_documents())
    assert callable(mutate)
    mutate(lines)
    with pytest.raises(ExchangeFormatError, match=expected) as info:
        import_exchange(encode_file(lines))
    assert info.value.line is not None


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_only_raise_our_errors(data: bytes) -> None:
    for candidate in (data, b"1CClientBankExchange\r\n" + data):
        try:
            results = import_orders(candidate)
        except PaymentsError as exc:
            assert str(exc)  # a message for the accountant, never empty
        else:
            assert all(r.order is not None or r.errors for r in results)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_good_file_only_raises_our_errors(data: st.DataObject) -> None:
    raw = bytearray(good_file())
    for _ in range(data.draw(st.integers(1, 5))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    try:
        results = import_exchange(bytes(raw))
    except PaymentsError as exc:
        assert str(exc)
    else:
        assert len(results) <= 3
        assert all(r.order is not None or r.errors for r in results)


# --- writing the bank's statuses -------------------------------------------------------------


def test_round_trip_read_export_read() -> None:
    results = import_exchange(good_file())
    statuses = [
        DocumentStatus(Verdict.ACCEPTED),
        DocumentStatus(Verdict.REFUSED, "Подпись недействительна: сертификат отозван"),
        DocumentStatus(Verdict.ACCEPTED),
    ]
    entries = []
    for result, status in zip(results, statuses, strict=True):
        assert result.order is not None
        entries.append(ExportEntry.of_order(result.order, status))
    exported = write_exchange(entries, created=CREATED, receiver="Бухгалтерия")
    assert exported.startswith(b"1CClientBankExchange\r\n")
    assert "Кодировка=Windows\r\n".encode("cp1251") in exported
    assert b"\n" not in exported.replace(b"\r\n", b"")
    again = import_exchange(exported)
    assert [r.order for r in again] == [r.order for r in results]
    assert [r.status for r in again] == statuses
    assert all(r.unknown == () for r in again)
    header = read_exchange(exported)
    assert header.header_values("ДатаНачала") == ("01.03.2024",)
    assert header.header_values("ДатаКонца") == ("04.03.2024",)
    assert header.header_values("РасчСчет") == (PAYER_ACCOUNT,)


@pytest.mark.parametrize("codec", ["utf-8", "cp866"])
def test_export_in_other_codecs_round_trips(codec: str) -> None:
    results = import_exchange(good_file())
    entries = [ExportEntry.of_order(r.order) for r in results if r.order is not None]
    cp866_safe = [e for e in entries if not any(ch in v for _, v in e.fields for ch in "«»–—")]
    chosen = entries if codec == "utf-8" else cp866_safe
    assert chosen
    again = import_exchange(write_exchange(chosen, created=CREATED, codec=codec))
    assert [r.order for r in again] == [
        r.order for r in results if r.order is not None and ExportEntry.of_order(r.order) in chosen
    ]


def test_refused_raw_document_is_answered_with_its_own_fields() -> None:
    doc = replace(ordinary_document(), "ПлательщикИНН", "1234567890")
    parsed = read_exchange(encode_file(file_text([doc])))
    document: RawDocument = parsed.documents[0]
    status = DocumentStatus(Verdict.REFUSED, "ПлательщикИНН: неверные контрольные цифры")
    exported = write_exchange([ExportEntry.of_raw(document, status)], created=CREATED)
    (again,) = import_exchange(exported)
    assert again.status == status
    assert again.order is None and again.errors[0].key == "ПлательщикИНН"


def test_export_refuses_line_breaks_and_unencodable() -> None:
    results = import_exchange(good_file())
    assert results[0].order is not None
    entry = ExportEntry.of_order(results[0].order, DocumentStatus(Verdict.REFUSED, "две\nстроки"))
    with pytest.raises(ExportError, match="перевод строки"):
        write_exchange([entry], created=CREATED)
    entry = ExportEntry.of_order(results[0].order, DocumentStatus(Verdict.REFUSED, "причина ✗"))
    with pytest.raises(ExportError, match="U\\+2717"):
        write_exchange([entry], created=CREATED)
    with pytest.raises(ExportError):
        write_exchange([entry], created=CREATED, codec="koi8-r")


def test_status_must_be_consistent() -> None:
    with pytest.raises(ValueError, match="reason"):
        DocumentStatus(Verdict.REFUSED)
    lines = file_text([ordinary_document()])
    lines.insert(lines.index("КонецДокумента"), "СтатусБанка=Потерян")
    with pytest.raises(ExchangeFormatError, match="Потерян"):
        import_exchange(encode_file(lines))
