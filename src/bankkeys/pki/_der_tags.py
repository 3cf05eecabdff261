"""The X.690 identifier octets the DER reader and writer share: one table for both directions."""

from __future__ import annotations

from typing import Final

BOOLEAN: Final = 0x01
INTEGER: Final = 0x02
BIT_STRING: Final = 0x03
OCTET_STRING: Final = 0x04
NULL: Final = 0x05
OID: Final = 0x06
UTF8_STRING: Final = 0x0C
NUMERIC_STRING: Final = 0x12
PRINTABLE_STRING: Final = 0x13
TELETEX_STRING: Final = 0x14
IA5_STRING: Final = 0x16
UTC_TIME: Final = 0x17
GENERALIZED_TIME: Final = 0x18
UNIVERSAL_STRING: Final = 0x1C
BMP_STRING: Final = 0x1E
SEQUENCE: Final = 0x30
SET: Final = 0x31
