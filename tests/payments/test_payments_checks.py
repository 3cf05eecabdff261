"""Control digits of accounts, BICs and INNs: public examples and an independent implementation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from payments_samples import account_key, make_account, make_inn10, make_inn12

from bankkeys.payments.validate import (
    account_key_ok,
    bic_ok,
    inn_ok,
    kpp_ok,
    parse_amount,
    parse_date,
)

# Public bank details (banks' own published requisites).
PUBLIC_CORRESPONDENT = [
    ("044525225", "30101810400000000225"),  # ПАО Сбербанк
    ("044525700", "30101810200000000700"),  # АО «Райффайзенбанк»
    ("044525823", "30101810200000000823"),  # Банк ГПБ (АО)
    ("044525974", "30101810145250000974"),  # АО «ТБанк»
    # The worked example of the Bank of Russia's own Порядок расчета контрольного ключа N 515.
    ("049805000", "30101810800000000746"),
    # Единые казначейские счета (ЕКС), written in the Корсчет field since 2021.
    ("017003983", "40102810445370000059"),
    ("004525988", "40102810545370000003"),
]
PUBLIC_SETTLEMENT = [
    ("044525700", "40702810800001400002"),  # a public company account at Raiffeisen
    ("044525823", "40702810000000011692"),  # a public company account at Gazprombank
]
PUBLIC_INN = [
    "7707083893",  # ПАО Сбербанк
    "7710140679",  # АО «ТБанк»
    "7707329152",  # ФНС России
    "7727406020",  # Казначейство России (ФНС России), ENP payee
    "5504036333",
    "7707017509",
    "7830002293",
    "500100732259",  # a 12-digit example widely used in INN documentation
]


@pytest.mark.parametrize(("bic", "account"), PUBLIC_CORRESPONDENT)
def test_public_correspondent_accounts(bic: str, account: str) -> None:
    assert bic_ok(bic)
    assert account_key_ok(account, bic, correspondent=True)
    assert account_key(("0" + bic[4:6]), account) == account[8]
    wrong = account[:8] + str((int(account[8]) + 1) % 10) + account[9:]
    assert not account_key_ok(wrong, bic, correspondent=True)


@pytest.mark.parametrize(("bic", "account"), PUBLIC_SETTLEMENT)
def test_public_settlement_accounts(bic: str, account: str) -> None:
    assert account_key_ok(account, bic, correspondent=False)
    assert account_key(bic[6:], account) == account[8]
    valid_keys = [
        d
        for d in "0123456789"
        if account_key_ok(account[:8] + d + account[9:], bic, correspondent=False)
    ]
    assert valid_keys == [account[8]]


def test_treasury_accounts_have_no_key_under_either_rule() -> None:
    # Why treasury accounts are not key-checked: the public ENP account fails both rules.
    bic, account = "017003983", "03100643000000018500"
    assert account_key(bic[6:], account) != account[8]
    assert account_key("0" + bic[4:6], account) != account[8]
    assert account_key_ok(account, bic, correspondent=False)


@pytest.mark.parametrize("inn", PUBLIC_INN)
def test_public_inns(inn: str) -> None:
    assert inn_ok(inn)
    broken = inn[:-1] + str((int(inn[-1]) + 1) % 10)
    assert not inn_ok(broken)


@given(
    st.text("0123456789", min_size=11, max_size=11), st.text("0123456789", min_size=9, max_size=9)
)
def test_account_keys_agree_with_independent_procedure(tail: str, bic: str) -> None:
    head = "40702810"
    account = make_account(head, tail[:11], bic)
    assert account_key_ok(account, bic, correspondent=False)
    corr = make_account("30101810", tail[:11], bic, correspondent=True)
    assert account_key_ok(corr, bic, correspondent=True)
    for digit in "0123456789":
        other = account[:8] + digit + account[9:]
        assert account_key_ok(other, bic, correspondent=False) == (digit == account[8])


@given(st.text("0123456789", min_size=9, max_size=9))
def test_inn10_agrees_with_independent_procedure(first9: str) -> None:
    inn = make_inn10(first9)
    assert inn_ok(inn)
    assert sum(inn_ok(first9 + d) for d in "0123456789") == 1


@given(st.text("0123456789", min_size=10, max_size=10))
def test_inn12_agrees_with_independent_procedure(first10: str) -> None:
    inn = make_inn12(first10)
    assert inn_ok(inn)
    assert sum(inn_ok(first10 + a + b) for a in "0123456789" for b in "0123456789") == 1


@pytest.mark.parametrize(
    "value", ["", "770708389", "77070838931", "770708389X", "７７０７０８３８９３"]
)
def test_inn_shapes(value: str) -> None:
    assert not inn_ok(value)


@pytest.mark.parametrize(
    ("kpp", "ok"),
    [
        ("773601001", True),
        ("997250001", True),
        ("7736AB001", True),
        ("7736ab001", False),
        ("77360100", False),
        ("7736010011", False),
        ("77А601001", False),  # Cyrillic А is not a Latin letter
        ("7736010O1", False),
    ],
)
def test_kpp(kpp: str, ok: bool) -> None:
    assert kpp_ok(kpp) is ok


@pytest.mark.parametrize("bic", ["04452522", "0445252250", "04452522X", "", "٠٤٤٥٢٥٢٢٥"])
def test_bic_shapes(bic: str) -> None:
    assert not bic_ok(bic)


@pytest.mark.parametrize(
    ("text", "kopecks"),
    [("1", 100), ("1.5", 150), ("1.05", 105), ("0.01", 1), ("999999999999999.99", 10**17 - 1)],
)
def test_amounts(text: str, kopecks: int) -> None:
    assert parse_amount(text) == kopecks


@pytest.mark.parametrize(
    "text", ["0", "0.00", "1.001", "1,00", "-1", "+1", "1e3", " 1", "1.", ".5", "NaN", "1_000"]
)
def test_bad_amounts(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


def test_dates() -> None:
    assert parse_date("29.02.2024").isoformat() == "2024-02-29"
    for text in ("29.02.2023", "1.3.2024", "01.13.2024", "01.03.24", "01/03/2024"):
        with pytest.raises(ValueError):
            parse_date(text)
