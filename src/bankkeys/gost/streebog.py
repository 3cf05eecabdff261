"""Streebog, the GOST R 34.11-2012 hash (RFC 6986), with the face of :mod:`hashlib`.

The work is done by the native core ``bankkeys.gost._streebog``; :class:`Streebog` is that type.
Digests are the bytes ``openssl dgst -md_gost12_256`` / ``-md_gost12_512`` print (the standard
prints its examples byte-reversed). Any bytes-like object is accepted; inputs of 2 KiB or more are
hashed with the GIL released, and one object may be shared by threads (calls are serialised).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal

from bankkeys.gost._streebog import Streebog, digest_many
from bankkeys.gost.errors import GostError

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = [
    "DIGEST_SIZES",
    "OID_STREEBOG256",
    "OID_STREEBOG512",
    "Streebog",
    "new",
    "streebog256",
    "streebog256_many",
    "streebog512",
]

OID_STREEBOG256: Final = "1.2.643.7.1.1.2.2"
OID_STREEBOG512: Final = "1.2.643.7.1.1.2.3"

# The canonical names first; OpenSSL's names and the digest OIDs (RFC 9215) are aliases, so that a
# CMS digestAlgorithm can be hashed without another lookup table.
DIGEST_SIZES: Final[Mapping[str, Literal[32, 64]]] = MappingProxyType(
    {
        "streebog256": 32,
        "streebog512": 64,
        "md_gost12_256": 32,
        "md_gost12_512": 64,
        OID_STREEBOG256: 32,
        OID_STREEBOG512: 64,
    }
)


def new(name: str, data: Buffer = b"") -> Streebog:
    """A new hash object for ``name`` ("streebog256", "streebog512", OpenSSL's or OID aliases)."""
    if not isinstance(name, str):
        raise TypeError(f"Streebog hash name must be str, not {type(name).__name__}")
    size = DIGEST_SIZES.get(name.lower())
    if size is None:
        raise GostError(
            f"unknown Streebog hash name {name!r}; expected one of {', '.join(DIGEST_SIZES)}"
        )
    return Streebog(size, data)


def streebog256(data: Buffer = b"") -> Streebog:
    """A new Streebog-256 hash object, optionally fed ``data``."""
    return Streebog(32, data)


def streebog512(data: Buffer = b"") -> Streebog:
    """A new Streebog-512 hash object, optionally fed ``data``."""
    return Streebog(64, data)


def streebog256_many(items: Sequence[Buffer]) -> list[bytes]:
    """The Streebog-256 digest of each item, in order, the GIL released once for all of them
    (one object per item would hash each below 2 KiB with the GIL held)."""
    return digest_many(32, items)
