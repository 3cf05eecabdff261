"""One suite over both backends (SoftHSM2 and the software container): the Token protocol."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from token_support import ADMIN_PIN, USER_PIN, Fixture, fresh, ready, softhsm_env  # noqa: F401

from bankkeys.pki.signer import KeySpec, Signer
from bankkeys.tokens import (
    CertificateMismatch,
    DefaultPinRefused,
    KeyNotFound,
    NotLoggedIn,
    ObjectNotFound,
    PinBlocked,
    PinPolicyViolation,
    TokenRemoved,
    WrongPin,
)
from bankkeys.tokens.policy import DEFAULT_ADMIN_PIN, DEFAULT_USER_PIN

P256 = KeySpec("ecdsa-p256", "P-256")


def certificate_for(public_key_info: bytes, name: str = "ООО Ромашка") -> bytes:
    """A certificate for the token's key, issued by a throwaway CA (the bank, in real life)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Тестовый УЦ")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(serialization.load_der_public_key(public_key_info))  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def verify_p256(public_key_info: bytes, data: bytes, signature: bytes) -> None:
    key = serialization.load_der_public_key(public_key_info)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signature, data, ec.ECDSA(hashes.SHA256()))


# ------------------------------------------------------------------ factory PINs (seed 003)


def test_fresh_token_reports_and_refuses_factory_pins(fresh: Fixture) -> None:  # noqa: F811
    token = fresh.token
    token.login(DEFAULT_USER_PIN)
    assert token.info().pins.user_pin_default is True
    with pytest.raises(DefaultPinRefused) as caught:
        token.generate_key(P256, "ключ")
    assert str(caught.value) == (
        "Текущий PIN-код потенциально небезопасен. Необходимо сменить его на новый"
    )


def test_container_refuses_default_admin_pin_until_changed(fresh: Fixture) -> None:  # noqa: F811
    if fresh.backend != "container":
        pytest.skip("plain PKCS#11 cannot tell a default SO PIN without using it")
    token = fresh.token
    token.change_user_pin(DEFAULT_USER_PIN, USER_PIN)
    token.login(USER_PIN)
    with pytest.raises(DefaultPinRefused) as caught:
        token.generate_key(P256, "ключ")
    assert "PIN-код администратора потенциально небезопасен" in str(caught.value)
    token.change_admin_pin(DEFAULT_ADMIN_PIN, ADMIN_PIN)
    assert not token.info().pins.must_change
    assert token.generate_key(P256, "ключ").spec == P256


def test_work_needs_login(fresh: Fixture) -> None:  # noqa: F811
    with pytest.raises(NotLoggedIn):
        fresh.token.generate_key(P256, "ключ")


# ------------------------------------------------------------------ keys, signing, certificates


def test_generate_list_sign_verify(ready: Fixture) -> None:  # noqa: F811
    token = ready.token
    key = token.generate_key(P256, "Подпись платежей")
    listed = {k.id: k for k in token.key_pairs()}
    assert listed[key.id].label == "Подпись платежей"
    assert listed[key.id].spec == P256
    assert listed[key.id].public_key_info == key.public_key_info

    signer = token.signer(key.id)
    assert isinstance(signer, Signer)
    data = "Платёжное поручение № 1".encode()
    signature = signer.sign(data)
    verify_p256(signer.public_key_info, data, signature)
    with pytest.raises(InvalidSignature):
        verify_p256(signer.public_key_info, data + b"!", signature)


def test_sign_digest_matches_sign(ready: Fixture) -> None:  # noqa: F811
    import hashlib

    signer = ready.token.signer(ready.token.generate_key(P256, "k").id)
    data = b"payment order"
    signature = signer.sign_digest(hashlib.sha256(data).digest())
    verify_p256(signer.public_key_info, data, signature)


