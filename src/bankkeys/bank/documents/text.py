"""How values are written on the forms: Russian dates, SNILS, the public key in hex groups."""

from __future__ import annotations

from datetime import date
from typing import Final

NBSP: Final = "\u00a0"

_MONTHS_GENITIVE: Final = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)

# A blank for a date written by hand: «___» __________ 20___ г.
BLANK_DATE: Final = f"«___»{NBSP}____________ 20___{NBSP}г."


def russian_date(day: date) -> str:
    """«22» ноября 2026 г. — the form Russian business documents use."""
    month = _MONTHS_GENITIVE[day.month - 1]
    return f"«{day.day:02d}»{NBSP}{month} {day.year}{NBSP}г."


def count_bytes(n: int) -> str:
    """«64 байта», «65 байт», «1 байт»: the noun agrees with the number."""
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return f"{n} байта"
    return f"{n} байт"


def snils(digits: str) -> str:
    """SNILS as printed: 112-233-445 95."""
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:11]}"


def hex_groups(data: bytes, group_bytes: int = 4, groups_per_line: int = 8) -> list[str]:
    """Upper-case hex in groups of ``group_bytes`` bytes, ``groups_per_line`` groups a line.

    Fixed lines let the operator compare the printed key with the screen group by group.
    """
    hexed = data.hex().upper()
    step = group_bytes * 2
    groups = [hexed[i : i + step] for i in range(0, len(hexed), step)]
    return [
        " ".join(groups[i : i + groups_per_line]) for i in range(0, len(groups), groups_per_line)
    ]
