"""The JSON form and the canonical bytes: same document, same order, same bytes from any source."""

from __future__ import annotations

import json
from dataclasses import replace as dc_replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from payments_samples import good_file

from bankkeys.payments import (
    FORMAT_TAG,
    CanonicalFormError,
    DocumentRef,
    JsonFormatError,
    PaymentOrder,
    PaymentsError,
    ValidationError,
    canonical_bytes,
    import_exchange,
    import_json,
    import_orders,
    parse_canonical,
    validate_order,
    write_json,
)


def good_orders() -> list[PaymentOrder]:
    orders = [r.order for r in import_exchange(good_file())]
    assert all(o is not None for o in orders)
    return [o for o in orders if o is not None]


def json_objects() -> list[dict[str, object]]:
    value = json.loads(write_json(good_orders()))
    assert isinstance(value, list)
    return value


def test_json_round_trip_gives_the_same_orders() -> None:
    orders = good_orders()
    data = write_json(orders)
    results = import_json(data)
    assert [r.order for r in results] == orders
    assert [r.ref.position for r in results] == [1, 2, 3]
    assert [r.order for r in import_orders(b"\n  " + data)] == orders


def test_hand_written_json_matches_the_1c_file() -> None:
    first = good_orders()[0]
    obj = {
        "number": "15",
        "date": "2024-03-01",
        "amount": "123456.78",
        "payer": {
            "name": "ООО 'Ромашка'",
            "inn": first.payer.inn,
            "kpp": "770101001",
            "account": first.payer.account,
            "bank_name": "ПАО Сбербанк",
            "bank_city": "г. Москва",
            "bic": "044525225",
            "correspondent_account": "30101810400000000225",
        },
        "payee": {
            "name": 'ООО "Лютик"',
            "inn": first.payee.inn,
            "kpp": "5009AB001",
            "account": first.payee.account,
            "bank_name": "Банк ГПБ (АО)",
            "bank_city": "г. Москва",
            "bic": "044525823",
            "correspondent_account": "30101810200000000823",
        },
        "purpose": first.purpose,
        "priority": 5,
        "payment_kind": "электронно",
        "uin": "0",
    }
    (result,) = import_json(json.dumps([obj]).encode())
    assert result.order == first
    assert canonical_bytes(first) == canonical_bytes(result.order)


@pytest.mark.parametrize(
    ("path", "value", "key", "words"),
    [
        (("amount",), 123456.78, "Сумма", "строкой"),
        (("amount",), 12345678, "Сумма", "строкой"),
        (("priority",), "5", "Очередность", "целое"),
        (("priority",), True, "Очередность", "целое"),
        (("date",), "01.03.2024", "Дата", "ГГГГ-ММ-ДД"),
        (("date",), "2024-02-30", "Дата", "нет такой даты"),
        (("payer", "inn"), 7707083893, "ПлательщикИНН", "строка"),
        (("payer", "bic"), "04452522", "ПлательщикБИК", "9 цифр"),
        (("payee",), "Лютик", "Получатель", "объект"),
        (("payer", "colour"), "red", "Плательщик", "payer.colour"),
        (("colour",), "red", "Номер", "colour"),
        (("budget", "kbk"), "123", "ПоказательКБК", "20 знаков"),
    ],
)
def test_json_field_errors_name_the_1c_key(
    path: tuple[str, ...], value: object, key: str, words: str
) -> None:
    objects = json_objects()
    target = objects[1]
    node = target
    for name in path[:-1]:
        child = node[name]
        assert isinstance(child, dict)
        node = child
    node[path[-1]] = value
    results = import_json(json.dumps(objects, ensure_ascii=False).encode())
    assert results[0].order is not None and results[2].order is not None
    broken = results[1]
    assert broken.order is None
    matching = [e for e in broken.errors if e.key == key]
    assert any(words in e.message for e in matching), [str(e) for e in broken.errors]
    assert all(e.document.position == 2 for e in broken.errors)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"{}", "список"),
        (b"[1, 2", "ошибка JSON"),
        (b'[{"number": "1", "number": "2"}]', "повторяющиеся"),
        (b'[{"amount": NaN}]', "NaN"),
        (b"\xff\xfe[]", "UTF-8"),
    ],
)
def test_json_structure_errors(data: bytes, words: str) -> None:
    with pytest.raises(JsonFormatError, match=words):
        import_json(data)


def test_json_non_object_item_is_a_document_error() -> None:
    (result,) = import_json(b"[42]")
    assert result.order is None and result.errors[0].document.position == 1


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_random_json_bytes_only_raise_our_errors(data: bytes) -> None:
    try:
        results = import_json(b"[" + data)
    except PaymentsError as exc:
        assert str(exc)
    else:
        assert all(r.order is not None or r.errors for r in results)


