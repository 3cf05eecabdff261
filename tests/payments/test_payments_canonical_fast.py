"""The bank's fast paths through the canonical form give what the definition gives: the bytes
written member by member equal ``json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` of the order's object for any text (quotes, backslashes, control
characters, non-BMP, line separators), with and without budget fields and a due date; and a
party member that is not a string is named as before the parties were read apart."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from payments_samples import good_file

from bankkeys.payments import (
    CanonicalFormError,
    PaymentOrder,
    ValidationError,
    canonical_bytes,
    import_exchange,
    parse_canonical,
)
from bankkeys.payments import canonical as canonical_module
from bankkeys.payments.model import BudgetFields, Party


def _orders() -> list[PaymentOrder]:
    orders = [r.order for r in import_exchange(good_file())]
    assert all(o is not None for o in orders)
    return [o for o in orders if o is not None]


def _definition(order: PaymentOrder) -> bytes:
    obj = canonical_module._object(order)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_payments_canonical_fast_encoder_on_the_samples() -> None:
    orders = _orders()
    assert any(o.budget is not None for o in orders) and any(o.budget is None for o in orders)
    for order in orders:
        assert canonical_module._encode_order(order) == _definition(order)
        assert canonical_bytes(order) == _definition(order)
        assert parse_canonical(_definition(order)) == order


_text = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"])
    | st.sampled_from(['"', "\\", "\n", "\x00", "\x1f", "\u2028", "\U0001f600", "/"]),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(_text, min_size=12, max_size=12),
    amount=st.integers(-(10**20), 10**20),
    priority=st.integers(-5, 10**6),
    due=st.none() | st.dates(),
    budget=st.booleans(),
)
def test_payments_canonical_fast_encoder_on_any_text(
    texts: list[str], amount: int, priority: int, due: date | None, budget: bool
) -> None:
    base = _orders()[0]
    payer = replace(base.payer, name=texts[0], kpp=texts[1], bank_city=texts[2])
    payee = Party(*texts[3:11])
    order = replace(
        base,
        number=texts[11],
        amount_kopecks=amount,
        priority=priority,
        purpose=texts[4] + texts[0],
        uin=texts[5],
        payment_kind=texts[6],
        operation_kind=texts[7],
        due_date=due,
        payer=payer,
        payee=payee,
        budget=BudgetFields(*texts[:8]) if budget else None,
    )
    assert canonical_module._encode_order(order) == _definition(order)


@pytest.mark.parametrize("where", ["payer", "payee"])
@pytest.mark.parametrize("value", [None, 7, ["x"], {"a": "b"}])
def test_payments_canonical_party_member_not_a_string(where: str, value: object) -> None:
    obj = json.loads(canonical_bytes(_orders()[0]))
    obj[where]["bic"] = value
    obj[where]["kpp"] = 5  # the first of the party's members that is not a string is named
    data = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    with pytest.raises(CanonicalFormError, match="поле kpp: нужна строка"):
        parse_canonical(data)
    del obj[where]["kpp"]
    data = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    with pytest.raises(CanonicalFormError, match="поле kpp: нужна строка"):
        parse_canonical(data)


def test_payments_canonical_party_faults_named_under_the_party() -> None:
    order = _orders()[0]
    obj = json.loads(canonical_bytes(order))
    account = order.payee.account
    obj["payee"]["account"] = account[:-1] + str((int(account[-1]) + 1) % 10)  # its control key
    obj["payer"]["name"] = "ООО \u0007"
    data = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    with pytest.raises(ValidationError) as info:
        parse_canonical(data)
    assert [e.key for e in info.value.errors] == ["Плательщик", "ПолучательСчет"]


# --- the plain path (one pattern, the common case's checks) against the full reading ----------


def _full(data: bytes) -> PaymentOrder | type[Exception]:
    try:
        return canonical_module._read_in_full(data, 1)
    except (CanonicalFormError, ValidationError) as exc:
        return type(exc)


def _agrees(data: bytes) -> bool:
    """The plain path answers only where the full reading accepts, and with the same order;
    True when it answered."""
    plain = canonical_module._plain(data)
    if plain is None:
        return False
    assert _full(data) == plain, data
    assert parse_canonical(data) == plain
    return True


def test_payments_canonical_plain_path_takes_the_valid_documents_without_budget() -> None:
    orders = _orders()
    for order in orders:
        assert _agrees(_definition(order)) is (order.budget is None)
    assert any(o.budget is None for o in orders)


def test_payments_canonical_plain_path_decodes_escapes() -> None:
    base = next(o for o in _orders() if o.budget is None)
    order = replace(
        base,
        purpose="Оплата по счету № 7\nНДС не облагается",
        payee=replace(base.payee, name='ООО "Лютик"'),
    )
    data = _definition(order)
    assert b"\\n" in data and b'\\"' in data
    assert _agrees(data) is True
    assert canonical_module._plain(data) == order


def _obj(order: PaymentOrder) -> dict[str, object]:
    return json.loads(_definition(order))


def _dumped(obj: dict[str, object]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


_BROKEN: list[tuple[str, object]] = [
    ("number", "0"),
    ("number", "000"),
    ("number", "1234567"),
    ("number", " 12"),
    ("number", "12a"),
    ("number", "١٢"),  # Arabic-Indic digits: not digits to a bank
    ("amount_kopecks", 0),
    ("amount_kopecks", -1),
    ("amount_kopecks", 10**18),
    ("amount_kopecks", 10**30),
    ("priority", 0),
    ("priority", 6),
    ("date", "0999-01-01"),
    ("date", "2026-02-30"),
    ("date", "20260201"),
    ("due_date", "0999-12-31"),
    ("due_date", "2026-13-01"),
    ("purpose", ""),
    ("purpose", " Оплата"),
    ("purpose", "Оплата\t"),
    ("purpose", "x" * 211),
    ("purpose", "Оплата \u2028"),
    ("purpose", "Оплата\x00"),
    ("uin", "12345"),
    ("uin", "a" * 20),
    ("uin", " 0"),
    ("operation_kind", ""),
    ("operation_kind", "02"),
    ("payment_kind", "курьером"),
    ("payment_kind", " срочно"),
    ("format", "bankkeys/payment-order/2"),
    ("extra", "x"),
]


@pytest.mark.parametrize(("name", "value"), _BROKEN, ids=[f"{n}={v!r}"[:40] for n, v in _BROKEN])
def test_payments_canonical_plain_path_leaves_every_broken_field_to_the_full_reading(
    name: str, value: object
) -> None:
    order = next(o for o in _orders() if o.budget is None)
    obj = _obj(order)
    obj[name] = value
    data = _dumped(obj)
    assert canonical_module._plain(data) is None
    assert _full(data) in (CanonicalFormError, ValidationError)


@pytest.mark.parametrize("where", ["payer", "payee"])
@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("inn", "7707083894"),  # a wrong control digit
        ("inn", " 7707083893"),
        ("kpp", "77360100"),
        ("account", "40702810538000077778"),
        ("bic", "04452522"),
        ("name", ""),
        ("name", "ООО \u0007"),
        ("name", "ООО «Ромашка» "),
        ("bank_name", "x" * 141),
    ],
)
def test_payments_canonical_plain_path_leaves_every_broken_party_to_the_full_reading(
    where: str, member: str, value: str
) -> None:
    order = next(o for o in _orders() if o.budget is None)
    obj = _obj(order)
    party = obj[where]
    assert isinstance(party, dict)
    party[member] = value
    data = _dumped(obj)
    assert canonical_module._plain(data) is None
    assert _full(data) in (CanonicalFormError, ValidationError)


def test_payments_canonical_plain_path_refuses_other_spellings_of_the_same_order() -> None:
    order = next(o for o in _orders() if o.budget is None)
    data = _definition(order)
    text = data.decode()
    assert text.count('"purpose":"') == 1
    spellings = [
        text.replace('"purpose":"', '"purpose": "'),  # whitespace
        text.replace("{", "{ ", 1),
        text.replace(
            f'"number":"{order.number}"',
            '"number":"' + "".join(f"\\u{ord(c):04x}" for c in order.number) + '"',
        ),
        text.replace('payment-order/1"', 'payment-order\\/1"', 1),
        text.replace(":null", ":nul", 1),
        text + "\n",
        "\ufeff" + text,
    ]
    escaped = order.purpose[0]
    spellings.append(text.replace(f'"purpose":"{escaped}', f'"purpose":"\\u{ord(escaped):04x}'))
    for spelling in spellings:
        assert spelling != text
        raw = spelling.encode()
        assert canonical_module._plain(raw) is None, spelling[:80]
        assert _full(raw) in (CanonicalFormError, ValidationError)


@settings(max_examples=400, deadline=None)
@given(
    texts=st.lists(_text, min_size=4, max_size=4),
    amount=st.integers(-3, 10**19),
    priority=st.integers(-1, 7),
    due=st.none() | st.dates(),
    number=st.from_regex(r"[0-9]{1,7}", fullmatch=True) | st.text(max_size=3),
    uin=st.sampled_from(["", "0", "1" * 20, "A" * 25, "a" * 20, "1" * 21]),
    kind=st.sampled_from(["", "срочно", "электронно", "почтой", "x"]),
)
def test_payments_canonical_plain_path_agrees_with_the_full_reading(
    texts: list[str],
    amount: int,
    priority: int,
    due: date | None,
    number: str,
    uin: str,
    kind: str,
) -> None:
    base = next(o for o in _orders() if o.budget is None)
    order = replace(
        base,
        number=number,
        amount_kopecks=amount,
        priority=priority,
        purpose=texts[0] or base.purpose,
        uin=uin,
        payment_kind=kind,
        due_date=due,
        payer=replace(base.payer, bank_city=texts[1]),
        payee=replace(base.payee, name=texts[2] or base.payee.name, kpp=texts[3]),
    )
    _agrees(_definition(order))


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_payments_canonical_plain_path_agrees_on_mangled_bytes(data: st.DataObject) -> None:
    base = bytearray(_definition(next(o for o in _orders() if o.budget is None)))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(base) - 1))
        base[at] = data.draw(st.sampled_from(b'0 9"\\{}:,n-.\x00\xd0az'))
    _agrees(bytes(base))


def test_payments_canonical_an_integer_too_long_to_convert_is_a_form_error() -> None:
    obj = _obj(next(o for o in _orders() if o.budget is None))
    data = _dumped(obj).replace(b'"amount_kopecks":', b'"amount_kopecks":' + b"9" * 5000, 1)
    with pytest.raises(CanonicalFormError):
        parse_canonical(data)
