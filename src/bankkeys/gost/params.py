"""GOST R 34.10-2012 curve parameter sets (RFC 7836 for TC26, RFC 4357 for CryptoPro).

The numbers live once, in the native core (``src/bankkeys/gost/_c/ec.c``); :class:`Curve` objects
are derived from it. CryptoPro sets are the TC26 curves under their older OIDs: they share the
arithmetic but keep their own names and OIDs, so that certificates round-trip unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from bankkeys.gost import _ec
from bankkeys.gost.errors import UnknownParameterSet

__all__ = ["CURVES", "Curve", "get_curve"]


@dataclass(frozen=True)
class Curve:
    """One parameter set: y^2 = x^3 + a x + b over GF(p), base point (x, y) of prime order q."""

    name: str
    oid: str
    bits: Literal[256, 512]
    size: Literal[32, 64]
    p: int
    a: int
    b: int
    q: int
    x: int
    y: int
    cofactor: int
    digest: Literal["streebog256", "streebog512"]


# canonical name -> (OID, id of the distinct curve in the native core; see ec.h)
_SETS: Final[dict[str, tuple[str, int]]] = {
    "tc26-256-A": ("1.2.643.7.1.2.1.1.1", 0),
    "tc26-256-B": ("1.2.643.7.1.2.1.1.2", 1),
    "tc26-256-C": ("1.2.643.7.1.2.1.1.3", 2),
    "tc26-256-D": ("1.2.643.7.1.2.1.1.4", 3),
    "tc26-512-A": ("1.2.643.7.1.2.1.2.1", 4),
    "tc26-512-B": ("1.2.643.7.1.2.1.2.2", 5),
    "tc26-512-C": ("1.2.643.7.1.2.1.2.3", 6),
    "tc26-512-test": ("1.2.643.7.1.2.1.2.0", 8),
    "cryptopro-test": ("1.2.643.2.2.35.0", 7),
    "cryptopro-A": ("1.2.643.2.2.35.1", 1),
    "cryptopro-B": ("1.2.643.2.2.35.2", 2),
    "cryptopro-C": ("1.2.643.2.2.35.3", 3),
    "cryptopro-XchA": ("1.2.643.2.2.36.0", 1),
    "cryptopro-XchB": ("1.2.643.2.2.36.1", 3),
}


def _make(name: str, oid: str, engine_id: int) -> Curve:
    _, bits, cofactor, *numbers = _ec.info(engine_id)
    p, a, b, q, x, y = (int(v, 16) for v in numbers)
    if bits == 256:
        return Curve(name, oid, 256, 32, p, a, b, q, x, y, cofactor, "streebog256")
    return Curve(name, oid, 512, 64, p, a, b, q, x, y, cofactor, "streebog512")


CURVES: Final[Mapping[str, Curve]] = MappingProxyType(
    {name: _make(name, oid, engine_id) for name, (oid, engine_id) in _SETS.items()}
)

_LOOKUP: Final[Mapping[str, Curve]] = MappingProxyType(
    {key: curve for curve in CURVES.values() for key in (curve.name.lower(), curve.oid)}
)


def get_curve(name_or_oid: str) -> Curve:
    """The parameter set by canonical name (case-insensitive) or by OID."""
    if not isinstance(name_or_oid, str):
        raise TypeError(f"curve name or OID must be str, not {type(name_or_oid).__name__}")
    curve = _LOOKUP.get(name_or_oid.strip().lower())
    if curve is None:
        raise UnknownParameterSet(
            f"Неизвестный набор параметров эллиптической кривой: {name_or_oid!r}"
        )
    return curve


def engine_id(curve: Curve) -> int:
    """The native core's id for a registered curve (aliases share one)."""
    if not isinstance(curve, Curve):
        raise TypeError(f"expected a Curve, not {type(curve).__name__}")
    entry = _SETS.get(curve.name)
    if entry is None or CURVES[curve.name] != curve:
        raise UnknownParameterSet(
            f"Неизвестный набор параметров эллиптической кривой: {curve.name!r}"
        )
    return entry[1]
