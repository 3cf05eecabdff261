"""GOST R 34.10-2012: the standard's vectors, every curve's constants, round trips, refusals."""

from __future__ import annotations

import secrets

import pytest

from bankkeys.gost import (
    CURVES,
    Curve,
    InvalidLength,
    InvalidPrivateKey,
    InvalidPublicKey,
    InvalidSignature,
    PrivateKey,
    PublicKey,
    UnknownParameterSet,
    check_public_key,
    digest_to_int,
    generate_private_key,
    get_curve,
    public_key,
    sign,
    sign_digest,
    verify,
    verify_digest,
)
from bankkeys.gost.gost3410 import _sign_digest_with_k

# GOST R 34.10-2012 Appendix A: (curve, d, e, k, r, s, Qx, Qy); e is given as an integer.
APPENDIX = {
    "A.1": (
        "cryptopro-test",
        0x7A929ADE789BB9BE10ED359DD39A72C11B60961F49397EEE1D19CE9891EC3B28,
        0x2DFBC1B372D89A1188C09C52E0EEC61FCE52032AB1022E8E67ECE6672B043EE5,
        0x77105C9B20BCD3122823C8CF6FCC7B956DE33814E95B7FE64FED924594DCEAB3,
        0x41AA28D2F1AB148280CD9ED56FEDA41974053554A42767B83AD043FD39DC0493,
        0x01456C64BA4642A1653C235A98A60249BCD6D3F746B631DF928014F6C5BF9C40,
        0x7F2B49E270DB6D90D8595BEC458B50C58585BA1D4E9B788F6689DBD8E56FD80B,
        0x26F1B489D6701DD185C8413A977B3CBBAF64D1C593D26627DFFB101A87FF77DA,
    ),
    "A.2": (
        "tc26-512-test",
        0x0BA6048AADAE241BA40936D47756D7C93091A0E8514669700EE7508E508B102072E8123B2200A0563322DAD2827E2714A2636B7BFD18AADFC62967821FA18DD4,
        0x3754F3CFACC9E0615C4F4A7C4D8DAB531B09B6F9C170C533A71D147035B0C5917184EE536593F4414339976C647C5D5A407ADEDB1D560C4FC6777D2972075B8C,
        0x0359E7F4B1410FEACC570456C6801496946312120B39D019D455986E364F365886748ED7A44B3E794434006011842286212273A6D14CF70EA3AF71BB1AE679F1,
        0x2F86FA60A081091A23DD795E1E3C689EE512A3C82EE0DCC2643C78EEA8FCACD35492558486B20F1C9EC197C90699850260C93BCBCD9C5C3317E19344E173AE36,
        0x1081B394696FFE8E6585E7A9362D26B6325F56778AADBC081C0BFBE933D52FF5823CE288E8C4F362526080DF7F70CE406A6EEB1F56919CB92A9853BDE73E5B4A,
        0x115DC5BC96760C7B48598D8AB9E740D4C4A85A65BE33C1815B5C320C854621DD5A515856D13314AF69BC5B924C8B4DDFF75C45415C1D9DD9DD33612CD530EFE1,
        0x37C7C90CD40B0F5621DC3AC1B751CFA0E2634FA0503B3D52639F5D7FB72AFD61EA199441D943FFE7F0C70A2759A3CDB84C114E1F9339FDF27F35ECA93677BEEC,
    ),
}


def le(value: int, curve: Curve) -> bytes:
    return value.to_bytes(curve.size, "little")


def be(value: int, curve: Curve) -> bytes:
    return value.to_bytes(curve.size, "big")


# ---- an affine reference in Python, independent of the C core, for the constants' checks


def _add(
    c: Curve, p1: tuple[int, int] | None, p2: tuple[int, int] | None
) -> tuple[int, int] | None:
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2:
        if (y1 + y2) % c.p == 0:
            return None
        lam = (3 * x1 * x1 + c.a) * pow(2 * y1, -1, c.p) % c.p
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, c.p) % c.p
    x3 = (lam * lam - x1 - x2) % c.p
    return x3, (lam * (x1 - x3) - y1) % c.p


