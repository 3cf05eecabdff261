"""The C reader of verify_cms (pki/_c/cms.c) against the Python reader (pki/cms.py), the oracle:
for every input — our signatures in each RFC 5652 shape, then every truncation, every changed
octet and every identifier octet swapped for another — both give the same answer: the same
VerifiedSignature, or the same exception with the same words. The C reader must also really
take the usual signature (else this would compare the Python reader with itself)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from asn1crypto import cms as asn1_cms
from pki_support import ECDSA, GOST_SPECS, Pki, make_pki, require_gost

from bankkeys.pki import _asn1, cms
from bankkeys.pki import _der_read as der_read
from bankkeys.pki.cms import sign_cms, verify_cms
from bankkeys.pki.errors import PkiError

DATA = "платёжное поручение № 1".encode()
SIGNED_AT = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
Outcome = tuple[str, Any]


@contextmanager
def _python_reader_only() -> Iterator[None]:
    saved = cms._fast_fields
    cms._fast_fields = lambda _der: None
    try:
        yield
    finally:
        cms._fast_fields = saved


def _outcome(der: bytes, pki: Pki, content: bytes | None) -> Outcome:
    try:
        return ("verified", verify_cms(der, pki.client, content))
    except PkiError as exc:
        return (type(exc).__name__, str(exc))


def _same_answer(der: bytes, pki: Pki, content: bytes | None = DATA) -> Outcome:
    fast = _outcome(der, pki, content)
    with _python_reader_only():
        oracle = _outcome(der, pki, content)
    assert fast == oracle, der.hex()
    return fast


def _variant(
    pki: Pki,
    change: Callable[[Any, Any], None],
    *,
    detached: bool = True,
    resign: bool = True,
) -> bytes:
    """Our CMS with ``change(signed_data, signer_info)`` applied by asn1crypto, signed again
    over the changed attributes (so the answer depends on the change, not on the signature)."""
    der = sign_cms(DATA, pki.client_signer, pki.client, detached=detached, signing_time=SIGNED_AT)
    info = asn1_cms.ContentInfo.load(der)
    signed_data = info["content"]
    change(signed_data, signed_data["signer_infos"][0])
    der = info.dump(force=True)
    if not resign:
        return der
    info = asn1_cms.ContentInfo.load(der)
    signer_info = info["content"]["signer_infos"][0]
    attrs = signer_info["signed_attrs"]
    covered = _asn1.set_of_der(attrs.contents) if attrs.native is not None else DATA
    signer_info["signature"] = pki.client_signer.sign(covered)
    return info.dump(force=True)


def _attrs(signer_info: Any) -> Any:
    return signer_info["signed_attrs"]


def _drop(kind: str) -> Callable[[Any, Any], None]:
    def change(_sd: Any, si: Any) -> None:
        kept = [a for a in _attrs(si) if a["type"].native != kind]
        si["signed_attrs"] = asn1_cms.CMSAttributes(kept)

    return change


def _set_attr(kind: str, values: list[Any]) -> Callable[[Any, Any], None]:
    def change(_sd: Any, si: Any) -> None:
        for attr in _attrs(si):
            if attr["type"].native == kind:
                attr["values"] = values

    return change


def _append_copy(index: int) -> Callable[[Any, Any], None]:
    def change(_sd: Any, si: Any) -> None:
        _attrs(si).append(_attrs(si)[index].copy())

    return change


def _key_id_sid(pki: Pki) -> Callable[[Any, Any], None]:
    def change(_sd: Any, si: Any) -> None:
        assert pki.client.subject_key_id is not None
        si["sid"] = asn1_cms.SignerIdentifier(
            name="subject_key_identifier", value=pki.client.subject_key_id
        )
        si["version"] = "v3"

    return change


def _no_signed_attrs(_sd: Any, si: Any) -> None:
    si["signed_attrs"] = None


def _second_signer(sd: Any, si: Any) -> None:
    sd["signer_infos"].append(si.copy())


def _unsigned_attrs(_sd: Any, si: Any) -> None:
    when = asn1_cms.Time(name="utc_time", value=SIGNED_AT)
    si["unsigned_attrs"] = [{"type": "signing_time", "values": [when]}]


def _no_certificates(sd: Any, _si: Any) -> None:
    sd["certificates"] = None


def _other_certificate_hash(_sd: Any, si: Any) -> None:
    for attr in _attrs(si):
        if attr["type"].native == "signing_certificate_v2":
            attr["values"][0]["certs"][0]["cert_hash"] = b"\x00" * 32


def _generalized(moment: datetime) -> Any:
    return asn1_cms.Time(name="generalized_time", value=moment)


def _cases(pki: Pki) -> dict[str, bytes]:
    when_2051 = datetime(2051, 1, 2, 3, 4, 5, tzinfo=UTC)
    return {
        "detached": _variant(pki, lambda _sd, _si: None),
        "attached": _variant(pki, lambda _sd, _si: None, detached=False),
        "key id": _variant(pki, _key_id_sid(pki)),
        "key id unsigned": _variant(
            pki,
            lambda sd, si: (
                _key_id_sid(pki)(sd, si),
                _unsigned_attrs(sd, si),
                _no_certificates(sd, si),
            ),
        ),
        "unsigned attributes": _variant(pki, _unsigned_attrs),
        "no certificates": _variant(pki, _no_certificates),
        "no signing time": _variant(pki, _drop("signing_time")),
        "no signing certificate": _variant(pki, _drop("signing_certificate_v2")),
        "generalized time": _variant(pki, _set_attr("signing_time", [_generalized(when_2051)])),
        "empty signing time": _variant(pki, _set_attr("signing_time", [])),
        "empty signing certificate": _variant(pki, _set_attr("signing_certificate_v2", [])),
        "other certificate hash": _variant(pki, _other_certificate_hash),
        "wrong content type": _variant(pki, _set_attr("content_type", ["signed_data"])),
        "two digests": _variant(pki, _set_attr("message_digest", [b"\x01" * 32, b"\x02" * 32])),
        "no digest": _variant(pki, _drop("message_digest")),
        "no content type": _variant(pki, _drop("content_type")),
        "repeated attribute": _variant(pki, _append_copy(1)),
        "no signed attributes": _variant(pki, _no_signed_attrs),
        "two signers": _variant(pki, _second_signer),
        "not signed again": _variant(pki, _drop("signing_time"), resign=False),
    }


# Which shapes the C reader takes itself; the others it must leave to the Python reader.
FAST = {
    "detached",
    "attached",
    "key id",
    "key id unsigned",
    "unsigned attributes",
    "no certificates",
    "no signing time",
    "no signing certificate",
    "generalized time",
    "empty signing time",
    "empty signing certificate",
    "other certificate hash",
    "wrong content type",
    "not signed again",
}


@pytest.fixture(scope="module", params=[ECDSA, *GOST_SPECS], ids=lambda s: s.curve)
def pki(request: pytest.FixtureRequest) -> Pki:
    require_gost(request.param)
    return make_pki(request.param)


@pytest.fixture(scope="module")
def cases(pki: Pki) -> dict[str, bytes]:
    return _cases(pki)


def test_cms_fast_reader_takes_the_usual_shapes_and_answers_like_python(
    pki: Pki, cases: dict[str, bytes]
) -> None:
    answers = {}
    for name, der in cases.items():
        assert (cms._fast_fields(der) is not None) == (name in FAST), name
        answers[name] = _same_answer(der, pki)
    # The answers are the ones each shape calls for (both readers agreeing on a wrong answer
    # would pass the comparison).
    verified = {n for n, (kind, _) in answers.items() if kind == "verified"}
    refused = {"other certificate hash", "wrong content type", "not signed again"}
    assert verified == (FAST - refused) | {"two signers", "no signed attributes"}
    assert answers["other certificate hash"][0] == "SignatureInvalid"
    assert answers["wrong content type"][0] == "SignatureInvalid"
    assert answers["two digests"] == (
        "SignatureInvalid",
        "подпись CMS: хэш содержимого не совпадает (messageDigest)",
    )
    assert answers["repeated attribute"][0] == "SignatureInvalid"
    result = answers["generalized time"][1]
    assert result.signing_time == datetime(2051, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert answers["empty signing time"][1].signing_time is None
    assert answers["detached"][1].signing_time == SIGNED_AT
    assert answers["detached"][1].signing_certificate_checked
    assert not answers["no signing certificate"][1].signing_certificate_checked


def test_cms_fast_reader_content_rules_match(pki: Pki, cases: dict[str, bytes]) -> None:
    assert _same_answer(cases["detached"], pki, None)[0] == "InvalidInput"
    assert _same_answer(cases["attached"], pki, None)[0] == "verified"
    assert _same_answer(cases["attached"], pki, b"other")[0] == "InvalidInput"
    assert _same_answer(cases["detached"], pki, b"other")[0] == "SignatureInvalid"
    stranger = make_pki(pki.client.key_spec)
    for der in (cases["detached"], cases["key id"]):
        assert _outcome(der, stranger, DATA) == (
            "SignatureInvalid",
            "подпись CMS: среди подписантов нет владельца данного сертификата",
        )
        with _python_reader_only():
            assert _outcome(der, stranger, DATA)[1].endswith("данного сертификата")


def _tlv_starts(der: bytes) -> list[int]:
    """The offset of every value's identifier octet in a well-framed DER."""
    starts: list[int] = []

    def walk(tlv: der_read.Tlv) -> None:
        starts.append(tlv.start)
        if tlv.tag >= 0 and tlv.tag & 0x20:
            for child in der_read.children(der, tlv, "test"):
                walk(child)

    walk(der_read.read(der, 0, len(der), "test"))
    return starts


# Without the embedded certificate (which no reader reads): the octets left are the ones read.
@pytest.mark.parametrize("name", ["no certificates", "key id unsigned"])
def test_cms_fast_reader_every_mutation_answers_like_python(
    pki: Pki, cases: dict[str, bytes], name: str
) -> None:
    der = cases[name]
    seen: set[str] = set()
    for size in range(len(der)):
        seen.add(_same_answer(der[:size], pki)[0])
    for at in range(len(der)):
        for value in {der[at] ^ 0x01, der[at] ^ 0x80, 0x00}:
            seen.add(_same_answer(der[:at] + bytes([value]) + der[at + 1 :], pki)[0])
    tags = (0x02, 0x04, 0x05, 0x06, 0x13, 0x17, 0x18, 0x30, 0x31, 0x80, 0x81, 0xA0, 0xA1, 0xA2)
    for at in _tlv_starts(der):
        for tag in tags:
            if tag != der[at]:
                seen.add(_same_answer(der[:at] + bytes([tag]) + der[at + 1 :], pki)[0])
    # The mutations reached every kind of answer, not only framing errors.
    assert {"verified", "ParseError", "SignatureInvalid"} <= seen