# --- canonical form --------------------------------------------------------------------------


def test_canonical_equal_across_sources() -> None:
    sources = [
        good_file(),
        good_file(newline="\n"),
        good_file(codec="utf-8", declared="UTF-8"),
        good_file(codec="utf-8", declared="UTF-8", bom=True),
        good_file(codec="cp866", declared="DOS"),
        write_json(good_orders()),
    ]
    encoded = []
    for data in sources:
        orders = [r.order for r in import_orders(data)]
        assert all(o is not None for o in orders)
        encoded.append([canonical_bytes(o) for o in orders if o is not None])
    assert all(e == encoded[0] for e in encoded)
    assert len(set(encoded[0])) == 3  # three different documents, three different byte strings


def test_canonical_shape() -> None:
    data = canonical_bytes(good_orders()[1])
    text = data.decode("utf-8")
    assert not data.startswith(b"\xef\xbb\xbf") and not text.endswith("\n")
    obj = json.loads(text)
    assert obj["format"] == FORMAT_TAG
    assert obj["amount_kopecks"] == 500000 and isinstance(obj["amount_kopecks"], int)
    assert obj["date"] == "2024-03-01" and obj["due_date"] == "2024-03-28"
    assert obj["purpose"] == "Единый налоговый платеж\nза март 2024 года"
    assert obj["budget"]["kbk"] == "18201061201010000510"
    assert list(obj) == sorted(obj) and list(obj["payer"]) == sorted(obj["payer"])
    assert "Казначейство".encode() in data  # UTF-8, not \u escapes
    assert json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) == text


def test_canonical_changes_with_every_field() -> None:
    order = good_orders()[0]
    base = canonical_bytes(order)
    variants = [
        dc_replace(order, number="16"),
        dc_replace(order, amount_kopecks=order.amount_kopecks + 1),
        dc_replace(order, purpose=order.purpose + "."),
        dc_replace(order, priority=4),
        dc_replace(order, payee=dc_replace(order.payee, name=order.payee.name + "1")),
        dc_replace(order, payer=dc_replace(order.payer, bank_city="г. Тула")),
        dc_replace(order, uin=""),
    ]
    produced = {canonical_bytes(v) for v in variants}
    assert base not in produced and len(produced) == len(variants)


def test_canonical_parses_back_and_rejects_anything_else() -> None:
    for order in good_orders():
        data = canonical_bytes(order)
        assert parse_canonical(data) == order
    data = canonical_bytes(good_orders()[0])
    obj = json.loads(data)
    for bad in (
        json.dumps(obj, sort_keys=True, ensure_ascii=False).encode(),  # spaces
        json.dumps(obj, sort_keys=True, separators=(",", ":")).encode(),  # \u escapes
        data + b"\n",
        data.replace(FORMAT_TAG.encode(), b"bankkeys/payment-order/0"),
        json.dumps(
            {**obj, "extra": 1}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode(),
        json.dumps(
            {**obj, "amount_kopecks": 12.5},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode(),
        b"\xff",
        b"[]",
    ):
        with pytest.raises(CanonicalFormError):
            parse_canonical(bad)


def test_canonical_refuses_invalid_orders() -> None:
    order = good_orders()[0]
    bad = dc_replace(order, payer=dc_replace(order.payer, inn="7701234567"))
    with pytest.raises(ValidationError) as info:
        canonical_bytes(bad)
    assert [e.key for e in info.value.errors] == ["ПлательщикИНН"]
    spaced = dc_replace(order, purpose=" " + order.purpose)
    assert [e.key for e in validate_order(spaced)] == ["НазначениеПлатежа"]
    assert validate_order(order) == ()
    obj = json.loads(canonical_bytes(order))
    obj["payer"]["inn"] = "7701234567"
    data = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    with pytest.raises(ValidationError):
        parse_canonical(data)


def test_the_same_faulty_party_is_refused_in_every_document_that_names_it() -> None:
    # A party is checked once and remembered: the second document must still get the errors,
    # under its own number and position.
    order = good_orders()[0]
    bad = dc_replace(order.payer, inn="7701234567", kpp="77A")
    first = dc_replace(order, number="7", payer=bad)
    second = dc_replace(order, number="8", payer=bad)
    errors = [validate_order(o, DocumentRef(o.number, i)) for i, o in enumerate((first, second))]
    assert [[(e.document, e.key) for e in found] for found in errors] == [
        [(DocumentRef("7", 0), "ПлательщикИНН"), (DocumentRef("7", 0), "ПлательщикКПП")],
        [(DocumentRef("8", 1), "ПлательщикИНН"), (DocumentRef("8", 1), "ПлательщикКПП")],
    ]
    assert validate_order(order) == ()  # the good payer is not mistaken for the bad one
