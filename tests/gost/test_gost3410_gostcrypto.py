"""Differential tests against gostcrypto (pure Python GOST R 34.10-2012), random keys and digests.

gostcrypto's byte orders differ from the wire forms here: its private key, digest and public-key
coordinates are big-endian and its signature is ``r || s``. The conversions below are the whole
mapping; the numbers must agree exactly.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bankkeys.gost import Curve, get_curve, public_key, sign_digest, verify_digest
from conftest import missing

try:
    from gostcrypto import gostsignature as _gostsignature
except ImportError:  # the test extra not installed
    _gostsignature = None
gostsignature: Any = _gostsignature

# our curve -> gostcrypto's name for the same parameter set
NAMES = {
    "tc26-256-A": "id-tc26-gost-3410-2012-256-paramSetA",
    "tc26-256-B": "id-tc26-gost-3410-2012-256-paramSetB",
    "tc26-256-C": "id-tc26-gost-3410-2012-256-paramSetC",
    "tc26-256-D": "id-tc26-gost-3410-2012-256-paramSetD",
    "tc26-512-A": "id-tc26-gost-3410-12-512-paramSetA",
    "tc26-512-B": "id-tc26-gost-3410-12-512-paramSetB",
    "tc26-512-C": "id-tc26-gost-3410-2012-512-paramSetC",
}


def _theirs(curve: Curve) -> Any:
    mode = gostsignature.MODE_256 if curve.bits == 256 else gostsignature.MODE_512
    return gostsignature.new(mode, gostsignature.CURVES_R_1323565_1_024_2019[NAMES[curve.name]])


def _swap_halves(data: bytes, size: int) -> bytes:
    return data[size:] + data[:size]


def _reverse_coordinates(pub: bytes, size: int) -> bytes:
    return pub[:size][::-1] + pub[size:][::-1]


@pytest.mark.parametrize("name", sorted(NAMES))
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_against_gostcrypto(name: str, data: st.DataObject) -> None:
    if gostsignature is None:
        missing("gostcrypto not installed (pip install -e .[test])")
    curve = get_curve(name)
    n = curve.size
    d = data.draw(st.integers(min_value=1, max_value=curve.q - 1), label="d")
    digest = data.draw(st.binary(min_size=n, max_size=n), label="digest")
    theirs = _theirs(curve)
    d_le = d.to_bytes(n, "little")

    ours_pub = public_key(curve, d_le)
    their_pub = bytes(theirs.public_key_generate(bytearray(d.to_bytes(n, "big"))))
    assert _reverse_coordinates(their_pub, n) == ours_pub

    # signed here, verified there (their digest and signature are big-endian, r first)
    sig = sign_digest(curve, d_le, digest)
    assert theirs.verify(
        bytearray(their_pub), bytearray(digest[::-1]), bytearray(_swap_halves(sig, n))
    )
    tampered = bytearray(digest[::-1])
    tampered[0] ^= 1
    assert not theirs.verify(bytearray(their_pub), tampered, bytearray(_swap_halves(sig, n)))

    # signed there, verified here
    their_sig = bytes(theirs.sign(bytearray(d.to_bytes(n, "big")), bytearray(digest[::-1])))
    verify_digest(curve, ours_pub, digest, _swap_halves(their_sig, n))
