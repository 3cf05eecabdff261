"""``gost3410.digest_and_verify`` (one C call, the GIL released once) judged against the Python
reference: gostcrypto's pure-Python Streebog for the content's digest, and for the signature
``gost3410.verify`` (hash, then verify: raises or not) on good inputs and on every kind of bad
one — a changed message, signature or key, wrong lengths, a point off the curve, a point outside
the q-subgroup of a cofactor-4 curve, empty and long contents, buffers other than bytes."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bankkeys.gost import (
    GostError,
    InvalidPublicKey,
    UnknownParameterSet,
    _ec,
    get_curve,
    gost3410,
    public_key,
)
from bankkeys.gost.params import engine_id
from conftest import missing

try:
    import gostcrypto as _gostcrypto
except ImportError:  # the test extra not installed
    _gostcrypto = None
gostcrypto: Any = _gostcrypto

CURVES = ["tc26-256-A", "tc26-256-B", "tc26-512-A", "tc26-512-C"]


def _streebog_reference(name: str, data: bytes) -> bytes:
    if gostcrypto is None:
        missing("gostcrypto not installed (pip install -e .[test])")
    digest: bytes = gostcrypto.gosthash.new(name, data=data).digest()
    return digest


def _verifies(curve: Any, public: bytes, message: bytes, signature: bytes) -> bool:
    try:
        gost3410.verify(curve, public, message, signature)
    except GostError:
        return False
    return True


def _flip(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index % len(changed)] ^= 0x01
    return bytes(changed)


def _cases(curve: Any, rng: random.Random) -> list[tuple[str, bytes, bytes, bytes, bytes]]:
    """(what, public, message, signature, content): the good case first, then bad ones."""
    n = curve.size
    d = gost3410.generate_private_key(curve)
    pub = public_key(curve, d)
    other_pub = public_key(curve, gost3410.generate_private_key(curve))
    message = rng.randbytes(rng.randrange(1, 400))
    content = rng.randbytes(rng.randrange(0, 3000))
    sig = gost3410.sign(curve, d, message)
    off_curve = _flip(pub, n)  # Y changed: not on the curve
    return [
        ("good", pub, message, sig, content),
        ("good, empty content", pub, message, sig, b""),
        ("good, long content", pub, message, sig, rng.randbytes(70_000)),
        ("good, empty message", pub, b"", gost3410.sign(curve, d, b""), content),
        ("message changed", pub, _flip(message, rng.randrange(len(message))), sig, content),
        ("signature changed", pub, message, _flip(sig, rng.randrange(2 * n)), content),
        ("r = 0 and s = 0", pub, message, bytes(2 * n), content),
        ("s || r = q", pub, message, curve.q.to_bytes(n, "big") * 2, content),
        ("another key", other_pub, message, sig, content),
        ("key off the curve", off_curve, message, sig, content),
        ("signature short", pub, message, sig[:-1], content),
        ("signature long", pub, message, sig + b"\0", content),
        ("key short", pub[:-1], message, sig, content),
        ("key empty", b"", message, sig, content),
    ]


@pytest.mark.parametrize("name", CURVES)
def test_digest_and_verify_matches_the_reference(name: str) -> None:
    curve = get_curve(name)
    rng = random.Random(name)
    for what, public, message, signature, content in _cases(curve, rng):
        expected = (
            _streebog_reference(curve.digest, content),
            _verifies(curve, public, message, signature),
        )
        got = gost3410.digest_and_verify(curve, public, message, signature, content)
        assert got == expected, what
        assert isinstance(got[0], bytes) and len(got[0]) == curve.size
        if what.startswith("good"):
            assert got[1] is True, what
        else:
            assert got[1] is False, what


@pytest.mark.parametrize("name", CURVES)
def test_digest_and_verify_takes_any_buffer(name: str) -> None:
    curve = get_curve(name)
    d = gost3410.generate_private_key(curve)
    pub = public_key(curve, d)
    message, content = b"signed attributes", b"payment order" * 100
    sig = gost3410.sign(curve, d, message)
    expected = gost3410.digest_and_verify(curve, pub, message, sig, content)
    assert expected[1] is True
    got = gost3410.digest_and_verify(
        curve, memoryview(pub), bytearray(message), memoryview(sig), bytearray(content)
    )
    assert got == expected
    with pytest.raises(TypeError):
        gost3410.digest_and_verify(curve, pub, "text", sig, content)  # type: ignore[arg-type]


def test_digest_and_verify_key_checked_skips_only_the_subgroup_check() -> None:
    """tc26-256-A has cofactor 4: a point of order 4·q passes the curve equation and fails only
    the subgroup check, which ``key_checked`` promises the caller made before."""
    curve = get_curve("tc26-256-A")
    n = curve.size
    d = gost3410.generate_private_key(curve)
    pub = public_key(curve, d)
    message = b"attributes"
    sig = gost3410.sign(curve, d, message)
    assert gost3410.digest_and_verify(curve, pub, message, sig, b"", key_checked=True)[1] is True
    off_curve = _flip(pub, n)
    for checked in (False, True):
        assert gost3410.digest_and_verify(curve, off_curve, message, sig, b"", key_checked=checked)[
            1
        ] is _verifies(curve, off_curve, message, sig)
    # A key outside the q-subgroup is refused without key_checked, as check_public_key does.
    outside = _point_outside_subgroup(curve)
    with pytest.raises(InvalidPublicKey):
        gost3410.check_public_key(curve, outside)
    assert gost3410.digest_and_verify(curve, outside, message, sig, b"")[1] is False


def _point_outside_subgroup(curve: Any) -> bytes:
    """A point of the curve that ``check_public_key`` refuses (outside the q-subgroup): with
    cofactor 4, three in four points found by the curve equation are."""
    p, a, b = curve.p, curve.a, curve.b
    assert p % 4 == 3  # the square root below
    for x in range(1, 1000):
        rhs = (x * x * x + a * x + b) % p
        y = pow(rhs, (p + 1) // 4, p)
        if y * y % p != rhs:
            continue
        point = x.to_bytes(curve.size, "little") + y.to_bytes(curve.size, "little")
        try:
            gost3410.check_public_key(curve, point)
        except InvalidPublicKey:
            return point
    raise AssertionError("no point outside the subgroup found")


def test_digest_and_verify_unknown_curve() -> None:
    with pytest.raises(UnknownParameterSet):
        _ec.digest_and_verify(_ec.CURVE_COUNT, b"", b"", b"", b"")
    assert engine_id(get_curve("tc26-512-B")) < _ec.CURVE_COUNT


def test_digest_and_verify_many_answers_as_one_by_one() -> None:
    rng = random.Random(7)
    jobs = []
    for name in CURVES:
        curve = get_curve(name)
        jobs += [
            (curve, pub, msg, sig, content, False)
            for _, pub, msg, sig, content in _cases(curve, rng)
        ]
    rng.shuffle(jobs)
    expected = [
        gost3410.digest_and_verify(c, pub, msg, sig, content, key_checked=checked)
        for c, pub, msg, sig, content, checked in jobs
    ]
    assert gost3410.digest_and_verify_many(jobs) == expected
    assert sum(valid for _, valid in expected) == 4 * len(CURVES)  # the good cases, and only they
    assert gost3410.digest_and_verify_many([]) == []


def test_digest_and_verify_many_refuses_malformed_jobs() -> None:
    curve = get_curve("tc26-256-A")
    good = (engine_id(curve), b"", b"", b"", b"")
    with pytest.raises(TypeError):
        _ec.digest_and_verify_many([good, [engine_id(curve), b"", b"", b"", b""]])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        _ec.digest_and_verify_many([good, (engine_id(curve), "text", b"", b"", b"")])  # type: ignore[list-item]
    with pytest.raises(UnknownParameterSet):
        _ec.digest_and_verify_many([good, (_ec.CURVE_COUNT, b"", b"", b"", b"")])
    assert _ec.digest_and_verify_many([good]) == [(_streebog_reference("streebog256", b""), False)]
