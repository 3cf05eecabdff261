"""Reading fields straight out of DER: the framing check of a whole input (:func:`check`), a
value's header, a constructed value's children (both in C, pki/_c), and the few primitive types a
signature verifier reads (OBJECT IDENTIFIER, INTEGER, OCTET STRING), each checked as X.690 DER
demands. No objects are built for the parts nobody reads; that is the point (speed), and why
this exists beside asn1crypto, which the other readers use.
"""

from __future__ import annotations

import functools
from typing import Final

from bankkeys.pki import _der
from bankkeys.pki.errors import ParseError

SEQUENCE = 0x30
SET = 0x31
INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18
HIGH_TAG = -1  # a high-tag-number form: nothing a verifier reads uses one


def context(number: int, *, constructed: bool) -> int:
    """The identifier octet of ``[number]`` (context-specific)."""
    return 0x80 | (0x20 if constructed else 0) | number


Tlv = _der.Tlv  # (tag, start, body, end): the identifier octet (or HIGH_TAG), the offsets of
# the identifier octet and of the contents, and the offset just past the contents.

# bk_der_status (pki/_c/der.h) worded for the user.
_FRAMING_DEFECTS: Final = {
    1: "пустые данные",
    2: "структура DER обрывается в теге",
    3: "тег DER записан не минимально",
    4: "слишком большой номер тега DER",
    5: "структура DER обрывается (нет длины)",
    6: "неопределённая длина недопустима в DER",
    7: "длина DER записана не минимально",
    8: "длина DER за пределами данных",
    9: "лишние байты после структуры DER",
    10: "слишком глубокая вложенность DER",
}


def _defect(what: str, status: int, offset: int) -> ParseError:
    worded = _FRAMING_DEFECTS.get(status, f"ошибка разметки DER {status}")
    return ParseError(f"{what}: {worded} (байт {offset})")


def check(der: bytes, what: str) -> None:
    """Check the TLV framing of ``der`` all the way down, without building any objects (C).

    Every tag, every length (definite, minimal, inside its parent) and every constructed value's
    children are checked, and the input must be exactly one value. This is what lets a reader
    read only the fields it uses and still refuse a structure that is broken anywhere: the
    contents of primitive values it never reads are the only thing not looked at.
    """
    if not isinstance(der, bytes | bytearray | memoryview):
        raise ParseError(f"{what}: ожидались байты DER, получено {type(der).__name__}")
    status, offset = _der.check(der)
    if status:
        raise _defect(what, status, offset)


def read(data: bytes, pos: int, limit: int, what: str) -> Tlv:
    """The value at ``pos`` inside ``data[:limit]`` (its framing re-checked: cheap, and a reader
    stays safe on input that skipped :func:`check`)."""
    try:
        return _der.read(data, pos, limit)
    except ValueError as exc:
        raise _framing_error(exc, what) from None


def children(data: bytes, parent: Tlv, what: str) -> list[Tlv]:
    """The values inside a constructed value, in order."""
    try:
        return _der.children(data, parent.body, parent.end)
    except ValueError as exc:
        raise _framing_error(exc, what) from None


def _framing_error(exc: ValueError, what: str) -> ParseError:
    if len(exc.args) == 2 and all(isinstance(a, int) for a in exc.args):
        return _defect(what, exc.args[0], exc.args[1])
    return ParseError(f"{what}: {exc}")


def expect(tlv: Tlv, tag: int, what: str) -> Tlv:
    if tlv.tag != tag:
        raise ParseError(f"{what}: ожидался тег 0x{tag:02x}, получен 0x{tlv.tag & 0xFF:02x}")
    return tlv


def contents(data: bytes, tlv: Tlv) -> bytes:
    return data[tlv.body : tlv.end]


def encoding(data: bytes, tlv: Tlv) -> bytes:
    """The whole value: identifier, length and contents."""
    return data[tlv.start : tlv.end]


def oid(data: bytes, tlv: Tlv, what: str) -> str:
    expect(tlv, OID, what)
    return _dotted(data[tlv.body : tlv.end], what)


@functools.lru_cache(maxsize=512)
def _dotted(body: bytes, what: str) -> str:
    # The same few algorithm and attribute OIDs come again and again.
    if not body or body[-1] & 0x80:
        raise ParseError(f"{what}: повреждённый OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    fresh = True
    for octet in body:
        if fresh and octet == 0x80:
            raise ParseError(f"{what}: OBJECT IDENTIFIER записан не минимально")
        value = (value << 7) | (octet & 0x7F)
        fresh = not octet & 0x80
        if fresh:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in head + arcs[1:])


def integer(data: bytes, tlv: Tlv, what: str) -> int:
    expect(tlv, INTEGER, what)
    body = data[tlv.body : tlv.end]
    if not body:
        raise ParseError(f"{what}: пустой INTEGER")
    if len(body) > 1 and (
        (body[0] == 0x00 and body[1] < 0x80) or (body[0] == 0xFF and body[1] >= 0x80)
    ):
        raise ParseError(f"{what}: INTEGER записан не минимально")
    return int.from_bytes(body, "big", signed=True)


def octet_string(data: bytes, tlv: Tlv, what: str) -> bytes:
    expect(tlv, OCTET_STRING, what)
    return data[tlv.body : tlv.end]


__all__ = [
    "GENERALIZED_TIME",
    "INTEGER",
    "NULL",
    "OCTET_STRING",
    "OID",
    "SEQUENCE",
    "SET",
    "UTC_TIME",
    "Tlv",
    "check",
    "children",
    "contents",
    "context",
    "encoding",
    "expect",
    "integer",
    "octet_string",
    "oid",
    "read",
]
