"""Checks of Russian registration numbers (INN, KPP, OGRN/OGRNIP, SNILS) with their check digits,
so a mistyped number is refused at registration rather than found in a certificate."""

from __future__ import annotations

from bankkeys.bank.errors import ValidationError


def _digits(value: str, lengths: tuple[int, ...], what: str) -> list[int]:
    if not value.isascii() or not value.isdigit() or len(value) not in lengths:
        wanted = " или ".join(str(n) for n in lengths)
        raise ValidationError(f"{what}: ожидалось {wanted} цифр, получено «{value}»")
    return [int(c) for c in value]


def _weighted(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def check_inn(value: str) -> str:
    d = _digits(value, (10, 12), "ИНН")
    if len(d) == 10:
        ok = _weighted(d, (2, 4, 10, 3, 5, 9, 4, 6, 8)) == d[9]
    else:
        ok = (
            _weighted(d, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) == d[10]
            and _weighted(d, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) == d[11]
        )
    if not ok:
        raise ValidationError(f"ИНН: неверное контрольное число в «{value}»")
    return value


def check_kpp(value: str) -> str:
    if len(value) != 9 or not value.isascii() or not value.isalnum():
        raise ValidationError(f"КПП: ожидалось 9 знаков, получено «{value}»")
    return value


def check_ogrn(value: str) -> str:
    d = _digits(value, (13, 15), "ОГРН")
    modulus = 11 if len(d) == 13 else 13
    if int(value[:-1]) % modulus % 10 != d[-1]:
        raise ValidationError(f"ОГРН: неверное контрольное число в «{value}»")
    return value


def check_snils(value: str) -> str:
    cleaned = value.replace("-", "").replace(" ", "")
    d = _digits(cleaned, (11,), "СНИЛС")
    total = sum(digit * (9 - i) for i, digit in enumerate(d[:9]))
    control = total % 101 if total > 101 else total
    if control in (100, 101):
        control = 0
    if control != int(cleaned[9:]):
        raise ValidationError(f"СНИЛС: неверное контрольное число в «{value}»")
    return cleaned


def check_email(value: str) -> str:
    local, _, domain = value.partition("@")
    if not local or "." not in domain or not value.isascii() or " " in value:
        raise ValidationError(f"адрес электронной почты некорректен: «{value}»")
    return value


def check_text(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationError(f"{what}: поле не заполнено")
    return value
