"""The core's two field inversions (constant time for signing, binary Euclid for verification)
against Python's pow(a, -1, m), mod p and mod q of every distinct curve, edge and random values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bankkeys.gost import GostError
from bankkeys.gost import _ec as _ec_module
from bankkeys.gost.params import CURVES, Curve, engine_id

# the stub of the extension module does not list the test hook
_ec: object = _ec_module

DISTINCT = sorted({engine_id(c): c for c in CURVES.values()}.items())
CASES = [
    pytest.param(
        curve, mod_q, vt, id=f"{curve.name}-{'q' if mod_q else 'p'}-{'vt' if vt else 'ct'}"
    )
    for _, curve in DISTINCT
    for mod_q in (False, True)
    for vt in (False, True)
]


def _inverse(curve: Curve, mod_q: bool, variable_time: bool, a: int) -> int:
    raw = _ec.inverse(engine_id(curve), mod_q, variable_time, a.to_bytes(curve.size, "little"))
    return int.from_bytes(raw, "little")


def _edges(m: int, bits: int) -> list[int]:
    values = {1, 2, 3, 4, m - 1, m - 2, m - 3, (m - 1) // 2, (m + 1) // 2, m // 3}
    values |= {1 << k for k in range(0, bits) if (1 << k) < m}
    values |= {(1 << k) - 1 for k in range(1, bits + 1) if 0 < (1 << k) - 1 < m}
    return sorted(v for v in values if 0 < v < m)


@pytest.mark.parametrize(("curve", "mod_q", "vt"), CASES)
def test_edge_values(curve: Curve, mod_q: bool, vt: bool) -> None:
    m = curve.q if mod_q else curve.p
    for a in _edges(m, curve.bits):
        assert _inverse(curve, mod_q, vt, a) == pow(a, -1, m), hex(a)


@pytest.mark.parametrize(("curve", "mod_q", "vt"), CASES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_values(curve: Curve, mod_q: bool, vt: bool, data: st.DataObject) -> None:
    m = curve.q if mod_q else curve.p
    a = data.draw(st.integers(min_value=1, max_value=m - 1))
    assert _inverse(curve, mod_q, vt, a) == pow(a, -1, m)


@pytest.mark.parametrize(("curve", "mod_q", "vt"), CASES)
def test_refuses_zero_and_out_of_range(curve: Curve, mod_q: bool, vt: bool) -> None:
    m = curve.q if mod_q else curve.p
    for a in (0, m, m + 1, (1 << curve.bits) - 1):
        with pytest.raises(GostError):
            _inverse(curve, mod_q, vt, a)
