"""verify_digest(key_checked=True) skips only the q-subgroup check of the public key (the costly
part on the cofactor-4 curves); range and on-curve checks still run, and results on valid keys
are the same as the fully checked path."""

from __future__ import annotations

import secrets

import pytest

from bankkeys.gost import InvalidPublicKey, InvalidSignature, gost3410, params
from bankkeys.gost.streebog import streebog256


def _point_outside_the_subgroup(curve: params.Curve) -> bytes:
    """A point of the curve (X||Y little-endian) that is not in the q-order subgroup."""
    assert curve.p % 4 == 3  # square roots by one exponentiation
    for _ in range(200):
        x = secrets.randbelow(curve.p)
        rhs = (x * x * x + curve.a * x + curve.b) % curve.p
        y = pow(rhs, (curve.p + 1) // 4, curve.p)
        if y * y % curve.p != rhs:
            continue
        public = x.to_bytes(curve.size, "little") + y.to_bytes(curve.size, "little")
        try:
            gost3410.check_public_key(curve, public)
        except InvalidPublicKey:
            return public  # on the curve (checked above), so the subgroup check refused it
    raise AssertionError("no point outside the subgroup in 200 tries")


@pytest.mark.parametrize("name", ["tc26-256-A", "tc26-512-C"])
def test_only_the_subgroup_check_is_skipped(name: str) -> None:
    curve = params.get_curve(name)
    assert curve.cofactor == 4
    digest = streebog256(b"x").digest() if curve.size == 32 else bytes(range(64))
    signature = bytes(2 * curve.size - 1) + b"\x01"
    outside = _point_outside_the_subgroup(curve)
    with pytest.raises(InvalidPublicKey):
        gost3410.verify_digest(curve, outside, digest, signature)
    with pytest.raises(InvalidSignature):  # the point itself passes; the signature does not
        gost3410.verify_digest(curve, outside, digest, signature, key_checked=True)
    off_curve = bytearray(outside)
    off_curve[0] ^= 1
    with pytest.raises(InvalidPublicKey):
        gost3410.verify_digest(curve, bytes(off_curve), digest, signature, key_checked=True)
    too_big = curve.p.to_bytes(curve.size, "little") + outside[curve.size :]
    with pytest.raises(InvalidPublicKey):
        gost3410.verify_digest(curve, too_big, digest, signature, key_checked=True)


@pytest.mark.parametrize("name", ["tc26-256-A", "tc26-256-B", "tc26-512-A", "tc26-512-C"])
def test_valid_keys_give_the_same_verdicts(name: str) -> None:
    curve = params.get_curve(name)
    private = gost3410.generate_private_key(curve)
    public = gost3410.public_key(curve, private)
    digest = bytes(secrets.token_bytes(curve.size))
    signature = gost3410.sign_digest(curve, private, digest)
    for checked in (False, True):
        gost3410.verify_digest(curve, public, digest, signature, key_checked=checked)
        bad = bytearray(signature)
        bad[-1] ^= 1
        with pytest.raises(InvalidSignature):
            gost3410.verify_digest(curve, public, digest, bytes(bad), key_checked=checked)
