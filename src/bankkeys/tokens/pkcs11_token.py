"""PKCS#11 backend (python-pkcs11): Rutoken ECP, HSMs, SoftHSM2 in tests.

PIN counters: standard PKCS#11 reports only "count low", "final try" and "locked" flags, so tries
left are known exactly only at 1 and 0; Rutoken's exact counters and "PIN is default" flags live in
Aktiv's extended function list (``C_EX_GetTokenInfoExtended``), which python-pkcs11 cannot reach.
Default PINs are therefore detected from ``CKF_*_PIN_TO_BE_CHANGED`` and by comparing the PIN the
user logs in with to the factory value (the admin PIN's state is unknown until it is used).

Signing hashes outside the token (Streebog / SHA-256) and signs the digest with the raw mechanism
(CKM_GOSTR3410 / CKM_GOSTR3410_512 / CKM_ECDSA), as "C_Digest then raw sign" would.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from typing import Any, NoReturn

import pkcs11
from asn1crypto import x509 as asn1_x509
from asn1crypto.core import OctetString
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11 import exceptions as p11

from bankkeys.pki.errors import PkiError
from bankkeys.pki.keys import decode_public_key_info
from bankkeys.pki.signer import KeySpec
from bankkeys.tokens import mechanisms as m
from bankkeys.tokens import softkeys
from bankkeys.tokens.base import CertificateInfo, KeyInfo, PinState, TokenInfo
from bankkeys.tokens.errors import (
    CertificateMismatch,
    DefaultPinRefused,
    KeyNotFound,
    NotLoggedIn,
    ObjectNotFound,
    PinBlocked,
    PinRole,
    TokenDeviceError,
    TokenError,
    TokenNotFound,
    TokenRemoved,
    UnsupportedKeySpec,
    WrongPin,
)
from bankkeys.tokens.models import policy_for_model, printed_serial, rutoken_model
from bankkeys.tokens.policy import PinPolicy, is_default_pin

MODULE_ENV = "BANKKEYS_PKCS11_MODULE"

CKF_USER_PIN_FINAL_TRY = 0x00020000
CKF_USER_PIN_LOCKED = 0x00040000
CKF_USER_PIN_TO_BE_CHANGED = 0x00080000
CKF_SO_PIN_FINAL_TRY = 0x00200000
CKF_SO_PIN_LOCKED = 0x00400000
CKF_SO_PIN_TO_BE_CHANGED = 0x00800000
CKF_TOKEN_INITIALIZED = 0x00000400

# Errors meaning the device or its session went away (or, for SoftHSM, its directory did).
_GONE = (
    p11.DeviceRemoved,
    p11.TokenNotPresent,
    p11.SessionHandleInvalid,
    p11.SessionClosed,
    p11.ObjectHandleInvalid,
    p11.KeyHandleInvalid,
    p11.DeviceError,
    p11.GeneralError,
    p11.SlotIDInvalid,
)


def _extend_enum(enum_cls: Any, name: str, value: int) -> None:
    """Teach python-pkcs11's IntEnums a vendor constant (it accepts only enum members)."""
    if value in enum_cls._value2member_map_:
        return
    member = int.__new__(enum_cls, value)
    member._name_ = name
    member._value_ = value
    enum_cls._value2member_map_[value] = member


def register_vendor_constants() -> None:
    """Make the TC26/Rutoken key types and mechanisms usable through python-pkcs11."""
    for name, value in m.VENDOR_KEY_TYPES.items():
        _extend_enum(KeyType, name.removeprefix("CKK_"), value)
    for name, value in m.VENDOR_MECHANISMS.items():
        _extend_enum(Mechanism, name.removeprefix("CKM_"), value)


register_vendor_constants()


def _template(raw: m.Template) -> dict[Attribute, Any]:
    out: dict[Attribute, Any] = {}
    for key, value in raw.items():
        attr = Attribute(key)
        if attr is Attribute.KEY_TYPE and isinstance(value, int):
            value = KeyType(value)
        elif attr is Attribute.CLASS and isinstance(value, int):
            value = ObjectClass(value)
        out[attr] = value
    return out