def _mul(c: Curve, k: int, point: tuple[int, int] | None) -> tuple[int, int] | None:
    result = None
    while k:
        if k & 1:
            result = _add(c, result, point)
        point = _add(c, point, point)
        k >>= 1
    return result


@pytest.mark.parametrize("name", sorted(APPENDIX))
def test_appendix_vectors(name: str) -> None:
    curve_name, d, e, k, r, s, qx, qy = APPENDIX[name]
    curve = get_curve(curve_name)
    pub = public_key(curve, le(d, curve))
    assert pub == le(qx, curve) + le(qy, curve)
    digest = le(e, curve)
    assert digest_to_int(curve, digest) == e
    sig = _sign_digest_with_k(curve, le(d, curve), digest, le(k, curve))
    assert sig == be(s, curve) + be(r, curve)
    verify_digest(curve, pub, digest, sig)
    with pytest.raises(InvalidSignature):
        verify_digest(curve, pub, le(e + 1, curve), sig)


@pytest.mark.parametrize("name", sorted(CURVES))
def test_curve_constants(name: str) -> None:
    c = CURVES[name]
    assert (c.y * c.y - c.x**3 - c.a * c.x - c.b) % c.p == 0
    assert _mul(c, c.q, (c.x, c.y)) is None
    assert _mul(c, c.q - 1, (c.x, c.y)) == (c.x, (-c.y) % c.p)
    # h q = #E lies in the Hasse interval
    assert abs(c.cofactor * c.q - (c.p + 1)) <= 2 * (c.p.bit_length() and int(c.p**0.5) + 1)
    assert c.bits == 8 * c.size and c.q.bit_length() <= c.bits
    assert c.digest == ("streebog256" if c.bits == 256 else "streebog512")
    assert get_curve(c.oid) is c and get_curve(c.name.upper()) is c


def test_aliases_share_curves_but_keep_oids() -> None:
    pairs = {
        "cryptopro-A": "tc26-256-B",
        "cryptopro-B": "tc26-256-C",
        "cryptopro-C": "tc26-256-D",
        "cryptopro-XchA": "tc26-256-B",
        "cryptopro-XchB": "tc26-256-D",
    }
    for alias, canonical in pairs.items():
        a, c = CURVES[alias], CURVES[canonical]
        assert (a.p, a.a, a.b, a.q, a.x, a.y) == (c.p, c.a, c.b, c.q, c.x, c.y)
        assert a.oid != c.oid
        d = generate_private_key(a)
        assert public_key(a, d) == public_key(c, d)
        verify(c, public_key(a, d), b"alias", sign(a, d, b"alias"))


def test_known_public_keys_against_reference() -> None:
    for c in CURVES.values():
        d = secrets.randbelow(c.q - 1) + 1
        point = _mul(c, d, (c.x, c.y))
        assert point is not None
        assert public_key(c, le(d, c)) == le(point[0], c) + le(point[1], c)


@pytest.mark.parametrize("name", sorted(CURVES))
def test_round_trip(name: str) -> None:
    curve = CURVES[name]
    key = PrivateKey.generate(curve)
    pub = key.public_key()
    assert PublicKey.from_bytes(curve, pub.to_bytes()) == pub
    for message in (b"", b"payment order 1", bytes(range(256)) * 5):
        sig = key.sign(message)
        assert len(sig) == 2 * curve.size
        pub.verify(message, sig)
        with pytest.raises(InvalidSignature):
            pub.verify(message + b"x", sig)
        r = int.from_bytes(sig[curve.size :], "big")
        s = int.from_bytes(sig[: curve.size], "big")
        assert 0 < r < curve.q and 0 < s < curve.q
    digest = secrets.token_bytes(curve.size)
    sig = key.sign_digest(digest)
    pub.verify_digest(digest, sig)
    verify_digest(curve, pub.to_bytes(), digest, sig)
    assert sign_digest(curve, key.to_bytes(), digest) != sig  # fresh k every time


