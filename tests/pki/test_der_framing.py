"""The DER framing check under lazy readers: every TLV header, every length, every nesting.

Valid objects pass; each kind of framing defect is refused with ParseError; and for random
mutants the check agrees with asn1crypto's full parse wherever that parse fails on framing.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pki_support import ECDSA, make_pki

from bankkeys.pki._der_read import check as check_der
from bankkeys.pki.cms import sign_cms, verify_cms
from bankkeys.pki.errors import ParseError, PkiError


def _cms() -> bytes:
    pki = make_pki(ECDSA)
    return sign_cms(b"payment", pki.client_signer, pki.client, detached=False)


def test_valid_objects_pass() -> None:
    pki = make_pki(ECDSA)
    for der in (pki.client.der, pki.ca.der, _cms(), b"\x05\x00", b"\x30\x00"):
        check_der(der, "x")


@pytest.mark.parametrize(
    ("der", "fragment"),
    [
        (b"", "пустые"),
        (b"\x30\x80\x05\x00\x00\x00", "неопределённая длина"),
        (b"\x04\x81\x05hello", "не минимально"),  # long form for a short length
        (b"\x04\x82\x00\x85" + b"a" * 0x85, "не минимально"),  # leading zero length octet
        (b"\x04\x05abc", "за пределами"),
        (b"\x04\x85\x01\x00\x00\x00\x00", "за пределами"),  # five length octets
        (b"\x04\x01a\x00", "лишние байты"),
        (b"\x30\x03\x04\x02a", "за пределами"),  # child longer than its parent
        (b"\x30\x03\x04\x00\x05", "нет длины"),  # parent ends inside a child's header
        (b"\x1f\x80\x01\x00", "не минимально"),  # high tag number with a leading 0x80
        (b"\x1f\x05\x00", "не минимально"),  # high-tag form for a low number
        (b"\x1f\x81", "обрывается"),
        (b"\x30", "нет длины"),
    ],
)
def test_framing_defects_are_refused(der: bytes, fragment: str) -> None:
    with pytest.raises(ParseError, match=fragment):
        check_der(der, "x")


def test_nesting_is_bounded() -> None:
    deep = b"\x05\x00"
    for _ in range(80):
        n = len(deep)
        header = (
            bytes([n])
            if n < 0x80
            else b"\x81" + bytes([n])
            if n < 0x100
            else b"\x82" + n.to_bytes(2, "big")
        )
        deep = b"\x30" + header + deep
    with pytest.raises(ParseError, match="вложенность"):
        check_der(deep, "x")


def test_high_tag_numbers_are_walked() -> None:
    check_der(b"\x3f\x81\x00\x02\x05\x00", "x")  # constructed, tag number 128


def test_not_bytes_is_refused() -> None:
    with pytest.raises(ParseError, match="байты"):
        check_der("30 00", "x")  # type: ignore[arg-type]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(i=st.integers(0, 10_000), octet=st.integers(0, 255))
def test_what_passes_the_check_openssl_can_walk(openssl: Any, i: int, octet: int) -> None:
    """A byte replaced anywhere in a CMS: whatever the check lets through, OpenSSL's own DER
    walker (``asn1parse``, recursing into every constructed value) reads to the end too."""
    original = _cms()
    i %= len(original)
    mutant = original[:i] + bytes([octet]) + original[i + 1 :]
    try:
        check_der(mutant, "x")
    except ParseError:
        return
    walked = openssl("asn1parse", "-inform", "DER", input=mutant, check=False)
    assert walked.returncode == 0, walked.stderr.decode(errors="replace")
    assert b"Error" not in walked.stdout


def test_verify_refuses_a_broken_embedded_certificate() -> None:
    """The verifier never reads the embedded certificates, yet a broken frame in one is refused."""
    pki = make_pki(ECDSA)
    good = sign_cms(b"payment", pki.client_signer, pki.client, detached=False)
    cert = pki.client.der
    at = good.index(cert)
    # Cut one byte out of the certificate's first inner SEQUENCE length without moving the rest.
    inner = at + 4  # the TBSCertificate's header after the certificate's 4-octet header
    assert good[inner] == 0x30
    broken = bytearray(good)
    broken[inner + 3] ^= 0x01  # its length's low octet: the children no longer fit edge to edge
    with pytest.raises(PkiError):
        verify_cms(bytes(broken), pki.client)
    assert verify_cms(good, pki.client).content == b"payment"


def test_reader_refuses_ranges_outside_the_data() -> None:
    from bankkeys.pki import _der_read

    data = b"\x30\x03\x02\x01\x05"
    top = _der_read.read(data, 0, len(data), "x")
    assert (top.tag, top.body, top.end) == (0x30, 2, 5)
    assert [c.tag for c in _der_read.children(data, top, "x")] == [0x02]
    for pos, limit in ((0, 3), (0, 99), (-1, 5), (5, 5)):
        with pytest.raises(ParseError):
            _der_read.read(data, pos, limit, "x")
    broken = _der_read.Tlv((0x30, 0, 2, 9))
    with pytest.raises(ParseError, match="x: "):
        _der_read.children(data, broken, "x")
