"""GOST R 34.10-2012 against OpenSSL 3 + gost-engine (the outside judge), on the command line.

OpenSSL generates the key; we read its scalar from ``openssl pkey -text`` (big-endian hex there;
the PKCS#8 OCTET STRING holds it little-endian), derive the public key here and compare, then sign
here / verify there and the other way round, on raw digests (``pkeyutl``) and on messages
(``dgst -md_gost12_*``).

gost-engine's byte order, found here: ``pkeyutl -sign`` takes the Streebog digest exactly as
``openssl dgst`` prints it and reads it little-endian (as we do); it writes ``s || r``, both
big-endian — our wire form, with no conversion on either side.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from bankkeys.gost import (
    InvalidSignature,
    get_curve,
    public_key,
    sign,
    sign_digest,
    verify,
    verify_digest,
)
from conftest import OpenSSL

pytestmark = pytest.mark.openssl

# gost-engine paramset name -> our curve
PARAMSETS = [
    ("gost2012_256", "A", "cryptopro-A"),
    ("gost2012_256", "B", "cryptopro-B"),
    ("gost2012_256", "C", "cryptopro-C"),
    ("gost2012_256", "XA", "cryptopro-XchA"),
    ("gost2012_256", "XB", "cryptopro-XchB"),
    ("gost2012_256", "TCA", "tc26-256-A"),
    ("gost2012_256", "TCB", "tc26-256-B"),
    ("gost2012_256", "TCC", "tc26-256-C"),
    ("gost2012_256", "TCD", "tc26-256-D"),
    ("gost2012_512", "A", "tc26-512-A"),
    ("gost2012_512", "B", "tc26-512-B"),
    ("gost2012_512", "C", "tc26-512-C"),
]


def _field(text: str, label: str) -> int:
    match = re.search(rf"{label}:\s*([0-9A-Fa-f]+)", text)
    assert match, f"{label} not in openssl output:\n{text}"
    return int(match.group(1), 16)


@pytest.mark.parametrize(("algorithm", "paramset", "name"), PARAMSETS)
def test_interop_with_openssl(
    openssl: OpenSSL, tmp_path: Path, algorithm: str, paramset: str, name: str
) -> None:
    curve = get_curve(name)
    n = curve.size
    openssl("genpkey", "-algorithm", algorithm, "-pkeyopt", f"paramset:{paramset}", "-out", "k.pem")
    openssl("pkey", "-in", "k.pem", "-pubout", "-out", "pub.pem")
    text = openssl("pkey", "-in", "k.pem", "-text", "-noout").stdout.decode()
    d = _field(text, "Private key").to_bytes(n, "little")

    # the same public key from the same scalar
    ours = public_key(curve, d)
    assert ours[:n] == _field(text, "X").to_bytes(n, "little")
    assert ours[n:] == _field(text, "Y").to_bytes(n, "little")

    digest = secrets.token_bytes(n)
    (tmp_path / "digest.bin").write_bytes(digest)

    # signed here, verified by OpenSSL
    (tmp_path / "ours.sig").write_bytes(sign_digest(curve, d, digest))
    openssl("pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-in", "digest.bin",
            "-sigfile", "ours.sig")  # fmt: skip
    # and a wrong signature is refused there too (the judge can say no)
    bad = bytearray(sign_digest(curve, d, digest))
    bad[-1] ^= 1
    (tmp_path / "bad.sig").write_bytes(bytes(bad))
    refused = openssl("pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-in", "digest.bin",
                      "-sigfile", "bad.sig", check=False)  # fmt: skip
    assert refused.returncode != 0

    # signed by OpenSSL, verified here
    openssl("pkeyutl", "-sign", "-inkey", "k.pem", "-in", "digest.bin", "-out", "theirs.sig")
    theirs = (tmp_path / "theirs.sig").read_bytes()
    verify_digest(curve, ours, digest, theirs)
    with pytest.raises(InvalidSignature):
        verify_digest(curve, ours, bytes(reversed(digest)), theirs)


@pytest.mark.parametrize(
    ("algorithm", "paramset", "name", "md"),
    [
        ("gost2012_256", "TCB", "tc26-256-B", "-md_gost12_256"),
        ("gost2012_256", "TCA", "tc26-256-A", "-md_gost12_256"),
        ("gost2012_512", "A", "tc26-512-A", "-md_gost12_512"),
        ("gost2012_512", "C", "tc26-512-C", "-md_gost12_512"),
    ],
)
def test_message_signatures_with_openssl(
    openssl: OpenSSL, tmp_path: Path, algorithm: str, paramset: str, name: str, md: str
) -> None:
    curve = get_curve(name)
    n = curve.size
    openssl("genpkey", "-algorithm", algorithm, "-pkeyopt", f"paramset:{paramset}", "-out", "k.pem")
    openssl("pkey", "-in", "k.pem", "-pubout", "-out", "pub.pem")
    text = openssl("pkey", "-in", "k.pem", "-text", "-noout").stdout.decode()
    d = _field(text, "Private key").to_bytes(n, "little")
    pub = public_key(curve, d)
    message = secrets.token_bytes(1024) + "платёжное поручение".encode()
    (tmp_path / "msg").write_bytes(message)

    openssl("dgst", md, "-sign", "k.pem", "-out", "theirs.sig", "msg")
    verify(curve, pub, message, (tmp_path / "theirs.sig").read_bytes())

    (tmp_path / "ours.sig").write_bytes(sign(curve, d, message))
    openssl("dgst", md, "-verify", "pub.pem", "-signature", "ours.sig", "msg")
