"""Writing DER (X.690) straight to bytes: the one place the builders' encoding primitives live.

Each function returns one complete value (identifier, definite minimal length, contents), so a
structure is written by nesting calls, inside out. Nothing is parsed back and no objects are
built; that is the point (speed), and why this exists beside asn1crypto. Only single-octet
identifiers (tag numbers up to 30) are written: nothing the builders emit needs more.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from bankkeys.pki._der_tags import (
    BIT_STRING,
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
    UTC_TIME,
    UTF8_STRING,
)
from bankkeys.pki.errors import InvalidInput

# RFC 5280 4.1.2.5: UTCTime for 1950 through 2049, GeneralizedTime from 2050.
_UTC_TIME_FIRST: Final = datetime(1950, 1, 1, tzinfo=UTC)
UTC_TIME_END: Final = datetime(2050, 1, 1, tzinfo=UTC)

# The short form covers almost every value the builders write; precomputing it saves a branch
# and an allocation per value.
_SHORT_LENGTHS: Final = tuple(bytes((n,)) for n in range(0x80))


def length(size: int) -> bytes:
    """The definite, minimal length octets for ``size`` content octets (X.690 10.1)."""
    if size < 0x80:
        return _SHORT_LENGTHS[size]
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(octets),)) + octets


def tlv(tag: int, contents: bytes) -> bytes:
    """A value with a single-octet identifier ``tag`` and the given contents."""
    size = len(contents)
    if size < 0x80:
        return bytes((tag, size)) + contents
    return bytes((tag,)) + length(size) + contents


def sequence(*items: bytes) -> bytes:
    """SEQUENCE of already encoded components, in the order given."""
    return tlv(SEQUENCE, b"".join(items))


def sequence_of(items: Iterable[bytes]) -> bytes:
    """SEQUENCE OF already encoded values, in the order given."""
    return tlv(SEQUENCE, b"".join(items))


def set_of(items: Iterable[bytes]) -> bytes:
    """SET OF already encoded values, in the ascending order of their encodings (X.690 11.6)."""
    return tlv(SET, b"".join(sorted(items)))


def set_of_contents(contents: bytes) -> bytes:
    """SET OF around contents already in DER order (a SET read back from DER, re-tagged)."""
    return tlv(SET, contents)


def explicit(number: int, value: bytes) -> bytes:
    """``[number] EXPLICIT``: the encoded value wrapped in a constructed context tag."""
    return tlv(0xA0 | number, value)


def implicit(number: int, value: bytes) -> bytes:
    """``[number] IMPLICIT`` of an encoded value: its identifier replaced by the context tag,
    primitive or constructed as the value was."""
    return bytes(((value[0] & 0x20) | 0x80 | number,)) + value[1:]


def boolean(value: bool) -> bytes:
    """BOOLEAN; DER writes TRUE as 0xFF (X.690 11.1)."""
    return b"\x01\x01\xff" if value else b"\x01\x01\x00"


def integer(value: int) -> bytes:
    """INTEGER in the fewest two's-complement octets (X.690 8.3.2)."""
    magnitude = value if value >= 0 else ~value
    size = magnitude.bit_length() // 8 + 1  # room for the sign bit
    return tlv(INTEGER, value.to_bytes(size, "big", signed=True))


def octet_string(data: bytes) -> bytes:
    return tlv(OCTET_STRING, data)


def bit_string(data: bytes, unused_bits: int = 0) -> bytes:
    """BIT STRING of whole octets (or with ``unused_bits`` zero bits at the end of the last)."""
    return tlv(BIT_STRING, bytes((unused_bits,)) + data)


def named_bits(positions: Iterable[int]) -> bytes:
    """A named-bit-list BIT STRING with the given bits set (bit 0 first), trailing zero bits
    removed as X.690 11.2.2 demands; no bits set is the empty BIT STRING."""
    wanted = set(positions)
    if not wanted:
        return b"\x03\x01\x00"
    width = max(wanted) + 1
    data = bytearray((width + 7) // 8)
    for position in wanted:
        data[position >> 3] |= 0x80 >> (position & 7)
    return bit_string(bytes(data), len(data) * 8 - width)


@functools.lru_cache(maxsize=1024)
def oid(dotted: str) -> bytes:
    """OBJECT IDENTIFIER from its dotted form (X.690 8.19); InvalidInput if it is not one."""
    arcs = dotted.split(".")
    if len(arcs) < 2 or not all(arc.isascii() and arc.isdigit() for arc in arcs):
        raise InvalidInput(f"некорректный OID: {dotted!r}")
    first, second = int(arcs[0]), int(arcs[1])
    if first > 2 or (first < 2 and second >= 40):
        raise InvalidInput(f"некорректный OID: {dotted!r}")
    body = bytearray()
    for arc in [first * 40 + second, *(int(a) for a in arcs[2:])]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return tlv(OID, bytes(body))


def utf8_string(text: str) -> bytes:
    return tlv(UTF8_STRING, text.encode("utf-8"))


def printable_string(text: str) -> bytes:
    """PrintableString; the caller has checked the characters."""
    return tlv(PRINTABLE_STRING, text.encode("ascii"))


def numeric_string(text: str) -> bytes:
    """NumericString; the caller has checked the characters."""
    return tlv(NUMERIC_STRING, text.encode("ascii"))


def ia5_string(data: bytes) -> bytes:
    return tlv(IA5_STRING, data)


def utc_time(moment: datetime) -> bytes:
    """UTCTime ``YYMMDDHHMMSSZ`` of an aware UTC moment in 1950..2049, whole seconds."""
    if not _UTC_TIME_FIRST <= moment < UTC_TIME_END:
        raise InvalidInput(f"время {moment.isoformat()} вне диапазона UTCTime (1950–2049)")
    m = moment
    text = f"{m.year % 100:02d}{m.month:02d}{m.day:02d}{m.hour:02d}{m.minute:02d}{m.second:02d}Z"
    return tlv(UTC_TIME, text.encode("ascii"))


def generalized_time(moment: datetime) -> bytes:
    """GeneralizedTime ``YYYYMMDDHHMMSSZ`` of an aware UTC moment, whole seconds (RFC 5280
    4.1.2.5.2: no fractional seconds)."""
    m = moment
    text = f"{m.year:04d}{m.month:02d}{m.day:02d}{m.hour:02d}{m.minute:02d}{m.second:02d}Z"
    return tlv(GENERALIZED_TIME, text.encode("ascii"))


def x509_time(moment: datetime) -> bytes:
    """The X.509 ``Time`` CHOICE per RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime
    from 2050. ``moment`` is aware UTC with whole seconds; a year before 1950 has no encoding
    that RFC 5280 allows, and is refused."""
    if moment < UTC_TIME_END:
        return utc_time(moment)
    return generalized_time(moment)


__all__ = [
    "BIT_STRING",
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
    "UTC_TIME",
    "UTC_TIME_END",
    "UTF8_STRING",
    "bit_string",
    "boolean",
    "explicit",
    "generalized_time",
    "ia5_string",
    "implicit",
    "integer",
    "length",
    "named_bits",
    "numeric_string",
    "octet_string",
    "oid",
    "printable_string",
    "sequence",
    "sequence_of",
    "set_of",
    "set_of_contents",
    "tlv",
    "utc_time",
    "utf8_string",
    "x509_time",
]