def test_signature_equation_by_reference() -> None:
    """r = x(kG) mod q and s = r d + k e, checked with Python integers for a known k."""
    for c in CURVES.values():
        d = secrets.randbelow(c.q - 1) + 1
        k = secrets.randbelow(c.q - 1) + 1
        digest = secrets.token_bytes(c.size)
        e = int.from_bytes(digest, "little") % c.q or 1
        point = _mul(c, k, (c.x, c.y))
        assert point is not None
        r = point[0] % c.q
        s = (r * d + k * e) % c.q
        assert _sign_digest_with_k(c, le(d, c), digest, le(k, c)) == be(s, c) + be(r, c)


def test_zero_digest_means_e_one() -> None:
    c = get_curve("tc26-256-B")
    assert digest_to_int(c, bytes(32)) == 1
    assert digest_to_int(c, c.q.to_bytes(32, "little")) == 1
    d = generate_private_key(c)
    verify_digest(c, public_key(c, d), bytes(32), sign_digest(c, d, bytes(32)))


def test_wipe() -> None:
    c = get_curve("tc26-256-B")
    key = PrivateKey.generate(c)
    assert key.to_bytes() != bytes(32)
    key.wipe()
    assert key.to_bytes() == bytes(32)
    with pytest.raises(InvalidPrivateKey):
        key.sign(b"after wipe")
    assert "PrivateKey" in repr(key) and key.to_bytes().hex() not in repr(key)


# ---- refusals


@pytest.mark.parametrize("name", ["tc26-256-B", "tc26-512-A", "tc26-256-A", "tc26-512-C"])
def test_wrong_lengths(name: str) -> None:
    c = CURVES[name]
    d = generate_private_key(c)
    pub = public_key(c, d)
    digest = bytes(c.size)
    sig = sign_digest(c, d, digest)
    for bad in (d[:-1], d + b"\0", b""):
        with pytest.raises(InvalidLength):
            public_key(c, bad)
        with pytest.raises(InvalidLength):
            sign_digest(c, bad, digest)
        with pytest.raises(InvalidLength):
            PrivateKey.from_bytes(c, bad)
    for bad in (digest[:-1], digest + b"\0", bytes(96)):
        with pytest.raises(InvalidLength):
            sign_digest(c, d, bad)
        with pytest.raises(InvalidLength):
            verify_digest(c, pub, bad, sig)
        with pytest.raises(InvalidLength):
            digest_to_int(c, bad)
    for bad in (pub[:-1], pub + b"\0"):
        with pytest.raises(InvalidLength):
            check_public_key(c, bad)
        with pytest.raises(InvalidLength):
            verify_digest(c, bad, digest, sig)
    for bad in (sig[:-1], sig + b"\0", sig[: c.size]):
        with pytest.raises(InvalidLength):
            verify_digest(c, pub, digest, bad)


@pytest.mark.parametrize("name", sorted(CURVES))
def test_bad_private_keys(name: str) -> None:
    c = CURVES[name]
    for bad in (0, c.q, c.q + 1, 2 ** (8 * c.size) - 1):
        raw = le(bad, c)
        with pytest.raises(InvalidPrivateKey):
            public_key(c, raw)
        with pytest.raises(InvalidPrivateKey):
            sign(c, raw, b"m")
        with pytest.raises(InvalidPrivateKey):
            PrivateKey.from_bytes(c, raw)
    public_key(c, le(1, c))
    public_key(c, le(c.q - 1, c))


