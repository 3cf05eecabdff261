"""verify_cms_many (the GOST signatures of a batch hashed and verified in one C call) against
verify_cms one by one, the reference: for every item of a mixed batch — each RFC 5652 shape
(those the C reader takes and those left to the Python reader), a changed signature, a changed
content, a missing content, a foreign certificate, bytes that are no CMS — the same
VerifiedSignature, or the same exception with the same words, in the same place."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pki_support import ECDSA, GOST_SPECS, Pki, make_pki, require_gost
from test_cms_fast_reader import DATA, _cases

from bankkeys.pki import cms
from bankkeys.pki.certificates import Certificate
from bankkeys.pki.cms import verify_cms, verify_cms_many
from bankkeys.pki.errors import PkiError

Item = tuple[bytes, Certificate, bytes | None]


def _one_by_one(item: Item) -> tuple[str, Any]:
    data, certificate, content = item
    try:
        return ("verified", verify_cms(data, certificate, content))
    except PkiError as exc:
        return (type(exc).__name__, str(exc))


def _in_batch(answer: Any) -> tuple[str, Any]:
    if isinstance(answer, PkiError):
        return (type(answer).__name__, str(answer))
    return ("verified", answer)


def _flip(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


def _items(pki: Pki, foreign: Pki) -> list[tuple[str, Item]]:
    cases = _cases(pki)
    good = cases["detached"]
    rng = random.Random(pki.client.key_spec.curve)
    items: list[tuple[str, Item]] = [
        (name, (der, pki.client, DATA)) for name, der in sorted(cases.items())
    ]
    items += [
        ("signature changed", (_flip(good, len(good) - 3), pki.client, DATA)),
        ("content changed", (good, pki.client, _flip(DATA, 0))),
        ("content missing", (good, pki.client, None)),
        ("attached, no content given", (cases["attached"], pki.client, None)),
        ("foreign certificate", (good, foreign.client, DATA)),
        ("not CMS", (b"\x30\x03\x02\x01\x00", pki.client, DATA)),
        ("empty", (b"", pki.client, DATA)),
    ]
    items += [
        (f"octet {i} changed", (_flip(good, i), pki.client, DATA))
        for i in rng.sample(range(len(good)), 12)
    ]
    rng.shuffle(items)
    return items


@pytest.fixture(scope="module", params=[ECDSA, *GOST_SPECS], ids=lambda s: s.curve)
def pki(request: pytest.FixtureRequest) -> Pki:
    require_gost(request.param)
    return make_pki(request.param)


def test_cms_many_answers_each_item_as_verify_cms_does(pki: Pki) -> None:
    items = _items(pki, make_pki(pki.client.key_spec))
    expected = [_one_by_one(item) for _, item in items]
    got = [_in_batch(a) for a in verify_cms_many([item for _, item in items])]
    for (name, _), want, answer in zip(items, expected, got, strict=True):
        assert answer == want, name
    # Both ways agreeing on wrong answers would pass: the good ones verify, the bad ones not.
    kinds = {name: answer[0] for (name, _), answer in zip(items, got, strict=True)}
    assert kinds["detached"] == kinds["attached"] == "verified"
    assert kinds["signature changed"] == "SignatureInvalid"
    assert kinds["content changed"] == "SignatureInvalid"
    assert kinds["foreign certificate"] == "SignatureInvalid"
    assert kinds["content missing"] == "InvalidInput"
    assert kinds["not CMS"] == kinds["empty"] == "ParseError"


def test_cms_many_empty_and_single() -> None:
    assert verify_cms_many([]) == []
    spec = GOST_SPECS[0]
    require_gost(spec)
    pki = make_pki(spec)
    der = _cases(pki)["detached"]
    assert cms._fast_fields(der) is not None  # the C reader's shape: the batched C path
    [answer] = verify_cms_many([(der, pki.client, DATA)])
    assert answer == verify_cms(der, pki.client, DATA)
