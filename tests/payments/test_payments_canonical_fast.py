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
