"""``streebog.streebog256_many`` and ``_streebog.digest_many`` (many inputs hashed with the GIL
released once) against gostcrypto's pure-Python Streebog and the one-shot hash: every block
boundary, the GIL threshold on both sides, buffers other than bytes, and the refusals."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bankkeys.gost import _streebog, streebog
from conftest import missing

try:
    import gostcrypto as _gostcrypto
except ImportError:  # the test extra not installed
    _gostcrypto = None
gostcrypto: Any = _gostcrypto

SIZES = [0, 1, 63, 64, 65, 127, 128, 325, 1196, 2047, 2048, 2049, 5000]


def _reference(name: str, data: bytes) -> bytes:
    if gostcrypto is None:
        missing("gostcrypto not installed (pip install -e .[test])")
    digest: bytes = gostcrypto.gosthash.new(name, data=bytes(data)).digest()
    return digest


def _inputs() -> list[Any]:
    rng = random.Random(1196)
    data = [rng.randbytes(n) for n in SIZES]
    return [*data, bytearray(data[5]), memoryview(data[9])[1:]]


def test_streebog256_many_matches_the_reference() -> None:
    items = _inputs()
    got = streebog.streebog256_many(items)
    assert got == [_reference("streebog256", bytes(x)) for x in items]
    assert got == [streebog.streebog256(x).digest() for x in items]
    assert streebog.streebog256_many([]) == []


def test_digest_many_512_matches_the_reference() -> None:
    items = _inputs()
    assert _streebog.digest_many(64, items) == [_reference("streebog512", bytes(x)) for x in items]


def test_digest_many_refusals() -> None:
    with pytest.raises(ValueError):
        _streebog.digest_many(48, [b""])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _streebog.digest_many(32, [b"a", "text"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        _streebog.digest_many(32, [b"a", 5])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        _streebog.digest_many(32, 5)  # type: ignore[arg-type]