@pytest.mark.parametrize("name", sorted(CURVES))
def test_bad_signatures(name: str) -> None:
    c = CURVES[name]
    d = generate_private_key(c)
    pub = public_key(c, d)
    digest = secrets.token_bytes(c.size)
    sig = sign_digest(c, d, digest)
    s, r = sig[: c.size], sig[c.size :]
    for bad_r in (0, c.q, c.q + 1, 2 ** (8 * c.size) - 1):
        with pytest.raises(InvalidSignature):
            verify_digest(c, pub, digest, s + be(bad_r, c))
    for bad_s in (0, c.q, 2 ** (8 * c.size) - 1):
        with pytest.raises(InvalidSignature):
            verify_digest(c, pub, digest, be(bad_s, c) + r)
    with pytest.raises(InvalidSignature):  # r and s swapped: the wrong wire order
        verify_digest(c, pub, digest, r + s)
    other = public_key(c, generate_private_key(c))
    with pytest.raises(InvalidSignature):
        verify_digest(c, other, digest, sig)


def _point_off_subgroup(c: Curve) -> tuple[int, int]:
    """A curve point whose order is not q (exists only with a cofactor); p = 3 mod 4 here."""
    assert c.p % 4 == 3
    for x in range(1, 1000):
        rhs = (x**3 + c.a * x + c.b) % c.p
        y = pow(rhs, (c.p + 1) // 4, c.p)
        if y * y % c.p == rhs and _mul(c, c.q, (x, y)) is not None:
            return x, y
    raise AssertionError("no point outside the subgroup found")


@pytest.mark.parametrize("name", ["tc26-256-A", "tc26-512-C"])
def test_point_outside_subgroup_refused(name: str) -> None:
    c = CURVES[name]
    x, y = _point_off_subgroup(c)
    raw = le(x, c) + le(y, c)
    with pytest.raises(InvalidPublicKey):
        check_public_key(c, raw)
    with pytest.raises(InvalidPublicKey):
        PublicKey.from_bytes(c, raw)
    with pytest.raises(InvalidPublicKey):
        verify_digest(c, raw, bytes(c.size), b"\1" * (2 * c.size))


@pytest.mark.parametrize("name", sorted(CURVES))
def test_points_not_on_curve_refused(name: str) -> None:
    c = CURVES[name]
    pub = public_key(c, generate_private_key(c))
    x = int.from_bytes(pub[: c.size], "little")
    y = int.from_bytes(pub[c.size :], "little")
    candidates = [
        le(x, c) + le((y + 1) % c.p, c),  # off the curve
        # the same point with a coordinate not reduced mod p, where that still fits
        le(x + c.p, c) + le(y, c) if x + c.p < 2 ** (8 * c.size) else le(c.p, c) + le(y, c),
        le(x, c) + le(y + c.p, c) if y + c.p < 2 ** (8 * c.size) else le(x, c) + le(c.p, c),
        b"\xff" * (2 * c.size),  # both coordinates >= p
    ]
    for raw in candidates:
        with pytest.raises(InvalidPublicKey):
            check_public_key(c, raw)
        with pytest.raises(InvalidPublicKey):
            verify(c, raw, b"m", b"\1" * (2 * c.size))


def test_unknown_parameter_sets() -> None:
    for bad in ("tc26-256-E", "1.2.643.7.1.2.1.1.9", "", "P-256"):
        with pytest.raises(UnknownParameterSet):
            get_curve(bad)
    fake = Curve("tc26-256-B", "1.2.3", 256, 32, 7, 0, 7, 5, 1, 1, 1, "streebog256")
    with pytest.raises(UnknownParameterSet):
        generate_private_key(fake)
    with pytest.raises(TypeError):
        get_curve(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sign("tc26-256-B", bytes(32), b"m")  # type: ignore[arg-type]


def test_bytes_like_inputs() -> None:
    c = get_curve("tc26-256-B")
    d = bytearray(generate_private_key(c))
    pub = memoryview(public_key(c, d))
    sig = sign(c, d, bytearray(b"message"))
    verify(c, pub, memoryview(b"message"), bytearray(sig))
    with pytest.raises(TypeError):
        verify(c, "not bytes", b"m", sig)  # type: ignore[arg-type]
