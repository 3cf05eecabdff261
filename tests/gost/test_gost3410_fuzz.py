"""Fuzz every GOST R 34.10-2012 entry point with arbitrary input: only our errors come out."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bankkeys.gost import (
    CURVES,
    GostError,
    PrivateKey,
    PublicKey,
    _ec,
    check_public_key,
    digest_to_int,
    get_curve,
    public_key,
    sign,
    sign_digest,
    verify,
    verify_digest,
)
from bankkeys.gost.gost3410 import _sign_digest_with_k

curves = st.sampled_from(sorted(CURVES)).map(get_curve)
# lengths near the valid ones are the interesting ones
blobs = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([32, 64, 128]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
    st.sampled_from([32, 64, 128]).map(lambda n: b"\xff" * n),
)
anything = st.one_of(blobs, st.integers(), st.text(max_size=5), st.none(), st.lists(st.integers()))


def _call(fn: Any, *args: Any) -> None:
    with contextlib.suppress(GostError, TypeError):
        fn(*args)


@settings(max_examples=300, deadline=None)
@given(curve=curves, a=blobs, b=blobs, c=blobs)
def test_entry_points_with_arbitrary_bytes(curve: Any, a: bytes, b: bytes, c: bytes) -> None:
    _call(public_key, curve, a)
    _call(sign_digest, curve, a, b)
    _call(sign, curve, a, b)
    _call(verify_digest, curve, a, b, c)
    _call(verify, curve, a, b, c)
    _call(check_public_key, curve, a)
    _call(digest_to_int, curve, a)
    _call(_sign_digest_with_k, curve, a, b, c)
    _call(PrivateKey.from_bytes, curve, a)
    _call(PublicKey.from_bytes, curve, a)


@settings(max_examples=200, deadline=None)
@given(curve=curves, a=anything, b=anything, c=anything)
def test_entry_points_with_wrong_types(curve: Any, a: Any, b: Any, c: Any) -> None:
    _call(public_key, curve, a)
    _call(sign_digest, curve, a, b)
    _call(verify_digest, curve, a, b, c)
    _call(check_public_key, a, b)
    _call(get_curve, a)


@settings(max_examples=200, deadline=None)
@given(ident=st.integers(min_value=-(2**40), max_value=2**40), a=blobs, b=blobs, c=blobs)
def test_native_core_with_any_curve_id(ident: int, a: bytes, b: bytes, c: bytes) -> None:
    for fn, args in (
        (_ec.info, (ident,)),
        (_ec.generate, (ident,)),
        (_ec.check_private, (ident, a)),
        (_ec.check_public, (ident, a)),
        (_ec.public_key, (ident, a)),
        (_ec.sign, (ident, a, b)),
        (_ec.sign_with_k, (ident, a, b, c)),
        (_ec.verify, (ident, a, b, c)),
    ):
        # an id beyond a C int is refused by argument parsing (OverflowError), never a crash
        with contextlib.suppress(GostError, TypeError, OverflowError):
            fn(*args)  # type: ignore[operator]


@settings(max_examples=100, deadline=None)
@given(curve=curves, data=st.data())
def test_verify_never_accepts_random_signatures(curve: Any, data: st.DataObject) -> None:
    key = PrivateKey.generate(curve)
    pub = key.public_key()
    digest = data.draw(st.binary(min_size=curve.size, max_size=curve.size))
    sig = data.draw(st.binary(min_size=2 * curve.size, max_size=2 * curve.size))
    try:
        pub.verify_digest(digest, sig)
    except GostError:
        return
    raise AssertionError("a random signature verified")
