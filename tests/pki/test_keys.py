"""SubjectPublicKeyInfo, PKCS#8 and the software signer, judged by OpenSSL + gost-engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pki_support import ECDSA, gost_available, require_gost, signer, spec

from bankkeys.pki import _asn1, algorithms
from bankkeys.pki.errors import InvalidInput, ParseError, SignatureInvalid, UnsupportedAlgorithm
from bankkeys.pki.keys import (
    decode_private_key,
    decode_public_key_info,
    encode_private_key,
    encode_public_key_info,
    pem_decode,
    private_key_from_pem,
    private_key_to_pem,
)
from bankkeys.pki.signer import KeySpec, Signer
from bankkeys.pki.software import SoftwareSigner
from bankkeys.pki.verify import verify_signature

__all__ = ["signer", "spec"]  # fixtures

OPENSSL_PARAMSETS = [
    ("gost2012_256", "A", KeySpec("gost2012-256", "cryptopro-A")),
    ("gost2012_256", "XA", KeySpec("gost2012-256", "cryptopro-XchA")),
    ("gost2012_256", "TCA", KeySpec("gost2012-256", "tc26-256-A")),
    ("gost2012_256", "TCB", KeySpec("gost2012-256", "tc26-256-B")),
    ("gost2012_512", "A", KeySpec("gost2012-512", "tc26-512-A")),
    ("gost2012_512", "B", KeySpec("gost2012-512", "tc26-512-B")),
    ("gost2012_512", "C", KeySpec("gost2012-512", "tc26-512-C")),
]


def test_ecdsa_spki_matches_cryptography() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    der = encode_public_key_info(ECDSA, point)
    assert der == key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert decode_public_key_info(der) == (ECDSA, point)


def test_signer_round_trip(signer: SoftwareSigner, spec: KeySpec) -> None:
    assert isinstance(signer, Signer)
    assert decode_public_key_info(signer.public_key_info) == (spec, signer.public_key)
    data = b"payment order 42"
    sig = signer.sign(data)
    alg = algorithms.check_key_spec(spec)
    verify_signature(signer.public_key_info, data, sig, alg.signature_oid)
    with pytest.raises(SignatureInvalid):
        verify_signature(signer.public_key_info, data + b"!", sig, alg.signature_oid)
    with pytest.raises(UnsupportedAlgorithm):
        other = next(a for a in algorithms.ALGORITHMS.values() if a.family != spec.family)
        verify_signature(signer.public_key_info, data, sig, other.signature_oid)


def test_pkcs8_round_trip(signer: SoftwareSigner, spec: KeySpec) -> None:
    der = signer.to_pkcs8()
    assert decode_private_key(der) == (spec, signer.private_bytes())
    pem = private_key_to_pem(spec, signer.private_bytes())
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    again = SoftwareSigner.from_pkcs8(pem)
    assert again.public_key_info == signer.public_key_info


def test_gost_spki_digest_param_set_per_rfc9215() -> None:
    require_gost(KeySpec("gost2012-256", "tc26-256-B"))
    for curve, present in [("cryptopro-A", True), ("tc26-256-B", False), ("tc26-256-A", False)]:
        signer = SoftwareSigner.generate(KeySpec("gost2012-256", curve))
        info = _asn1.load(_asn1.keys.PublicKeyInfo, signer.public_key_info, "spki")
        params = info["algorithm"]["parameters"]
        assert (params["digest_param_set"].native is not None) is present
        raw = info["public_key"].parsed.native
        assert raw == signer.public_key and len(raw) == 64


@pytest.mark.openssl
@pytest.mark.parametrize(("algo", "paramset", "spec"), OPENSSL_PARAMSETS)
def test_openssl_gost_keys_read_and_written(
    openssl, tmp_path: Path, algo: str, paramset: str, spec: KeySpec
) -> None:
    require_gost(spec)
    openssl("genpkey", "-algorithm", algo, "-pkeyopt", f"paramset:{paramset}", "-out", "k.pem")
    pub = openssl("pkey", "-in", "k.pem", "-pubout", "-outform", "DER").stdout
    got_spec, private = private_key_from_pem((tmp_path / "k.pem").read_bytes())
    assert got_spec == spec
    signer = SoftwareSigner(spec, private)
    # gost-engine writes digestParamSet for every curve; the key itself must be the same one.
    assert decode_public_key_info(pub) == (spec, signer.public_key)
    # And OpenSSL reads what we write: same public key out of our PKCS#8.
    (tmp_path / "ours.pem").write_text(private_key_to_pem(spec, private))
    pub2 = openssl("pkey", "-in", "ours.pem", "-pubout", "-outform", "DER").stdout
    assert decode_public_key_info(pub2) == (spec, signer.public_key)
    # OpenSSL verifies our signature over a file with our SPKI.
    (tmp_path / "data").write_bytes(b"x" * 1000)
    (tmp_path / "sig").write_bytes(signer.sign(b"x" * 1000))
    (tmp_path / "pub.pem").write_text(
        "-----BEGIN PUBLIC KEY-----\n" + _b64(signer.public_key_info) + "-----END PUBLIC KEY-----\n"
    )
    md = "-md_gost12_256" if spec.family == "gost2012-256" else "-md_gost12_512"
    out = openssl("dgst", md, "-verify", "pub.pem", "-signature", "sig", "data")
    assert b"Verified OK" in out.stdout
    # And we verify OpenSSL's signature.
    sig = openssl("dgst", md, "-sign", "k.pem", "data").stdout
    alg = algorithms.check_key_spec(spec)
    verify_signature(pub, b"x" * 1000, sig, alg.signature_oid)


@pytest.mark.openssl
def test_openssl_reads_our_ecdsa_pkcs8(openssl, tmp_path: Path) -> None:
    signer = SoftwareSigner.generate(ECDSA)
    (tmp_path / "k.pem").write_text(private_key_to_pem(ECDSA, signer.private_bytes()))
    pub = openssl("pkey", "-in", "k.pem", "-pubout", "-outform", "DER").stdout
    assert pub == signer.public_key_info


def _b64(der: bytes) -> str:
    import base64
    import textwrap

    return "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64)) + "\n"


def test_gost_private_key_inner_forms() -> None:
    spec = KeySpec("gost2012-256", "tc26-256-A")
    require_gost(spec)
    signer = SoftwareSigner.generate(spec)
    d = signer.private_bytes()
    key_alg = _asn1.load(_asn1.keys.PublicKeyInfo, signer.public_key_info, "spki")["algorithm"]
    for inner in (
        _asn1.core.OctetString(d).dump(),
        _asn1.core.Integer(int.from_bytes(d, "little")).dump(),
    ):
        der = _asn1.GostPrivateKeyInfo(
            {"version": 0, "private_key_algorithm": key_alg, "private_key": inner}
        ).dump()
        assert decode_private_key(der) == (spec, d)


def test_bad_inputs_are_typed() -> None:
    with pytest.raises(InvalidInput):
        encode_public_key_info(ECDSA, b"\x04" + b"\x01" * 64)  # not on the curve
    with pytest.raises(InvalidInput):
        encode_public_key_info(ECDSA, b"\x04" * 10)
    with pytest.raises(UnsupportedAlgorithm):
        encode_public_key_info(KeySpec("ecdsa-p256", "P-384"), b"")
    with pytest.raises(UnsupportedAlgorithm):
        encode_public_key_info(KeySpec("gost2012-256", "no-such-curve"), b"")
    with pytest.raises(InvalidInput):
        encode_private_key(KeySpec("gost2012-512", "tc26-256-A"), b"\x01" * 32)
    with pytest.raises(InvalidInput):
        encode_private_key(ECDSA, b"\x00" * 32)
    with pytest.raises(ParseError):
        decode_public_key_info(b"\x30\x03\x02\x01")
    with pytest.raises(ParseError):
        pem_decode("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "PRIVATE KEY")
    good = SoftwareSigner.generate(ECDSA).public_key_info
    with pytest.raises(ParseError):
        decode_public_key_info(good + b"\x00")
    with pytest.raises(ParseError):
        decode_public_key_info(good[:-1])


def test_gost_bad_points_rejected() -> None:
    spec = KeySpec("gost2012-256", "tc26-256-A")
    require_gost(spec)
    with pytest.raises(InvalidInput):
        encode_public_key_info(spec, b"\x01" * 64)
    with pytest.raises(InvalidInput):
        encode_public_key_info(spec, b"\x01" * 63)


def test_registry_agrees_with_gost_core() -> None:
    if not gost_available():
        require_gost(KeySpec("gost2012-256", "tc26-256-A"))
    from bankkeys.gost import params

    for param in algorithms.PARAM_SETS_BY_OID.values():
        curve = params.get_curve(param.curve)
        assert (curve.oid, curve.bits) == (param.oid, param.bits)
    assert set(params.CURVES) == set(algorithms.PARAM_SETS_BY_NAME)


def test_a_pkcs8_scalar_out_of_the_curves_range_is_a_parse_error() -> None:
    """Found by the mutation test: a paramset OID rewritten to the test curve (smaller q) makes
    the stored scalar too large for it — the file is malformed, not the caller's argument."""
    spec = KeySpec("gost2012-256", "cryptopro-A")
    require_gost(spec)
    der = SoftwareSigner.generate(spec).to_pkcs8()
    cryptopro_a = bytes.fromhex("06072a850302022301")
    assert cryptopro_a in der
    test_curve = der.replace(cryptopro_a, bytes.fromhex("06072a850302022300"))
    for _ in range(64):  # a scalar below the test curve's q passes: find one that does not
        try:
            decode_private_key(test_curve)
        except ParseError:
            return
        der = SoftwareSigner.generate(spec).to_pkcs8()
        test_curve = der.replace(cryptopro_a, bytes.fromhex("06072a850302022300"))
    raise AssertionError("no scalar above the test curve's q in 64 keys")
