"""The PKI layer's caches (names, public keys, key identifiers) change nothing but speed: the
same bytes as the uncached path, failures never remembered, no state shared between callers."""

from __future__ import annotations

from typing import Any

import pytest
from pki_support import signer, spec

from bankkeys.pki import _asn1
from bankkeys.pki._asn1 import core, x509
from bankkeys.pki._common import key_identifier
from bankkeys.pki.errors import ParseError, PkiError
from bankkeys.pki.keys import decode_public_key_info
from bankkeys.pki.names import Name, name_from_der, name_to_asn1, name_to_der
from bankkeys.pki.signer import Signer

__all__ = ["signer", "spec"]

FULL = Name(
    common_name="ООО «Ромашка»",
    organization="ООО «Ромашка»",
    surname="Иванов",
    given_name="Иван Иванович",
    title="Генеральный директор",
    country="RU",
    email="ivanov@example.ru",
    innle="7707083893",
    inn="770708389312",
    ogrn="1027700132195",
    snils="11223344595",
    other=(("1.2.3.4", "прочее"), ("1.2.3.5", "x" * 300)),
)


def _generic_name_der(name: Name) -> bytes:
    # The same Name built the plain asn1crypto way: nested objects, one ATV per RDN.
    rdns = [
        x509.RelativeDistinguishedName([x509.NameTypeAndValue({"type": t, "value": v})])
        for t, v in _pairs(name)
    ]
    return bytes(x509.Name(name="", value=x509.RDNSequence(rdns)).dump())


def _pairs(name: Name) -> list[tuple[str, object]]:
    text = x509.DirectoryString
    pairs: list[tuple[str, object]] = [("country_name", core.PrintableString(name.country))]
    pairs += [("organization_name", text(name="utf8_string", value=name.organization))]
    pairs += [("title", text(name="utf8_string", value=name.title))]
    pairs += [("common_name", text(name="utf8_string", value=name.common_name))]
    pairs += [("surname", text(name="utf8_string", value=name.surname))]
    pairs += [("given_name", text(name="utf8_string", value=name.given_name))]
    pairs += [("email_address", x509.EmailAddress(name.email))]
    for attr in ("ogrn", "innle", "inn", "snils"):
        pairs.append((attr, core.NumericString(getattr(name, attr))))
    pairs += [(oid, core.UTF8String(value)) for oid, value in name.other]
    return pairs


def test_name_der_is_what_asn1crypto_builds() -> None:
    assert name_to_der(FULL) == _generic_name_der(FULL)
    assert name_from_der(name_to_der(FULL)) == FULL


@pytest.mark.parametrize("name", [FULL, Name(common_name="А"), Name(other=(("1.2.3", "y"),))])
def test_cached_name_objects_are_independent(name: Name) -> None:
    first, second = name_to_asn1(name), name_to_asn1(name)
    assert first is not second
    assert _asn1.dump(first) == _asn1.dump(second) == name_to_der(name)
    # Changing one caller's object does not reach the next caller.
    value = x509.DirectoryString(name="utf8_string", value="Z")
    atv = x509.NameTypeAndValue({"type": "common_name", "value": value})
    first.chosen.append(x509.RelativeDistinguishedName([atv]))
    assert _asn1.dump(first) != name_to_der(name)
    assert _asn1.dump(name_to_asn1(name)) == name_to_der(name)


def test_public_key_decoding_is_cached_per_bytes_and_failures_are_not(signer: Signer) -> None:
    spki = signer.public_key_info
    assert decode_public_key_info(spki) == (signer.key_spec, decode_public_key_info(spki)[1])
    as_bytearray: Any = bytearray(spki)
    assert decode_public_key_info(as_bytearray) == decode_public_key_info(spki)
    broken = bytearray(spki)
    broken[-1] ^= 0x01  # the point leaves the curve (or the ECDSA encoding)
    for _ in range(2):  # refused each time, not remembered as good
        with pytest.raises(PkiError):
            decode_public_key_info(bytes(broken))
    with pytest.raises(ParseError):
        decode_public_key_info("not bytes")  # type: ignore[arg-type]


def test_key_identifier_cache_matches_the_definition(signer: Signer) -> None:
    import hashlib

    spki = signer.public_key_info
    bits = _asn1.load(_asn1.keys.PublicKeyInfo, spki, "spki")["public_key"]
    expected = hashlib.sha1(bits.contents[1:], usedforsecurity=False).digest()
    as_bytearray: Any = bytearray(spki)
    assert key_identifier(spki) == key_identifier(as_bytearray) == expected
    with pytest.raises(ParseError):
        key_identifier(b"\x30\x03\x02\x01")
    with pytest.raises(ParseError):
        key_identifier(None)  # type: ignore[arg-type]
