"""Reading fields straight out of DER: the framing check of a whole input (:func:`check`), a
value's header, a constructed value's children (both in C, pki/_c), and the few primitive types a
certificate or request reader needs (OBJECT IDENTIFIER, INTEGER, BOOLEAN, OCTET STRING, BIT STRING,
the character strings, UTCTime and GeneralizedTime), each checked as X.690 DER demands. No objects
are built for the parts nobody reads; that is the point (speed), and why this exists beside
asn1crypto (still the judge in the tests, and the reader of the rare parts). Its writing
counterpart is :mod:`bankkeys.pki._der_write`; both take the tag octets from ``_der_tags``.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Final

from bankkeys.pki import _der
from bankkeys.pki._der_tags import (
    BIT_STRING,
    BMP_STRING,
    BOOLEAN,
    GENERALIZED_TIME,
    IA5_STRING,
    INTEGER,
    NULL,
    NUMERIC_STRING,
    OCTET_STRING,
    OID,
    PRINTABLE_STRING,
    SEQUENCE,
    SET,
    TELETEX_STRING,
    UNIVERSAL_STRING,
    UTC_TIME,
    UTF8_STRING,
)
from bankkeys.pki.errors import ParseError

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
    return dotted(data[tlv.body : tlv.end], what)


@functools.lru_cache(maxsize=512)
def dotted(body: bytes, what: str) -> str:
    """The dotted form of an OBJECT IDENTIFIER's contents."""
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


def integer(data: bytes, tlv: Tlv, what: str, *, tag: int = INTEGER) -> int:
    """An INTEGER (``tag``: the IMPLICIT tag it goes by)."""
    expect(tlv, tag, what)
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


def boolean(data: bytes, tlv: Tlv, what: str) -> bool:
    """A BOOLEAN; DER (X.690 11.1) allows only the octets 00 and FF."""
    expect(tlv, BOOLEAN, what)
    body = data[tlv.body : tlv.end]
    if body == b"\xff":
        return True
    if body == b"\x00":
        return False
    raise ParseError(f"{what}: BOOLEAN записан не по DER")


def bit_string(data: bytes, tlv: Tlv, what: str) -> bytes:
    """The octets of a BIT STRING that holds whole octets (a signature, a key): no unused bits."""
    expect(tlv, BIT_STRING, what)
    if tlv.end == tlv.body or data[tlv.body] != 0:
        raise ParseError(f"{what}: BIT STRING должна быть из целых байтов")
    return data[tlv.body + 1 : tlv.end]


def set_bits(data: bytes, tlv: Tlv, what: str) -> list[int]:
    """The numbers of the bits set in a BIT STRING of named bits, bit 0 first. The unused bits
    must be zero (X.690 11.2.1); trailing zero bits are tolerated, as the wild writes them."""
    expect(tlv, BIT_STRING, what)
    body = data[tlv.body : tlv.end]
    if not body or body[0] > 7 or (body[0] and len(body) == 1):
        raise ParseError(f"{what}: повреждённая BIT STRING")
    unused = body[0]
    if unused and body[-1] & ((1 << unused) - 1):
        raise ParseError(f"{what}: неиспользуемые биты BIT STRING не нулевые")
    return [
        index * 8 + bit
        for index, octet in enumerate(body[1:])
        if octet
        for bit in range(8)
        if octet & (0x80 >> bit)
    ]


# How each character string type is decoded: as asn1crypto decodes it (TeletexString: Windows-1252,
# as OpenSSL really writes ISO 8859-1 there), so a name reads the same whichever reader saw it.
_CODECS: Final = {
    UTF8_STRING: "utf-8",
    NUMERIC_STRING: "latin-1",
    PRINTABLE_STRING: "latin-1",
    TELETEX_STRING: "cp1252",
    IA5_STRING: "ascii",
    UNIVERSAL_STRING: "utf-32-be",
    BMP_STRING: "utf-16-be",
}


def text(data: bytes, tlv: Tlv, tags: frozenset[int], what: str) -> str:
    """A character string of one of the ``tags`` (primitive: DER has no constructed strings)."""
    if tlv.tag not in tags:
        raise ParseError(f"{what}: неожиданный тип строки (тег 0x{tlv.tag & 0xFF:02x})")
    try:
        return data[tlv.body : tlv.end].decode(_CODECS[tlv.tag])
    except UnicodeError:
        raise ParseError(f"{what}: строка в неверной кодировке") from None


def time(data: bytes, tlv: Tlv, what: str, *, generalized: bool | None = None) -> datetime:
    """A UTCTime or GeneralizedTime in its DER form (X.690 11.7, 11.8; RFC 5280 4.1.2.5): UTC
    ('Z'), whole seconds, no fraction. ``generalized`` fixes the type for an IMPLICIT tag."""
    if generalized is None:
        if tlv.tag not in (UTC_TIME, GENERALIZED_TIME):
            raise ParseError(f"{what}: ожидалось время (UTCTime или GeneralizedTime)")
        generalized = tlv.tag == GENERALIZED_TIME
    body = data[tlv.body : tlv.end]
    size = 15 if generalized else 13
    if len(body) != size or body[-1:] != b"Z" or not body[:-1].isdigit():
        raise ParseError(f"{what}: время не в форме DER (ГГММДДччммссZ): {body!r}")
    # One integer conversion for all the digits, then split: cheaper than six.
    number = int(body[:-1])
    number, second = divmod(number, 100)
    number, minute = divmod(number, 100)
    number, hour = divmod(number, 100)
    number, day = divmod(number, 100)
    year, month = divmod(number, 100)
    if not generalized:
        year += 2000 if year < 50 else 1900  # RFC 5280 4.1.2.5.1
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise ParseError(f"{what}: неверное время {body!r}") from None


__all__ = [
    "BIT_STRING",
    "BMP_STRING",
    "BOOLEAN",
    "GENERALIZED_TIME",
    "IA5_STRING",
    "INTEGER",
    "NULL",
    "NUMERIC_STRING",
    "OCTET_STRING",
    "OID",
    "PRINTABLE_STRING",
    "SEQUENCE",
    "SET",
    "TELETEX_STRING",
    "UNIVERSAL_STRING",
    "UTC_TIME",
    "UTF8_STRING",
    "Tlv",
    "bit_string",
    "boolean",
    "check",
    "children",
    "contents",
    "context",
    "dotted",
    "encoding",
    "expect",
    "integer",
    "octet_string",
    "oid",
    "read",
    "set_bits",
    "text",
    "time",
]