def test_keys_are_listed_without_login(ready: Fixture) -> None:  # noqa: F811
    key = ready.token.generate_key(P256, "k")
    ready.token.logout()
    assert [k.id for k in ready.token.key_pairs()] == [key.id]
    with pytest.raises(NotLoggedIn):
        ready.token.signer(key.id)


def test_unknown_key_is_refused(ready: Fixture) -> None:  # noqa: F811
    with pytest.raises(KeyNotFound):
        ready.token.signer(b"\x00" * 16)


def test_import_certificate_next_to_its_key(ready: Fixture) -> None:  # noqa: F811
    token = ready.token
    key = token.generate_key(P256, "k")
    other = token.generate_key(P256, "other")
    der = certificate_for(key.public_key_info)
    stored = token.import_certificate(der)
    assert stored.id == key.id
    assert "Ромашка" in stored.label
    certs = token.certificates()
    assert [(c.id, c.der) for c in certs] == [(key.id, der)]
    with pytest.raises(CertificateMismatch):
        token.import_certificate(der, key_id=other.id)


def test_foreign_certificate_is_refused(ready: Fixture) -> None:  # noqa: F811
    stranger = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = certificate_for(
        stranger.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    with pytest.raises(CertificateMismatch):
        ready.token.import_certificate(der)
    assert ready.token.certificates() == []


def test_delete_removes_key_and_certificate(ready: Fixture) -> None:  # noqa: F811
    token = ready.token
    key = token.generate_key(P256, "old")
    keep = token.generate_key(P256, "new")
    token.import_certificate(certificate_for(key.public_key_info))
    token.delete(key.id)
    assert [k.id for k in token.key_pairs()] == [keep.id]
    assert token.certificates() == []
    with pytest.raises(ObjectNotFound):
        token.delete(key.id)
    with pytest.raises(KeyNotFound):
        token.signer(key.id)


# ------------------------------------------------------------------ PINs


def test_wrong_pin_costs_a_try(ready: Fixture) -> None:  # noqa: F811
    token = ready.token
    with pytest.raises(WrongPin) as caught:
        token.login("Neverno-1!")
    assert str(caught.value).startswith("Неверный PIN-код.")
    if ready.counts_tries:
        assert caught.value.tries_left == 9
        assert token.info().pins.user_tries_left == 9
        token.login(USER_PIN)
        assert token.info().pins.user_tries_left == 10
    else:
        assert caught.value.tries_left in (None, 1)
        token.login(USER_PIN)


def test_blocked_after_ten_wrong_pins_then_unblocked(ready: Fixture) -> None:  # noqa: F811
    if not ready.counts_tries:
        pytest.skip("SoftHSM2 keeps no PIN retry counter; Rutoken and the container do")
    token = ready.token
    for left in range(9, 0, -1):
        with pytest.raises(WrongPin) as caught:
            token.login("Neverno-1!")
        assert caught.value.tries_left == left
    with pytest.raises(PinBlocked):
        token.login("Neverno-1!")
    with pytest.raises(PinBlocked) as caught_blocked:
        token.login(USER_PIN)  # even the right PIN
    assert "PIN-кодом администратора" in str(caught_blocked.value)
    assert token.info().pins.user_blocked
    with pytest.raises(WrongPin) as wrong_admin:
        token.unblock_user_pin("Neverno-2@", "Novyi-PIN-7")
    assert wrong_admin.value.role == "admin"
    token.unblock_user_pin(ADMIN_PIN, "Novyi-PIN-7")
    assert not token.info().pins.user_blocked
    token.login("Novyi-PIN-7")
    assert token.generate_key(P256, "k")


def test_unblock_sets_new_user_pin_with_admin_pin(ready: Fixture) -> None:  # noqa: F811
    token = ready.token
    token.unblock_user_pin(ADMIN_PIN, "Zabyl-PIN-8")
    with pytest.raises(WrongPin):
        token.login(USER_PIN)
    token.login("Zabyl-PIN-8")
    assert token.generate_key(P256, "k")


def test_admin_pin_wrong(ready: Fixture) -> None:  # noqa: F811
    with pytest.raises(WrongPin) as caught:
        ready.token.change_admin_pin("Neverno-1!", "Drugoi-Admin-1")
    assert caught.value.role == "admin"
    assert "PIN-код администратора" in str(caught.value)


def test_change_user_pin(ready: Fixture) -> None:  # noqa: F811
    token = ready.token
    key = token.generate_key(P256, "k")
    token.change_user_pin(USER_PIN, "Vtoroi-PIN-2")
    token.logout()
    with pytest.raises(WrongPin):
        token.login(USER_PIN)
    token.login("Vtoroi-PIN-2")
    verify_p256(key.public_key_info, b"x", token.signer(key.id).sign(b"x"))


@pytest.mark.parametrize(
    ("new_pin", "reason"),
    [
        ("short1!", "длина не менее 8"),
        ("nouppercase-1", "верхнем регистре"),
        ("NOLOWERCASE-1", "нижнем регистре"),
        ("No-Digits-Here", "цифры"),
        ("NoSpecials123", "спецсимволы"),
    ],
)
def test_pin_policy_rutoken_ecp3(ready: Fixture, new_pin: str, reason: str) -> None:  # noqa: F811
    with pytest.raises(PinPolicyViolation) as caught:
        ready.token.change_user_pin(USER_PIN, new_pin)
    assert any(reason in r for r in caught.value.reasons)
    assert reason in str(caught.value)
    ready.token.login(USER_PIN)  # the old PIN still works, no try was spent


def test_user_and_admin_pins_must_differ(ready: Fixture) -> None:  # noqa: F811
    with pytest.raises(PinPolicyViolation, match="должны отличаться"):
        ready.token.unblock_user_pin(ADMIN_PIN, ADMIN_PIN)
    if ready.backend == "container":
        with pytest.raises(PinPolicyViolation, match="должны отличаться"):
            ready.token.change_user_pin(USER_PIN, ADMIN_PIN)
        with pytest.raises(PinPolicyViolation, match="должны отличаться"):
            ready.token.change_admin_pin(ADMIN_PIN, USER_PIN)


def test_new_pin_cannot_be_a_factory_pin(fresh: Fixture) -> None:  # noqa: F811
    with pytest.raises(PinPolicyViolation):
        fresh.token.change_user_pin(DEFAULT_USER_PIN, DEFAULT_ADMIN_PIN)


# ------------------------------------------------------------------ removal


def test_token_removed_mid_operation(ready: Fixture) -> None:  # noqa: F811
    token = ready.token
    key = token.generate_key(P256, "k")
    signer = token.signer(key.id)
    ready.remove()  # type: ignore[operator]
    with pytest.raises(TokenRemoved) as caught:
        signer.sign(b"payment")
    assert "отключён" in str(caught.value)
    with pytest.raises(TokenRemoved):
        token.key_pairs()
    with pytest.raises(TokenRemoved):
        token.info()


# ------------------------------------------------------------------ first use (seed 003)


def test_replace_factory_pins(fresh: Fixture) -> None:  # noqa: F811
    from bankkeys.tokens.policy import RUTOKEN_ECP_3
    from bankkeys.tokens.setup import replace_factory_pins

    token = fresh.token
    with pytest.raises(PinPolicyViolation, match="должны отличаться"):
        replace_factory_pins(token, RUTOKEN_ECP_3, "Odinakovyi-1", "Odinakovyi-1")
    token.login(DEFAULT_USER_PIN)  # nothing was changed, no try spent
    replace_factory_pins(token, RUTOKEN_ECP_3, USER_PIN, ADMIN_PIN)
    token.login(USER_PIN)
    assert token.generate_key(P256, "k")
    with pytest.raises(WrongPin):
        replace_factory_pins(token, RUTOKEN_ECP_3, "Tretii-PIN-3", "Chetvertyi-4!")
