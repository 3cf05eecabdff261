"""Malformed input of every kind raises our ParseError, never a library exception.

Valid objects (certificate, request, CRL, CMS, SubjectPublicKeyInfo, PKCS#8) are mutated by
hypothesis: truncated, bit-flipped, bytes replaced or inserted, trailing garbage appended, a length
blown up, an OID rewritten. A parser may accept a mutant that is still well-formed (a flipped bit
inside a signature), but anything else must be ParseError.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pki_support import ECDSA, GOST_SPECS, NOW, gost_available, make_pki

from bankkeys.pki.certificates import parse_certificate
from bankkeys.pki.cms import parse_cms, sign_cms, verify_cms
from bankkeys.pki.crls import RevokedEntry, build_crl, parse_crl
from bankkeys.pki.errors import ParseError, PkiError
from bankkeys.pki.keys import decode_private_key, decode_public_key_info
from bankkeys.pki.requests import build_request, parse_request
from bankkeys.pki.signer import KeySpec


@cache
def samples(spec: KeySpec) -> dict[str, bytes]:
    pki = make_pki(spec)
    crl = build_crl(pki.ca_signer, pki.ca, [RevokedEntry(5, NOW, "superseded")],
                    this_update=NOW, next_update=NOW + timedelta(days=1), crl_number=3)  # fmt: skip
    return {
        "certificate": pki.client.der,
        "request": build_request(pki.client.subject, pki.client_signer),
        "crl": crl,
        "cms": sign_cms(b"data", pki.client_signer, pki.client, detached=False),
        "spki": pki.client.public_key_info,
        "pkcs8": pki.client_signer.to_pkcs8(),
    }


PARSERS: dict[str, Callable[[bytes], Any]] = {
    "certificate": parse_certificate,
    "request": parse_request,
    "crl": parse_crl,
    "cms": parse_cms,
    "spki": decode_public_key_info,
    "pkcs8": decode_private_key,
}

SPECS = [ECDSA, *(GOST_SPECS[i] for i in (0, 3))]


@st.composite
def mutants(draw: st.DrawFn, data: bytes) -> bytes:
    kind = draw(
        st.sampled_from(["truncate", "flip", "replace", "insert", "trail", "length", "oid"])
    )
    n = len(data)
    if kind == "truncate":
        return data[: draw(st.integers(0, n - 1))]
    if kind == "flip":
        i = draw(st.integers(0, n - 1))
        return data[:i] + bytes([data[i] ^ (1 << draw(st.integers(0, 7)))]) + data[i + 1 :]
    if kind == "replace":
        i = draw(st.integers(0, n - 1))
        chunk = draw(st.binary(min_size=1, max_size=8))
        return data[:i] + chunk + data[i + len(chunk) :]
    if kind == "insert":
        i = draw(st.integers(0, n))
        return data[:i] + draw(st.binary(min_size=1, max_size=8)) + data[i:]
    if kind == "trail":
        return data + draw(st.binary(min_size=1, max_size=16))
    if kind == "length":
        # Rewrite some length octet into a long form claiming a huge length.
        positions = [i for i in range(1, n) if data[i - 1] in (0x30, 0x31, 0x04, 0x03, 0x02)]
        i = draw(st.sampled_from(positions))
        return data[:i] + bytes([0x84, 0xFF, 0xFF, 0xFF, draw(st.integers(0, 255))]) + data[i + 1 :]
    # "oid": corrupt the body of one OBJECT IDENTIFIER
    positions = [i for i in range(n - 2) if data[i] == 0x06 and 0 < data[i + 1] < 16]
    i = draw(st.sampled_from(positions))
    j = i + 2 + draw(st.integers(0, data[i + 1] - 1))
    return data[:j] + bytes([draw(st.integers(0, 255))]) + data[j + 1 :]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.family}:{s.curve}")
@pytest.mark.parametrize("kind", sorted(PARSERS))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutants_raise_parse_error_or_parse(spec: KeySpec, kind: str, data: st.DataObject) -> None:
    if spec.family != "ecdsa-p256" and not gost_available():
        pytest.skip("GOST core not available yet")
    original = samples(spec)[kind]
    mutant = data.draw(mutants(original))
    with contextlib.suppress(ParseError):
        PARSERS[kind](mutant)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_cms_verification_of_mutants_raises_only_ours(data: st.DataObject) -> None:
    sample = samples(ECDSA)
    cert = parse_certificate(sample["certificate"])
    mutant = data.draw(mutants(sample["cms"]))
    try:
        result = verify_cms(mutant, cert)
    except PkiError:
        return
    # Accepted (the mutation hit an unsigned part, e.g. the embedded certificate): then it must
    # still be exactly our content, signed by our signer.
    assert result.content == b"data" and result.signer == cert


@pytest.mark.parametrize("kind", sorted(PARSERS))
def test_type_confusion_is_a_parse_error(kind: str) -> None:
    for other, der in samples(ECDSA).items():
        if other != kind:
            with pytest.raises(ParseError):
                PARSERS[kind](der)
