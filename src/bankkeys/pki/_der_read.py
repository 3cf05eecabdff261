"""Reading fields straight out of DER whose framing :func:`bankkeys.pki._asn1.check_der` has
already checked: a value's header, a constructed value's children, and the few primitive types a
signature verifier reads (OBJECT IDENTIFIER, INTEGER, OCTET STRING), each checked as X.690 DER
demands. No objects are built for the parts nobody reads; that is the point (speed), and why
this exists beside asn1crypto, which the other readers use.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

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


class Tlv(NamedTuple):
    tag: int  # the identifier octet, or HIGH_TAG
    start: int  # offset of the identifier octet
    body: int  # offset of the contents
    end: int  # offset just past the contents


def read(data: bytes, pos: int, limit: int, what: str) -> Tlv:
    """The value at ``pos`` (its framing inside ``limit`` is re-checked: cheap, and it keeps a
    reader safe on input that skipped :func:`check_der`)."""
    if pos >= limit:
        raise ParseError(f"{what}: структура обрывается")
    tag = data[pos]
    p = pos + 1
    if tag & 0x1F == 0x1F:
        while p < limit and data[p] & 0x80:
            p += 1
        p += 1
        tag = HIGH_TAG
    if p >= limit:
        raise ParseError(f"{what}: структура обрывается")
    length = data[p]
    p += 1
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or p + count > limit:
            raise ParseError(f"{what}: недопустимая длина DER")
        length = int.from_bytes(data[p : p + count], "big")
        p += count
    if p + length > limit:
        raise ParseError(f"{what}: длина DER за пределами данных")
    return Tlv(tag, pos, p, p + length)


def children(data: bytes, parent: Tlv, what: str) -> list[Tlv]:
    """The values inside a constructed value, in order."""
    out: list[Tlv] = []
    pos = parent.body
    while pos < parent.end:
        child = read(data, pos, parent.end, what)
        out.append(child)
        pos = child.end
    return out


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