class Pkcs11Module:
    """A loaded PKCS#11 library (``BANKKEYS_PKCS11_MODULE`` unless a path is given)."""

    def __init__(self, path: str | None = None) -> None:
        path = path or os.environ.get(MODULE_ENV)
        if not path:
            raise TokenNotFound(
                f"Не указана библиотека PKCS#11 (переменная окружения {MODULE_ENV})"
            )
        self.path = path
        try:
            self._lib = pkcs11.lib(path)
        except (OSError, RuntimeError) as exc:
            raise TokenNotFound(f"Не удалось загрузить библиотеку PKCS#11: {path}") from exc

    def _raw_tokens(self) -> list[Any]:
        found = []
        for slot in self._lib.get_slots(token_present=True):
            token = slot.get_token()
            if int(token.flags) & CKF_TOKEN_INITIALIZED:
                found.append(token)
        return found

    def tokens(self, policy: PinPolicy | None = None) -> list[Pkcs11Token]:
        """Every initialized token present now."""
        try:
            return [Pkcs11Token(self, t, policy) for t in self._raw_tokens()]
        except p11.PKCS11Error as exc:
            raise TokenDeviceError(type(exc).__name__) from exc

    def token(
        self, serial: str | None = None, label: str | None = None, policy: PinPolicy | None = None
    ) -> Pkcs11Token:
        """One token by serial (as reported or as printed) or label; the only one if neither."""
        candidates = self.tokens(policy)
        if serial is not None:
            candidates = [t for t in candidates if serial in (t.raw_serial, t.serial)]
        if label is not None:
            candidates = [t for t in candidates if t.label == label]
        if len(candidates) != 1:
            if not candidates:
                raise TokenNotFound()
            raise TokenNotFound("Подключено несколько ключевых носителей: укажите серийный номер")
        return candidates[0]

    def find_raw(self, raw_serial: str) -> Any:
        """The python-pkcs11 token with this serial now, or None if it is gone."""
        try:
            for token in self._raw_tokens():
                if token.serial.decode("ascii", "replace").strip() == raw_serial:
                    return token
        except p11.PKCS11Error:
            return None
        return None


