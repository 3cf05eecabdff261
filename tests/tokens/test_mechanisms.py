"""The KeySpec → PKCS#11 mapping (TC26/Rutoken vendor constants), token models, PIN policy."""

from __future__ import annotations

import pytest
from token_support import Fixture, fresh, ready, softhsm_env  # noqa: F401

from bankkeys.pki.signer import KeySpec
from bankkeys.tokens import UnsupportedKeySpec
from bankkeys.tokens import mechanisms as m
from bankkeys.tokens.models import (
    RUTOKEN_ECP_2,
    RUTOKEN_ECP_3_MODEL,
    is_legacy,
    policy_for_model,
    rutoken_model,
)
from bankkeys.tokens.policy import BASIC, RUTOKEN_ECP_3

KEY_ID = b"\x01\x02"


def test_ecdsa_plan() -> None:
    plan = m.keygen_plan(KeySpec("ecdsa-p256", "P-256"), KEY_ID, "k")
    assert (plan.key_type, plan.mechanism, plan.raw_sign_mechanism) == (0x3, 0x1040, 0x1041)
    assert plan.public_template[0x180] == bytes.fromhex("06082a8648ce3d030107")
    private = plan.private_template
    assert private[0x103] is True and private[0x162] is False  # sensitive, not extractable
    assert private[0x001] is True and private[0x002] is True  # on the token, private
    assert private[0x102] == KEY_ID and plan.public_template[0x102] == KEY_ID


def test_gost_256_plan_cryptopro_a() -> None:
    plan = m.keygen_plan(KeySpec("gost2012-256", "cryptopro-A"), KEY_ID, "k")
    assert plan.key_type == 0x30
    assert plan.mechanism == 0x1200
    assert plan.sign_mechanism == 0xD4321008
    assert plan.raw_sign_mechanism == 0x1201
    for template in (plan.public_template, plan.private_template):
        assert template[0x100] == 0x30
        # the reference's example: CryptoPro-A = 1.2.643.2.2.35.1
        assert template[0x250] == bytes.fromhex("06072a850302022301")
        assert template[0x251] == bytes.fromhex("06082a85030701010202")  # Streebog-256
    assert plan.sign_mechanism_param == bytes.fromhex("06082a85030701010202")
    assert plan.private_template[0x162] is False


def test_gost_256_plan_tc26_a() -> None:
    plan = m.keygen_plan(KeySpec("gost2012-256", "tc26-256-A"), KEY_ID, "k")
    assert plan.public_template[0x250] == bytes.fromhex("06092a8503070102010101")


def test_gost_512_plan() -> None:
    plan = m.keygen_plan(KeySpec("gost2012-512", "tc26-512-A"), KEY_ID, "k")
    assert plan.key_type == 0xD4321003
    assert plan.mechanism == 0xD4321005
    assert plan.sign_mechanism == 0xD4321009
    assert plan.raw_sign_mechanism == 0xD4321006
    assert plan.public_template[0x250] == bytes.fromhex("06092a8503070102010201")
    assert plan.public_template[0x251] == bytes.fromhex("06082a85030701010203")  # Streebog-512


@pytest.mark.parametrize(
    "spec",
    [
        KeySpec("gost2012-512", "tc26-256-A"),
        KeySpec("gost2012-256", "tc26-512-A"),
        KeySpec("gost2012-256", "no-such-curve"),
        KeySpec("ecdsa-p256", "P-384"),
    ],
)
def test_bad_specs_refused(spec: KeySpec) -> None:
    with pytest.raises(UnsupportedKeySpec):
        m.keygen_plan(spec, KEY_ID, "k")


@pytest.mark.parametrize(
    "spec",
    [
        KeySpec("ecdsa-p256", "P-256"),
        KeySpec("gost2012-256", "cryptopro-A"),
        KeySpec("gost2012-256", "tc26-256-B"),
        KeySpec("gost2012-512", "tc26-512-C"),
    ],
)
def test_spec_read_back_from_attributes(spec: KeySpec) -> None:
    plan = m.keygen_plan(spec, KEY_ID, "k")
    params = plan.public_template.get(0x180) or plan.public_template[0x250]
    assert isinstance(params, bytes)
    assert m.spec_from_attributes(plan.key_type, params) == spec


def test_vendor_constants_registered_in_python_pkcs11() -> None:
    from pkcs11 import KeyType, Mechanism

    import bankkeys.tokens.pkcs11_token  # noqa: F401  (registers on import)

    assert int(KeyType(0xD4321003)) == 0xD4321003
    assert int(Mechanism(0xD4321005)) == 0xD4321005
    assert int(Mechanism(0xD4321008)) == 0xD4321008


def test_gost_generation_reaches_the_device(ready: Fixture) -> None:  # noqa: F811
    """SoftHSM has no GOST: the vendor mechanism must reach C_GenerateKeyPair and come back as a
    clear UnsupportedKeySpec, not a python-pkcs11 argument error or a crash."""
    if ready.backend != "softhsm":
        pytest.skip("device path only")
    for spec in (KeySpec("gost2012-256", "cryptopro-A"), KeySpec("gost2012-512", "tc26-512-A")):
        with pytest.raises(UnsupportedKeySpec):
            ready.token.generate_key(spec, "gost")
    assert ready.token.key_pairs() == []


@pytest.mark.parametrize(
    ("serial", "model"),
    [
        ("2000123456", RUTOKEN_ECP_2),
        ("2100654321", RUTOKEN_ECP_2),
        ("3220000001", RUTOKEN_ECP_3_MODEL),
        ("1234567890", None),
    ],
)
def test_model_from_printed_serial(serial: str, model: str | None) -> None:
    assert rutoken_model(serial) == model


def test_policy_per_model() -> None:
    assert policy_for_model(RUTOKEN_ECP_3_MODEL) is RUTOKEN_ECP_3
    assert policy_for_model(RUTOKEN_ECP_2) is BASIC
    assert is_legacy(RUTOKEN_ECP_2) and not is_legacy(RUTOKEN_ECP_3_MODEL)


def test_policy_accepts_seed_003_pin_and_lists_every_violation() -> None:
    assert RUTOKEN_ECP_3.violations("user", "Moi-Pin-2024") == []
    assert RUTOKEN_ECP_3.violations("user", "Пароль-Надёжный-1") == []  # Cyrillic letters count
    reasons = RUTOKEN_ECP_3.violations("user", "abc")
    assert len(reasons) == 4  # length, upper, digit, special; lower case is present
    assert not any("нижнем" in r for r in reasons)
    assert RUTOKEN_ECP_3.violations("admin", "Same-Pin-1", other_pin="Same-Pin-1") == [
        "PIN-код пользователя и администратора должны отличаться"
    ]
    assert BASIC.violations("user", "123456") == []
    assert BASIC.violations("user", "12345678")  # the factory PIN is never a new PIN