class Pkcs11Token:
    """One PKCS#11 token. Implements :class:`~bankkeys.tokens.Token`."""

    def __init__(self, module: Pkcs11Module, token: Any, policy: PinPolicy | None = None) -> None:
        self._module = module
        self._token = token
        self.raw_serial = token.serial.decode("ascii", "replace").strip()
        self.manufacturer = token.manufacturer_id.strip()
        self.serial = printed_serial(self.raw_serial, self.manufacturer)
        self.label = token.label.strip()
        self.model = rutoken_model(self.serial) or token.model.strip() or "PKCS#11"
        self.policy = policy or policy_for_model(self.model)
        self._session: Any = None
        self._user_pin_default = False

    # ----------------------------------------------------------------- plumbing

    def _flags(self) -> int:
        token = self._module.find_raw(self.raw_serial)
        if token is None:
            raise TokenRemoved()
        self._token = token
        return int(token.flags)

    def _fail(self, exc: p11.PKCS11Error, role: PinRole = "user") -> NoReturn:
        """Turn a PKCS#11 error into a TokenError, telling a removed device from a refusal."""
        if isinstance(exc, p11.PinIncorrect | p11.PinInvalid | p11.PinLenRange):
            flags = self._flags()
            locked = CKF_SO_PIN_LOCKED if role == "admin" else CKF_USER_PIN_LOCKED
            final = CKF_SO_PIN_FINAL_TRY if role == "admin" else CKF_USER_PIN_FINAL_TRY
            if flags & locked:
                raise PinBlocked(role) from exc
            raise WrongPin(role, 1 if flags & final else None) from exc
        if isinstance(exc, p11.PinLocked):
            raise PinBlocked(role) from exc
        if isinstance(
            exc, p11.MechanismInvalid | p11.FunctionNotSupported | p11.KeyTypeInconsistent
        ):
            raise UnsupportedKeySpec() from exc
        if isinstance(exc, p11.UserNotLoggedIn):
            raise NotLoggedIn() from exc
        if isinstance(exc, _GONE) and self._module.find_raw(self.raw_serial) is None:
            self._session = None
            raise TokenRemoved() from exc
        raise TokenDeviceError(type(exc).__name__) from exc

    @contextlib.contextmanager
    def _device(self, role: PinRole = "user") -> Iterator[None]:
        try:
            yield
        except p11.PKCS11Error as exc:
            self._fail(exc, role)

    @contextlib.contextmanager
    def _any_session(self) -> Iterator[Any]:
        """The logged-in session, or a public read-only one for listing public objects."""
        if self._session is not None:
            yield self._session
            return
        with self._device():
            session = self._token.open()
        try:
            yield session
        finally:
            with contextlib.suppress(p11.PKCS11Error):
                session.close()

    def _require_work(self) -> Any:
        if self._session is None:
            raise NotLoggedIn()
        flags = self._flags()
        if self._user_pin_default or flags & CKF_USER_PIN_TO_BE_CHANGED:
            raise DefaultPinRefused("user")
        if flags & CKF_SO_PIN_TO_BE_CHANGED:
            raise DefaultPinRefused("admin")
        return self._session

    def _ensure_present(self) -> None:
        # Some modules (SoftHSM) answer an empty listing for a vanished token instead of an error.
        if self._module.find_raw(self.raw_serial) is None:
            raise TokenRemoved()

    # ----------------------------------------------------------------- Token protocol

    def info(self) -> TokenInfo:
        flags = self._flags()
        user_locked = bool(flags & CKF_USER_PIN_LOCKED)
        so_locked = bool(flags & CKF_SO_PIN_LOCKED)
        return TokenInfo(
            backend="pkcs11",
            model=self.model,
            serial=self.serial,
            label=self.label,
            manufacturer=self.manufacturer,
            pins=PinState(
                user_tries_left=0
                if user_locked
                else (1 if flags & CKF_USER_PIN_FINAL_TRY else None),
                admin_tries_left=0 if so_locked else (1 if flags & CKF_SO_PIN_FINAL_TRY else None),
                user_pin_default=True
                if (flags & CKF_USER_PIN_TO_BE_CHANGED or self._user_pin_default)
                else None,
                admin_pin_default=True if flags & CKF_SO_PIN_TO_BE_CHANGED else None,
                user_blocked=user_locked,
                admin_blocked=so_locked,
            ),
        )

    def login(self, user_pin: str) -> None:
        self.logout()
        with self._device("user"):
            self._session = self._token.open(rw=True, user_pin=user_pin)
        self._user_pin_default = is_default_pin("user", user_pin)

    def logout(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(p11.PKCS11Error):
                session.close()

    def close(self) -> None:
        self.logout()

    def __enter__(self) -> Pkcs11Token:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _key_info(self, public: Any) -> KeyInfo:
        key_type = int(public[Attribute.KEY_TYPE])
        if key_type == m.CKK_EC:
            spec = m.spec_from_attributes(key_type, public[Attribute.EC_PARAMS])
            raw = _ec_point(public[Attribute.EC_POINT])
        else:
            spec = m.spec_from_attributes(key_type, public[Attribute.GOSTR3410_PARAMS])
            raw = bytes(public[Attribute.VALUE])
        return KeyInfo(
            bytes(public[Attribute.ID]), public[Attribute.LABEL], spec, softkeys.spki(spec, raw)
        )

    def key_pairs(self) -> list[KeyInfo]:
        result = []
        with self._any_session() as session, self._device():
            for obj in session.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY}):
                try:
                    result.append(self._key_info(obj))
                except (TokenError, PkiError):
                    continue  # keys of other algorithms on a shared token are not ours to list
        self._ensure_present()
        return result

    def certificates(self) -> list[CertificateInfo]:
        result = []
        with self._any_session() as session, self._device():
            for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
                result.append(
                    CertificateInfo(
                        bytes(obj[Attribute.ID]), obj[Attribute.LABEL], bytes(obj[Attribute.VALUE])
                    )
                )
        self._ensure_present()
        return result

    def generate_key(self, spec: KeySpec, label: str, key_id: bytes | None = None) -> KeyInfo:
        session = self._require_work()
        key_id = key_id or secrets.token_bytes(16)
        plan = m.keygen_plan(spec, key_id, label)
        with self._device():
            public, _private = session.generate_keypair(
                KeyType(plan.key_type),
                mechanism=Mechanism(plan.mechanism),
                store=True,
                capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                id=key_id,
                label=label,
                public_template=_template(plan.public_template),
                private_template=_template(plan.private_template),
            )
            return self._key_info(public)

    def _private_key(self, session: Any, key_id: bytes) -> Any:
        with self._device():
            found = list(
                session.get_objects(
                    {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: key_id}
                )
            )
        if not found:
            self._ensure_present()
            raise KeyNotFound()
        return found[0]

    def signer(self, key_id: bytes) -> Pkcs11Signer:
        session = self._require_work()
        self._private_key(session, key_id)
        for key in self.key_pairs():
            if key.id == key_id:
                return Pkcs11Signer(self, key)
        raise KeyNotFound()

    def _sign_digest(self, key: KeyInfo, digest: bytes) -> bytes:
        session = self._require_work()
        plan = m.keygen_plan(key.spec, key.id, key.label)
        private = self._private_key(session, key.id)
        with self._device():
            raw = bytes(private.sign(digest, mechanism=Mechanism(plan.raw_sign_mechanism)))
        if key.spec.family == "ecdsa-p256":
            half = len(raw) // 2
            return encode_dss_signature(
                int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
            )
        return raw  # s || r big-endian (PKCS#11 GOST convention; unconfirmed on a device here)

    def import_certificate(
        self, der: bytes, label: str | None = None, key_id: bytes | None = None
    ) -> CertificateInfo:
        session = self._require_work()
        try:
            cert = asn1_x509.Certificate.load(der)
            tbs = cert["tbs_certificate"]
            _, raw = decode_public_key_info(tbs["subject_public_key_info"].dump())
            subject_text = cert.subject.human_friendly
        except (ValueError, PkiError) as exc:
            raise CertificateMismatch("Файл не является поддерживаемым сертификатом X.509") from exc
        match = None
        for key in self.key_pairs():
            if decode_public_key_info(key.public_key_info)[1] == raw:
                match = key
        if match is None or (key_id is not None and match.id != key_id):
            raise CertificateMismatch()
        label = label or subject_text or match.label
        with self._device():
            for old in session.get_objects(
                {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.ID: match.id}
            ):
                old.destroy()
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: False,
                    Attribute.ID: match.id,
                    Attribute.LABEL: label,
                    Attribute.SUBJECT: tbs["subject"].dump(),
                    Attribute.ISSUER: tbs["issuer"].dump(),
                    Attribute.SERIAL_NUMBER: tbs["serial_number"].dump(),
                    Attribute.VALUE: bytes(der),
                }
            )
        return CertificateInfo(match.id, label, bytes(der))

    def delete(self, object_id: bytes) -> None:
        session = self._require_work()
        with self._device():
            objects = list(session.get_objects({Attribute.ID: object_id}))
            for obj in objects:
                obj.destroy()
        if not objects:
            self._ensure_present()
            raise ObjectNotFound()

    def change_user_pin(self, old_pin: str, new_pin: str) -> None:
        self.policy.check("user", new_pin)
        if self._session is None:
            self.login(old_pin)
        with self._device("user"):
            self._session.set_pin(old_pin, new_pin)
        self._user_pin_default = False

    def change_admin_pin(self, old_pin: str, new_pin: str) -> None:
        self.policy.check("admin", new_pin)
        self.logout()  # C_Login as SO needs no user logged in
        with self._device("admin"), self._token.open(rw=True, so_pin=old_pin) as session:
            session.set_pin(old_pin, new_pin)

    def unblock_user_pin(self, admin_pin: str, new_user_pin: str) -> None:
        self.policy.check("user", new_user_pin, admin_pin)
        self.logout()
        with self._device("admin"), self._token.open(rw=True, so_pin=admin_pin) as session:
            session.init_pin(new_user_pin)


def _ec_point(value: bytes) -> bytes:
    """CKA_EC_POINT is a DER OCTET STRING per the standard; some modules give the bare point."""
    value = bytes(value)
    if len(value) == 65 and value[0] == 4:
        return value
    return bytes(OctetString.load(value).native)


class Pkcs11Signer:
    """A :class:`~bankkeys.pki.signer.Signer` for one key on a PKCS#11 token."""

    def __init__(self, token: Pkcs11Token, key: KeyInfo) -> None:
        self._token = token
        self._key = key

    @property
    def key_id(self) -> bytes:
        return self._key.id

    @property
    def key_spec(self) -> KeySpec:
        return self._key.spec

    @property
    def public_key_info(self) -> bytes:
        return self._key.public_key_info

    def sign(self, data: bytes) -> bytes:
        return self.sign_digest(softkeys.digest(self._key.spec, data))

    def sign_digest(self, digest: bytes) -> bytes:
        alg = softkeys.check(self._key.spec)
        if len(digest) != alg.digest_size:
            raise UnsupportedKeySpec(f"Длина хэша {len(digest)} байт не подходит для ключа")
        return self._token._sign_digest(self._key, digest)
